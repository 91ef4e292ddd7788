package io.shardring.router.jdbc;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens, keeps and retires the router's pools. It builds the {@link Snapshot} of a topology, keeping the pools of
 * nodes whose connection settings did not change and taking those opened ahead for a running move's new nodes; drains
 * and closes the pools a new topology no longer has once their borrowed connections are back; and keeps the pool that
 * writes the reference tables. It knows nothing of routing: the router swaps the snapshots it builds.
 */
final class PoolSet {
    private static final Logger LOG = LoggerFactory.getLogger(PoolSet.class);

    private final RouterSettings settings;
    private final RouterMetrics metrics;
    private final Function<String, String> env;
    /** Where pools are warmed up, drained and closed, off the caller's thread. */
    private final ExecutorService drainer;
    /** Pools opened ahead for nodes a running move brings in; adopted by the topology that adds them. */
    private final Map<String, NodePool> prepared = new LinkedHashMap<>();
    /** Every copy's sampled lag, kept across topology versions. */
    private final Map<String, CopyLag> lags = new ConcurrentHashMap<>();
    private volatile ReferencePool referencePool;
    private boolean closed;

    private record ReferencePool(String nodeId, long topologyVersion, NodePool pool) {
    }

    PoolSet(RouterSettings settings, RouterMetrics metrics, Function<String, String> env, ExecutorService drainer) {
        this.settings = settings;
        this.metrics = metrics;
        this.env = env;
        this.drainer = drainer;
    }

    /** The first snapshot: every pool of {@code topology} opened, or none left open when one cannot be. */
    synchronized Snapshot open(Topology topology) {
        return build(topology, null, new ArrayList<>());
    }

    /**
     * The snapshot of {@code next}: pools for new or changed nodes opened, the others kept; {@code old}'s pools that
     * it does not keep are drained and closed in the background (their meters removed when the node left).
     */
    synchronized Snapshot switchTo(Snapshot old, Topology next) {
        if (next.ring().keyType() != old.topology.ring().keyType()) {
            throw new ConfigurationException("topology version " + next.version() + " changes the key type from "
                    + old.topology.ring().keyType() + " to " + next.ring().keyType()
                    + "; a cluster's key type never changes");
        }
        Snapshot built = build(next, old, new ArrayList<>());
        Set<NodePool> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(built.allPools());
        List<NodePool> retired = new ArrayList<>();
        old.allPools().stream().filter(p -> !kept.contains(p)).forEach(retired::add);
        long drainNanos = settings.drainTimeout().toNanos();
        for (NodePool p : retired) {
            boolean gone = !next.nodes().containsKey(p.nodeId());
            drainer.execute(() -> {
                p.drainAndClose(drainNanos);
                if (gone) {
                    p.removeMeters();
                }
            });
        }
        LOG.info("shardring topology version {} -> {}: nodes {}, {} pools retired", old.topology.version(),
                next.version(), built.primaries.keySet(), retired.size());
        return built;
    }

    private Snapshot build(Topology t, Snapshot old, List<NodePool> opened) {
        Map<String, NodePool> primaries = new LinkedHashMap<>();
        Map<String, List<NodePool>> standbys = new LinkedHashMap<>();
        Map<String, NodePool> stores = new LinkedHashMap<>();
        try {
            boolean replicated = t.ringSettings().replicationFactor() >= 2;
            for (NodeConfig n : t.nodes().values()) {
                openPools(settings.connectAs(n), replicated, primaries, standbys, stores, old, opened);
            }
            return new Snapshot(t, primaries, standbys, stores, this::lag);
        } catch (RuntimeException e) {
            opened.forEach(NodePool::close);
            throw e;
        }
    }

    /** Opens the pools of node {@code n} that {@code old} (null at start) does not have with the same settings. */
    private void openPools(NodeConfig n, boolean replicated, Map<String, NodePool> primaries,
            Map<String, List<NodePool>> standbys, Map<String, NodePool> stores, Snapshot old, List<NodePool> opened) {
        NodePool existing = old == null ? null : old.primaries.get(n.id());
        String fingerprint = NodePool.fingerprint(n, n.jdbcUrl());
        NodePool ready = prepared.get(n.id());
        if (existing != null && existing.fingerprint().equals(fingerprint)) {
            primaries.put(n.id(), existing);
        } else if (ready != null && ready.fingerprint().equals(fingerprint)) {
            prepared.remove(n.id()); // opened while the move that brings this node ran: connections are ready
            primaries.put(n.id(), ready);
        } else {
            primaries.put(n.id(), opened(newPool(n.id(), n, n.jdbcUrl(), false), opened));
        }
        List<NodePool> list = new ArrayList<>();
        List<NodePool> oldList = old == null ? List.of() : old.standbys.getOrDefault(n.id(), List.of());
        for (int i = 0; i < n.standbys().size(); i++) {
            String url = n.standbys().get(i);
            String fp = NodePool.fingerprint(n, url);
            NodePool keep = oldList.stream().filter(p -> p.fingerprint().equals(fp)).findFirst().orElse(null);
            list.add(keep != null ? keep : opened(newPool(n.id() + "-standby-" + i, n, url, true), opened));
        }
        standbys.put(n.id(), Collections.unmodifiableList(list));
        if (replicated) {
            NodeConfig store = n.secondaryStore(); // a logical copy: not fenced by the node's epoch
            NodePool keep = old == null ? null : old.stores.get(n.id());
            if (keep == null || !keep.fingerprint().equals(NodePool.fingerprint(store, store.jdbcUrl()))) {
                keep = opened(newPool(n.id() + "-secondary", store, store.jdbcUrl(), true), opened);
            }
            stores.put(n.id(), keep);
        }
    }

