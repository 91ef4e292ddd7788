package io.shardring.router.jdbc;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.ring.RingNode;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Where reads of each arc may go in one topology: built with the routing snapshot, read without locks. With
 * ring.replicationFactor R >= 2 every arc has its primary, its R-1 secondary stores in preference order and its
 * primary's standbys; with R = 1 only the primary and its standbys.
 */
final class ReplicaTargets {
    final long version;
    final ReplicaLayout layout;
    final Map<String, NodePool> primaries;
    final Map<String, NodePool> stores;
    private final HashRing ring;
    private final ReadTarget[][] byArc;
    private final IdentityHashMap<RingNode, ReadTarget[]> byNode = new IdentityHashMap<>();
    /** Every copy's lag: by secondary store node, then primary; and the standbys'. */
    final Map<String, Map<String, CopyLag>> storeLinks = new LinkedHashMap<>();
    final IdentityHashMap<NodePool, CopyLag> standbyLags = new IdentityHashMap<>();
    final Map<String, List<CopyLag>> lagsByPrimary = new HashMap<>();

    /**
     * @param lags the router's lag of each copy by key, kept across topologies so that a switch does not forget
     *     what was sampled
     */
    ReplicaTargets(Topology topology, Map<String, NodePool> primaries, Map<String, NodePool> stores,
            Map<String, List<NodePool>> standbys, BiFunction<String, String, CopyLag> lags) {
        this.version = topology.version();
        this.primaries = primaries;
        this.stores = stores;
        this.ring = topology.ring();
        int r = topology.ringSettings().replicationFactor();
        this.layout = r >= 2 ? ReplicaLayout.of(ring, r) : null;
        Map<String, ReadTarget> primaryTargets = new HashMap<>();
        Map<String, List<ReadTarget>> standbyTargets = new HashMap<>();
        for (NodeConfig n : topology.nodes().values()) {
            primaryTargets.put(n.id(), new ReadTarget(ReadTarget.Kind.PRIMARY, primaries.get(n.id()), n.id(), n.zone(),
                    null));
            List<ReadTarget> list = new ArrayList<>();
            for (NodePool sb : standbys.getOrDefault(n.id(), List.of())) {
                CopyLag lag = lags.apply("standby " + sb.poolName(), n.id());
                standbyLags.put(sb, lag);
                lagsByPrimary.computeIfAbsent(n.id(), k -> new ArrayList<>()).add(lag);
                list.add(new ReadTarget(ReadTarget.Kind.STANDBY, sb, n.id(), n.zone(), lag));
            }
            standbyTargets.put(n.id(), list);
        }
        if (layout == null) {
            byArc = null;
            for (RingNode rn : ring.nodes()) {
                List<ReadTarget> t = new ArrayList<>();
                t.add(primaryTargets.get(rn.id()));
                t.addAll(standbyTargets.get(rn.id()));
                byNode.put(rn, t.toArray(new ReadTarget[0]));
            }
            return;
        }
        Map<String, ReadTarget> storeTargets = new HashMap<>();
        for (ReplicaLayout.Link link : layout.links()) {
            CopyLag lag = lags.apply("store " + link.primary() + ">" + link.secondary(), link.primary());
            storeLinks.computeIfAbsent(link.secondary(), k -> new LinkedHashMap<>()).put(link.primary(), lag);
            lagsByPrimary.computeIfAbsent(link.primary(), k -> new ArrayList<>()).add(lag);
            NodeConfig sec = topology.node(link.secondary());
            storeTargets.put(link.primary() + ">" + link.secondary(), new ReadTarget(ReadTarget.Kind.SECONDARY_STORE,
                    stores.get(link.secondary()), link.secondary(), sec.zone(), lag));
        }
        List<ReplicaLayout.Arc> arcs = layout.arcs();
        byArc = new ReadTarget[arcs.size()][];
        Map<List<RingNode>, ReadTarget[]> shared = new HashMap<>();
        for (int i = 0; i < byArc.length; i++) {
            byArc[i] = shared.computeIfAbsent(arcs.get(i).nodes(), nodes -> {
                List<ReadTarget> t = new ArrayList<>();
                String p = nodes.get(0).id();
                t.add(primaryTargets.get(p));
                for (int k = 1; k < nodes.size(); k++) {
                    t.add(storeTargets.get(p + ">" + nodes.get(k).id()));
                }
                t.addAll(standbyTargets.get(p));
                return t.toArray(new ReadTarget[0]);
            });
        }
    }

    /** The targets of a key: the primary first, then its copies in preference order. Allocates nothing. */
    ReadTarget[] forKey(Object key) {
        if (layout == null) {
            return byNode.get(ring.route(key));
        }
        return byArc[layout.arcIndexForHash(ring.keyType().hash(key))];
    }

    /** The targets of every arc, in arc order, with the arc's hash intervals: {@link #layout}'s, or per node at R = 1. */
    void forEachArc(java.util.function.BiConsumer<ReadTarget[], List<long[]>> each) {
        if (layout == null) {
            for (RingNode rn : ring.nodes()) {
                each.accept(byNode.get(rn), HashIntervals.of(ring.rangesOf(rn.id())));
            }
            return;
        }
        List<ReplicaLayout.Arc> arcs = layout.arcs();
        for (int i = 0; i < byArc.length; i++) {
            each.accept(byArc[i], HashIntervals.of(List.of(arcs.get(i).range())));
        }
    }

    boolean monitored() {
        return layout != null || !standbyLags.isEmpty();
    }
}
