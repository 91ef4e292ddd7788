package io.shardring.router.jdbc;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.RingNode;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologySource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each shard key through the ring to its node's HikariCP pool.
 *
 * <pre>{@code
 * ShardedDataSource shards = ShardedDataSource.builder(topology).meterRegistry(registry).build();
 * DataSource ds = shards.forKey(tenantId);                       // the key's primary shard
 * long n = shards.inTransaction(tenantId, c -> insertOrder(c));   // commit, rollback, one retry if stale
 * Map<String, ShardResult<Long>> counts = shards.onAllShards(c -> count(c));
 * }</pre>
 *
 * <p>Routing is a ring lookup and an identity-map read of an immutable snapshot: no lock, no
 * allocation. A topology change builds a new snapshot and swaps it in; pools of nodes that left are
 * closed once their borrowed connections are back.
 */
public final class ShardedDataSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedDataSource.class);

    /** An immutable routing snapshot. */
    private static final class State {
        final Topology topology;
        final IdentityHashMap<RingNode, NodePool> byRingNode;
        final Map<String, NodePool> primaries;
        final Map<String, List<NodePool>> standbys;

        State(Topology topology, Map<String, NodePool> primaries, Map<String, List<NodePool>> standbys) {
            this.topology = topology;
            this.primaries = Collections.unmodifiableMap(primaries);
            this.standbys = Collections.unmodifiableMap(standbys);
            this.byRingNode = new IdentityHashMap<>();
            for (RingNode n : topology.ring().nodes()) {
                byRingNode.put(n, primaries.get(n.id()));
            }
        }
    }

    private final TopologySource source;
    private final RouterSettings settings;
    private final RouterMetrics metrics;
    private final Function<String, String> env;
    private final ExecutorService fanOut;
    private final ExecutorService drainer;
    private final DataSource contextBound = new ContextBoundDataSource(this);
    private volatile State state;
    private volatile boolean closed;

    private ShardedDataSource(Builder b) {
        this.source = b.source != null ? b.source : TopologySource.of(b.topology);
        this.settings = b.settings;
        this.metrics = new RouterMetrics(b.registry);
        this.env = b.env;
        this.fanOut = Executors.newFixedThreadPool(settings.fanOutThreads(), daemon("shardring-fanout"));
        this.drainer = Executors.newCachedThreadPool(daemon("shardring-drain"));
        Map<String, NodePool> primaries = new LinkedHashMap<>();
        Map<String, List<NodePool>> standbys = new LinkedHashMap<>();
        try {
            for (NodeConfig n : b.topology.nodes().values()) {
                openPools(n, primaries, standbys, Map.of(), Map.of());
            }
        } catch (RuntimeException e) {
            primaries.values().forEach(NodePool::close);
            standbys.values().forEach(l -> l.forEach(NodePool::close));
            fanOut.shutdownNow();
            drainer.shutdownNow();
            throw e;
        }
        this.state = new State(b.topology, primaries, standbys);
        metrics.topology(b.topology);
        if (b.probe) {
            probeAll(b.topology);
        }
        LOG.info("shardring router started: topology version {}, {} nodes {}", b.topology.version(),
                primaries.size(), primaries.keySet());
    }

    public static Builder builder(Topology topology) {
        return new Builder(topology);
    }

    public static Builder builder(ShardringConfig config) {
        return new Builder(config.topology()).settings(config.router());
    }

    // ---- routing ----

    /** The data source of the key's primary shard. */
    public DataSource forKey(Object key) {
        State s = state;
        return s.byRingNode.get(s.topology.ring().route(key));
    }

    public DataSource forKey(long key) {
        State s = state;
        return s.byRingNode.get(s.topology.ring().route(key));
    }

    public DataSource forKey(CharSequence key) {
        State s = state;
        return s.byRingNode.get(s.topology.ring().route(key));
    }

    public DataSource forKey(UUID key) {
        State s = state;
        return s.byRingNode.get(s.topology.ring().route(key));
    }

    /** The data source for a read of the key, by preference between the primary and its standbys. */
    public DataSource forKey(Object key, ReadPreference preference) {
        State s = state;
        NodePool primary = s.byRingNode.get(s.topology.ring().route(key));
        if (preference == ReadPreference.PRIMARY) {
            return primary;
        }
        List<NodePool> standbys = s.standbys.getOrDefault(primary.nodeId(), List.of());
        NodePool standby = null;
        for (NodePool p : standbys) {
            if (!p.isDown()) {
                standby = p;
                break;
            }
        }
        switch (preference) {
            case PRIMARY_PREFERRED:
                return primary.isDown() && standby != null ? standby : primary;
            case SECONDARY:
                if (standby == null) {
                    metrics.unavailable.increment();
                    throw new ShardUnavailableException(primary.nodeId(), "node " + primary.nodeId() + " has "
                            + (standbys.isEmpty() ? "no standbys configured" : "no standby up")
                            + " for a SECONDARY read; use SECONDARY_PREFERRED to fall back to the primary", null);
                }
                return standby;
            default:
                return standby != null ? standby : primary;
        }
    }

    /** A connection to the key's primary shard, in auto-commit mode; the caller closes it. */
    public Connection getConnection(Object key) throws SQLException {
        return forKey(key).getConnection();
    }

    /** The node that owns the key in the current topology. */
    public String nodeFor(Object key) {
        return state.topology.ring().route(key).id();
    }

    /**
     * Runs {@code work} in a transaction on the key's shard: commits on return, rolls back on any
     * exception. When the shard rejects a write because it no longer owns the key, refreshes the topology
     * from its source and runs the work once more on the new owner. SQL errors come back as
     * {@link ShardringException} with the SQLSTATE kept in the cause.
     */
    public <T> T inTransaction(Object key, SqlWork<T> work) {
        for (int attempt = 0; ; attempt++) {
            State s = state;
            NodePool pool = s.byRingNode.get(s.topology.ring().route(key));
            try {
                return runInTransaction(pool, work);
            } catch (SQLException | RuntimeException e) {
                if (StaleTopologyException.isCause(e)) {
                    metrics.stale.increment();
                    if (attempt == 0) {
                        long before = s.topology.version();
                        if (state == s) { // another thread may have refreshed already
                            refresh();
                        }
                        LOG.info("shard {} no longer owns a key at topology version {}; refreshed to version {} and"
                                + " retrying", pool.nodeId(), before, state.topology.version());
                        continue;
                    }
                    throw new StaleTopologyException("shard " + pool.nodeId() + " rejected the write: it does not own"
                            + " the key, even after refreshing to topology version " + state.topology.version()
                            + "; the topology source is behind the shards' ownership", e);
                }
                if (e instanceof ShardringException) {
                    throw (ShardringException) e;
                }
                if (e instanceof RuntimeException && !hasSqlCause(e)) {
                    throw (RuntimeException) e; // the application's own exception, as it threw it
                }
                // SQL errors, also when a framework such as jOOQ wrapped them: one type, naming the shard
                metrics.sqlErrors.increment();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "transaction on shard " + pool.nodeId()
                        + " failed: " + e.getMessage(), e);
            }
        }
    }

    private static boolean hasSqlCause(Throwable e) {
        for (Throwable c = e; c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof SQLException) {
                return true;
            }
        }
        return false;
    }

    private static <T> T runInTransaction(NodePool pool, SqlWork<T> work) throws SQLException {
        try (Connection c = pool.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            if (autoCommit) {
                c.setAutoCommit(false);
            }
            try {
                T result = work.apply(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                if (autoCommit) {
                    c.setAutoCommit(true);
                }
            }
        }
    }

    /** Keys grouped by owning node id, each group in input order; for batched statements per shard. */
    public <K> Map<String, List<K>> groupByShard(Collection<K> keys) {
        Map<String, List<K>> out = new LinkedHashMap<>();
        state.topology.ring().groupByNode(keys).forEach((node, ks) -> out.put(node.id(), ks));
        return out;
    }

    /**
     * Runs {@code work} on every node's primary in parallel (auto-commit connections) and returns each
     * node's value or error, by node id in topology order. One shard's failure does not stop the others.
     */
    public <T> Map<String, ShardResult<T>> onAllShards(SqlWork<T> work) {
        State s = state;
        Map<String, Future<T>> futures = new LinkedHashMap<>();
        for (NodePool pool : s.primaries.values()) {
            futures.put(pool.nodeId(), fanOut.submit(() -> {
                try (Connection c = pool.getConnection()) {
                    return work.apply(c);
                }
            }));
        }
        Map<String, ShardResult<T>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Future<T>> e : futures.entrySet()) {
            String node = e.getKey();
            try {
                out.put(node, new ShardResult<>(node, e.getValue().get(), null));
            } catch (ExecutionException ex) {
                Throwable cause = ex.getCause();
                ShardringException err = cause instanceof ShardringException ? (ShardringException) cause
                        : new ShardringException(ErrorCode.SHARD_ERROR, "on shard " + node + ": " + cause.getMessage(),
                                cause);
                out.put(node, new ShardResult<>(node, null, err));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting for shard " + node, ex);
            }
        }
        return out;
    }

    /**
     * A data source for frameworks that call {@code getConnection()} without a key: it routes by the key
     * bound with {@link ShardContext#runWithKey} and fails clearly when none is bound.
     */
    public DataSource contextBound() {
        return contextBound;
    }

    // ---- topology ----

    public Topology topology() {
        return state.topology;
    }

    /** Whether a node's primary is currently marked down. */
    public boolean isDown(String nodeId) {
        NodePool p = state.primaries.get(nodeId);
        return p != null && p.isDown();
    }

    /** The primary pool of a node, e.g. to run maintenance there. */
    public DataSource node(String nodeId) {
        NodePool p = state.primaries.get(nodeId);
        if (p == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "unknown node '" + nodeId + "'; topology version "
                    + state.topology.version() + " has " + state.primaries.keySet());
        }
        return p;
    }

    /** Loads the topology source and switches to it if it is a newer version. Returns the version in use. */
    public synchronized long refresh() {
        Topology next = source.load();
        if (next.version() > state.topology.version()) {
            apply(next);
        }
        return state.topology.version();
    }

    /**
     * Switches to {@code next}: opens pools for new or changed nodes, keeps the others, and closes the
     * pools of nodes that left once their borrowed connections are back.
     */
    public synchronized void apply(Topology next) {
        if (closed) {
            throw new ShardringException(ErrorCode.CLOSED, "the router is closed");
        }
        State old = state;
        if (next.ring().keyType() != old.topology.ring().keyType()) {
            throw new io.shardring.router.ConfigurationException("topology version " + next.version()
                    + " changes the key type from " + old.topology.ring().keyType() + " to "
                    + next.ring().keyType() + "; a cluster's key type never changes");
        }
        Map<String, NodePool> primaries = new LinkedHashMap<>();
        Map<String, List<NodePool>> standbys = new LinkedHashMap<>();
        List<NodePool> opened = new ArrayList<>();
        try {
            for (NodeConfig n : next.nodes().values()) {
                opened.addAll(openPools(n, primaries, standbys, old.primaries, old.standbys));
            }
        } catch (RuntimeException e) {
            opened.forEach(NodePool::close);
            throw e;
        }
        state = new State(next, primaries, standbys);
        metrics.topology(next);
        List<NodePool> retired = new ArrayList<>();
        old.primaries.values().stream().filter(p -> primaries.get(p.nodeId()) != p).forEach(retired::add);
        old.standbys.values().forEach(l -> l.stream()
                .filter(p -> !standbys.getOrDefault(p.nodeId(), List.of()).contains(p)).forEach(retired::add));
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
                next.version(), primaries.keySet(), retired.size());
    }

    private List<NodePool> openPools(NodeConfig n, Map<String, NodePool> primaries,
            Map<String, List<NodePool>> standbys, Map<String, NodePool> oldPrimaries,
            Map<String, List<NodePool>> oldStandbys) {
        List<NodePool> opened = new ArrayList<>();
        long backoff = settings.downBackoff().toNanos();
        NodePool existing = oldPrimaries.get(n.id());
        if (existing != null && existing.fingerprint().equals(NodePool.fingerprint(n, n.jdbcUrl()))) {
            primaries.put(n.id(), existing);
        } else {
            NodePool p = new NodePool(n.id(), n, n.jdbcUrl(), false, backoff, metrics, env);
            primaries.put(n.id(), p);
            opened.add(p);
        }
        List<NodePool> list = new ArrayList<>();
        List<NodePool> oldList = oldStandbys.getOrDefault(n.id(), List.of());
        for (int i = 0; i < n.standbys().size(); i++) {
            String url = n.standbys().get(i);
            String fp = NodePool.fingerprint(n, url);
            NodePool keep = oldList.stream().filter(p -> p.fingerprint().equals(fp)).findFirst().orElse(null);
            if (keep == null) {
                keep = new NodePool(n.id() + "-standby-" + i, n, url, true, backoff, metrics, env);
                opened.add(keep);
            }
            list.add(keep);
        }
        standbys.put(n.id(), Collections.unmodifiableList(list));
        return opened;
    }

    private void probeAll(Topology topology) {
        List<Future<?>> probes = new ArrayList<>();
        State s = state;
        for (NodeConfig n : topology.nodes().values()) {
            int seconds = (int) Math.max(1, Math.min(5, n.pool().connectionTimeout().toSeconds()));
            probes.add(fanOut.submit(() -> s.primaries.get(n.id()).probe(n, n.jdbcUrl(), env, seconds)));
        }
        for (Future<?> f : probes) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                LOG.warn("start-up probe failed: {}", NodePool.safeMessage(e));
            }
        }
    }

    void noKeyBound() {
        metrics.noKey.increment();
    }

    /** Closes every pool at once (borrowed connections are closed by HikariCP). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        fanOut.shutdownNow();
        drainer.shutdownNow();
        State s = state;
        s.primaries.values().forEach(NodePool::close);
        s.standbys.values().forEach(l -> l.forEach(NodePool::close));
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String toString() {
        State s = state;
        return "ShardedDataSource(topology version " + s.topology.version() + ", nodes " + s.primaries.keySet() + ")";
    }

    /** Configures a router; everything has a default except the topology. */
    public static final class Builder {
        private final Topology topology;
        private TopologySource source;
        private RouterSettings settings = RouterSettings.DEFAULTS;
        private MeterRegistry registry = Metrics.globalRegistry;
        private Function<String, String> env = System::getenv;
        private boolean probe = true;

        private Builder(Topology topology) {
            if (topology == null) {
                throw new io.shardring.router.ConfigurationException("topology is null; load one from YAML or build"
                        + " it with Topology.builder()");
            }
            this.topology = topology;
        }

        /** Where {@link #refresh()} looks for newer topology versions; defaults to the initial topology only. */
        public Builder topologySource(TopologySource source) {
            this.source = source;
            return this;
        }

        public Builder settings(RouterSettings settings) {
            this.settings = settings == null ? RouterSettings.DEFAULTS : settings;
            return this;
        }

        /** Defaults to Micrometer's global registry. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** How {@code ${VAR}} password references are resolved; defaults to the process environment. */
        public Builder environment(Function<String, String> env) {
            this.env = env;
            return this;
        }

        /** Whether start-up tries one connection per node to mark unreachable nodes down (default true). */
        public Builder probeOnStart(boolean probe) {
            this.probe = probe;
            return this;
        }

        public ShardedDataSource build() {
            return new ShardedDataSource(this);
        }
    }
}