    private static NodePool opened(NodePool p, List<NodePool> opened) {
        opened.add(p);
        return p;
    }

    private NodePool newPool(String name, NodeConfig n, String url, boolean readOnly) {
        return new NodePool(name, n, url, readOnly, settings.downBackoff().toNanos(), metrics, env);
    }

    /** The lag record of one copy, created on first use with its gauge. */
    private CopyLag lag(String copy, String primary) {
        return lags.computeIfAbsent(copy, k -> {
            CopyLag lag = new CopyLag(primary, k);
            metrics.copyLag(lag);
            return lag;
        });
    }

    /**
     * Opens pools ahead of time for nodes that a running move will bring into the topology, and closes those
     * prepared for a move that is over: the first unit of work on such a node after the cutover then finds connections
     * ready instead of waiting for the first one to be made. Returns why a node's pool could not be opened, by node id.
     */
    synchronized Map<String, String> prepare(Snapshot current, Collection<NodeConfig> upcoming) {
        if (closed) {
            return Map.of();
        }
        Map<String, NodeConfig> wanted = new LinkedHashMap<>();
        for (NodeConfig node : upcoming) {
            NodeConfig n = settings.connectAs(node);
            NodePool pool = current.primaries.get(n.id());
            if (pool == null || !pool.fingerprint().equals(NodePool.fingerprint(n, n.jdbcUrl()))) {
                wanted.put(n.id(), n);
            }
        }
        for (String id : new ArrayList<>(prepared.keySet())) {
            NodeConfig n = wanted.get(id);
            if (n == null || !prepared.get(id).fingerprint().equals(NodePool.fingerprint(n, n.jdbcUrl()))) {
                NodePool gone = prepared.remove(id);
                drainer.execute(gone::close);
            }
        }
        Map<String, String> failed = new LinkedHashMap<>();
        for (NodeConfig n : wanted.values()) {
            if (!prepared.containsKey(n.id())) {
                try {
                    NodePool p = newPool(n.id(), n, n.jdbcUrl(), false);
                    prepared.put(n.id(), p);
                    drainer.execute(p::warmUp);
                } catch (RuntimeException e) {
                    failed.put(n.id(), String.valueOf(e.getMessage()));
                }
            }
        }
        return failed;
    }

    /** The pool that writes the reference tables of {@code t}: opened on first use, kept while its node is. */
    DataSource reference(Topology t) {
        ReferencePool r = referencePool;
        String node = t.referenceNode();
        if (r != null && r.nodeId.equals(node) && r.topologyVersion == t.version()) {
            return r.pool;
        }
        return referencePool(t);
    }

    private synchronized DataSource referencePool(Topology t) {
        if (closed) {
            throw new ShardringException(ErrorCode.CLOSED, "the router is closed");
        }
        String node = t.referenceNode();
        if (node == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "topology version " + t.version()
                    + " has no reference tables; list them under reference.tables in the configuration");
        }
        ReferencePool r = referencePool;
        NodeConfig n = settings.connectAs(t.node(node)); // the application's role, as for the tenants' pools
        if (r != null && r.nodeId.equals(node) && r.pool.fingerprint().equals(NodePool.fingerprint(n, n.jdbcUrl()))) {
            referencePool = new ReferencePool(node, t.version(), r.pool);
            return r.pool;
        }
        NodePool pool = new NodePool(n.id() + "-reference", n, n.jdbcUrl(), false, settings.downBackoff().toNanos(),
                metrics, env, "SET shardring.reference_writer TO on");
        referencePool = new ReferencePool(node, t.version(), pool);
        if (r != null) {
            drainer.execute(r.pool::close); // the node or its settings changed: the old pool's borrowers finish first
        }
        return pool;
    }

    /** Closes every pool at once, the prepared and reference ones too (borrowed connections are closed by HikariCP). */
    synchronized void close(Snapshot current) {
        closed = true;
        prepared.values().forEach(NodePool::close);
        prepared.clear();
        current.allPools().forEach(NodePool::close);
        ReferencePool r = referencePool;
        if (r != null) {
            r.pool.close();
        }
    }
}
