package io.shardring.router.jdbc;

import io.shardring.router.ring.RingNode;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * What the router routes by: one topology and the pools that serve it, never changed once built. A change of topology
 * builds a new snapshot ({@link PoolSet}) and swaps the reference, so a lookup is a ring lookup and an identity-map
 * read: no lock, no allocation.
 */
final class Snapshot {
    final Topology topology;
    final IdentityHashMap<RingNode, NodePool> byRingNode;
    final Map<String, NodePool> primaries;
    final Map<String, List<NodePool>> standbys;
    /** Secondary stores by node, when ring.replicationFactor >= 2. */
    final Map<String, NodePool> stores;
    final ReplicaTargets targets;

    Snapshot(Topology topology, Map<String, NodePool> primaries, Map<String, List<NodePool>> standbys,
            Map<String, NodePool> stores, BiFunction<String, String, CopyLag> lags) {
        this.topology = topology;
        this.primaries = Collections.unmodifiableMap(primaries);
        this.standbys = Collections.unmodifiableMap(standbys);
        this.stores = Collections.unmodifiableMap(stores);
        this.byRingNode = new IdentityHashMap<>();
        for (RingNode n : topology.ring().nodes()) {
            byRingNode.put(n, primaries.get(n.id()));
        }
        this.targets = new ReplicaTargets(topology, this.primaries, this.stores, this.standbys, lags);
    }

    /** The pool of the key's primary. */
    NodePool owner(Object key) {
        return byRingNode.get(topology.ring().route(key));
    }

    NodePool owner(long key) {
        return byRingNode.get(topology.ring().route(key));
    }

    NodePool owner(CharSequence key) {
        return byRingNode.get(topology.ring().route(key));
    }

    NodePool owner(UUID key) {
        return byRingNode.get(topology.ring().route(key));
    }

    List<NodePool> allPools() {
        List<NodePool> all = new ArrayList<>(primaries.values());
        standbys.values().forEach(all::addAll);
        all.addAll(stores.values());
        return all;
    }
}
