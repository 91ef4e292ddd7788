package io.shardring.router.jdbc;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.Failures;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.RingNode;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.CatalogWatcher;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologyFollower;
import io.shardring.router.topology.TopologySource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each shard key through the ring to its node's HikariCP pool.
 *
 * <pre>{@code
 * ShardedDataSource shards = ShardedDataSource.builder(topology).meterRegistry(registry).build();
 * DataSource ds = shards.forKey(tenantId);                       // the key's primary shard
 * long n = shards.inTransaction(tenantId, c -> insertOrder(c));   // commit, rollback, retried if stale
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
        /** Secondary stores by node, when ring.replicationFactor >= 2. */
        final Map<String, NodePool> stores;
        final ReplicaTargets targets;

        State(Topology topology, Map<String, NodePool> primaries, Map<String, List<NodePool>> standbys,
                Map<String, NodePool> stores, java.util.function.BiFunction<String, String, CopyLag> lags) {
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

        List<NodePool> allPools() {
            List<NodePool> all = new ArrayList<>(primaries.values());
            standbys.values().forEach(all::addAll);
            all.addAll(stores.values());
            return all;
        }
    }

    private final TopologySource source;
    private final RouterSettings settings;
    private final RouterMetrics metrics;
    private final ReadChoice reads;
    private final CutoverWait cutovers;
    private final Function<String, String> env;
    private final ExecutorService fanOutThreads;
    private final FanOut fan;
    private final ExecutorService drainer;
    private final DataSource contextBound = new ContextBoundDataSource(this);
    /** The catalog this router follows, or null; and the pool to it when this router opened it. */
    private final DataSource catalog;
    private final AutoCloseable ownedCatalogPool;
    private volatile CatalogWatcher watcher;
    /** Pools opened ahead for nodes a running move brings in; adopted by the topology that adds them. */
    private final Map<String, NodePool> prepared = new LinkedHashMap<>();
    private volatile State state;
    private volatile boolean closed;
    private volatile ReferencePool referencePool;
    /** Every copy's sampled lag, kept across topology versions. */
    private final Map<String, CopyLag> lags = new java.util.concurrent.ConcurrentHashMap<>();
    private final ReplicaMonitor monitor;
    /** New keys from the catalog's key sequence; null for a router that does not follow a catalog. */
    private final KeyAllocator keys;

    private ShardedDataSource(Builder b) {
        this.settings = b.settings;
        this.metrics = new RouterMetrics(b.registry);
        this.reads = new ReadChoice(settings.zone(), metrics);
        this.cutovers = new CutoverWait(new Routed(), settings, metrics);
        this.env = b.env;
        this.catalog = b.catalog;
        this.ownedCatalogPool = b.ownedCatalogPool;
        this.keys = b.catalog == null ? null : new KeyAllocator(b.catalog, b.topology.ring().keyType(), b.keyBlock);
        this.source = b.catalog != null ? Catalog.attach(b.catalog)
                : b.source != null ? b.source : TopologySource.of(b.topology);
        if (b.catalog != null) {
            b.topology = newestOf(b.topology, (Catalog) source, b.requireCatalog ? b.catalogNode : null);
        }
        this.fanOutThreads = Executors.newFixedThreadPool(settings.fanOutThreads(), daemon("shardring-fanout"));
        this.drainer = Executors.newCachedThreadPool(daemon("shardring-drain"));
        this.fan = new FanOut(fanOutThreads, drainer, reads);
        Map<String, NodePool> primaries = new LinkedHashMap<>();
        Map<String, List<NodePool>> standbys = new LinkedHashMap<>();
        Map<String, NodePool> stores = new LinkedHashMap<>();
        try {
            for (NodeConfig n : b.topology.nodes().values()) {
                openPools(n, replicated(b.topology), primaries, standbys, stores, null);
            }
            this.state = new State(b.topology, primaries, standbys, stores, this::lag);
        } catch (RuntimeException e) {
            primaries.values().forEach(NodePool::close);
            standbys.values().forEach(l -> l.forEach(NodePool::close));
            stores.values().forEach(NodePool::close);
            fanOutThreads.shutdownNow();
            drainer.shutdownNow();
            throw e;
        }
        this.monitor = new ReplicaMonitor(() -> closed ? null : state.targets, settings.replicaInterval().toNanos(),
                daemon("shardring-replicas"));
        metrics.topology(b.topology);
        if (b.probe) {
            probeAll(b.topology);
        }
        LOG.info("shardring router started: topology version {}, {} nodes {}{}", b.topology.version(),
                primaries.size(), primaries.keySet(), b.catalog == null ? "" : ", following the catalog");
    }

    /**
     * The catalog's newest topology if it can be read and is not older than the configured one (the catalog is the
     * truth: a file of the same version may list nodes that are not in the ring yet, as an adopted database's
     * configuration lists the nodes to come); otherwise the configured one, and the catalog is reported unreachable
     * (the watcher keeps trying): a router never routes by nothing.
     */
    private Topology newestOf(Topology configured, Catalog c, NodeConfig required) {
        try {
            Topology newest = c.load();
            metrics.catalogReachable.set(1);
            if (newest.version() >= configured.version()) {
                return newest;
            }
        } catch (RuntimeException e) {
            metrics.catalogReachable.set(0);
            if (required != null) {
                throw new ShardUnavailableException(required.id(), "the catalog on node " + required.id() + " ("
                        + NodeConfig.maskUrl(required.jdbcUrl()) + ") cannot be read at start-up: " + e.getMessage()
                        + "; start that server (or fix catalog.node), or allow starting on the configured topology"
                        + " version " + configured.version() + " until the catalog answers", e);
            }
            LOG.warn("catalog unreachable at start ({}); routing by the configured topology version {} until it"
                    + " answers", e.getMessage(), configured.version());
        }
        return configured;
    }

    public static Builder builder(Topology topology) {
        return new Builder(topology);
    }

    /**
     * A router for a whole configuration. When it names a catalog ({@code catalog.node}), the router follows it:
     * it starts on the catalog's newest topology (or the file's, while the catalog cannot be reached), listens for
     * its notifications, polls it every {@code router.catalogPoll}, reports itself in its registry, and stops all of
     * that on {@link #close()}.
     */
    public static Builder builder(ShardringConfig config) {
        Builder b = new Builder(config.topology()).settings(config.router());
        if (config.namesCatalog()) {
            b.followCatalogOn(config.topology().node(config.catalogNode()));
        }
        return b;
    }

    // ---- routing ----

    /**
     * Checks every primary of the current topology with one direct connection and {@code SELECT 1} (outside its pool,
     * so that a busy pool is not taken for a dead node), all at once, each within {@code timeout}: for health checks.
     * With replicas or standbys, each entry also carries its copies' lag as the router last sampled it.
     */
    public Map<String, NodeHealth> checkNodes(Duration timeout) {
        State s = state;
        return fan.checkNodes(s.primaries.values(), s.targets, timeout);
    }

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

    /**
     * The data source for a read of the key by {@code preference}: its primary, one of its arc's secondary stores
     * (ring.replicationFactor >= 2), or one of the primary's standbys, skipping copies over the preference's
     * staleness bound and nodes that are down. The choice uses what the router sampled in the background; it takes no
     * lock and allocates nothing. Connections from it are read-only where they reach a copy.
     *
     * @throws ShardUnavailableException when the preference allows no target that is up and within its bound; the
     *     message names the key's nodes and their lag
     */
    public DataSource forKey(Object key, ReadPreference preference) {
        State s = state;
        ReadTarget t = reads.choose(s.topology, s.targets.forKey(key), preference, null);
        return t.pool;
    }

    /**
     * Runs a read on the key by {@code preference}, on an auto-commit connection. When the chosen target cannot be
     * reached (a primary that died a moment ago, before the router's monitor noticed), it is marked down and the read
     * runs again on the next target the preference allows: so a read fails over within the call.
     */
    public <T> T read(Object key, ReadPreference preference, SqlWork<T> work) {
        State s = state;
        ReadTarget[] targets = s.targets.forKey(key);
        ReadTarget failed = null;
        for (int attempt = 0; ; attempt++) {
            ReadTarget t = reads.choose(s.topology, targets, preference, failed);
            try (Connection c = t.pool.getConnection()) {
                return work.apply(c);
            } catch (SQLException | RuntimeException e) {
                boolean unreachable = Failures.isConnectionFailure(e) || e instanceof ShardUnavailableException;
                if (unreachable && attempt < targets.length - 1 && !closed) {
                    if (!(e instanceof ShardUnavailableException)) {
                        t.pool.markDown();
                    }
                    failed = t;
                    continue;
                }
                if (e instanceof ShardringException) {
                    throw (ShardringException) e;
                }
                if (e instanceof RuntimeException && !Failures.hasSqlCause(e)) {
                    throw (RuntimeException) e;
                }
                metrics.sqlErrors.increment();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "read on " + t + " failed: " + e.getMessage(), e);
            }
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
     * Runs {@code work} in a transaction on the key's shard: commits on return, rolls back on any exception. When
     * the shard rejects a write because it does not own the key, the router refreshes its topology and runs the
     * work again on the new owner; while the key is fenced by a move's cutover (no node takes it yet), it waits for
     * the next topology version or for the ranges to be given back, woken by the catalog's notification, for at most
     * {@code router.cutoverWait}, and runs the work again. So a move is a short pause here, never an exception; only
     * past that bound does a {@link StaleTopologyException} say which move holds the key and what to run. The work
     * must therefore be safe to run more than once (each run is its own transaction, and only a committed one
     * counts). SQL errors come back as {@link ShardringException} with the SQLSTATE kept in the cause.
     */
    public <T> T inTransaction(Object key, SqlWork<T> work) {
        return withRetry(key, work, true);
    }

    /**
     * Runs {@code work} on an auto-commit connection to the key's owner, and again after a move's cutover exactly as
     * {@link #inTransaction} does: the retry helper for code that would otherwise take {@code forKey(k)
     * .getConnection()} and see the guard's SQLSTATE {@value StaleTopologyException#SQLSTATE} during a move. Every
     * statement commits on its own, so the work must be safe to repeat (one statement, or idempotent ones).
     */
    public <T> T withConnection(Object key, SqlWork<T> work) {
        return withRetry(key, work, false);
    }

    private <T> T withRetry(Object key, SqlWork<T> work, boolean transaction) {
        return cutovers.run(key, pool -> transaction ? Transactions.inTransaction(pool, work)
                : Transactions.autoCommit(pool, work), e -> true, (pool, e) -> {
                    if (e instanceof ShardringException) {
                        return (ShardringException) e;
                    }
                    if (e instanceof RuntimeException && !Failures.hasSqlCause(e)) {
                        return (RuntimeException) e; // the application's own exception, as it threw it
                    }
                    // SQL errors, also when a framework such as jOOQ wrapped them: one type, naming the shard
                    metrics.sqlErrors.increment();
                    return new ShardringException(ErrorCode.SHARD_ERROR, (transaction ? "transaction" : "work")
                            + " on shard " + pool.nodeId() + " failed: " + e.getMessage(), e);
                });
    }

    /**
     * Runs {@code work} with {@code key} bound (see {@link ShardContext}) and runs it again after a move's cutover
     * exactly as {@link #inTransaction} does: for work that takes its own connections through
     * {@link #contextBound()}, such as a Spring {@code @Transactional} method, which commits or rolls back by itself.
     * Each run must be a whole transaction (a rejected write rolled it back), so that running it again is safe.
     * Exceptions other than the guard's rejection come back unchanged, checked ones too.
     *
     * @throws StaleTopologyException only past {@code router.cutoverWait}, naming the move that holds the key
     */
    public <T> T awaitingCutover(Object key, Callable<T> work) throws Exception {
        return awaitingCutover(key, work, e -> true);
    }

    /**
     * {@link #awaitingCutover(Object, Callable)}, running the work again only when
     * {@code mayRunAgain} says so for the failed run: false, for instance, when part of the run committed (a nested
     * transaction of its own), which running again would repeat.
     */
    public <T> T awaitingCutover(Object key, Callable<T> work,
            Predicate<Exception> mayRunAgain) throws Exception {
        return cutovers.run(key, pool -> ShardContext.callWithKey(key, work), mayRunAgain, (pool, e) -> e);
    }

    /**
     * After a stale rejection: a router without a catalog reloads its topology source. A router that follows the
     * catalog leaves that to its watcher, which the catalog's notification wakes (and which polls, should one be
     * lost): units of work that wait out a cutover then take no catalog connection at all, so hundreds of them
     * cannot crowd out the watcher that would release them.
     */
    private void catchUp() {
        if (watcher != null) {
            return;
        }
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.debug("refresh after a stale rejection failed: {}", e.getMessage());
        }
    }

    /**
     * Opens pools ahead of time for nodes that a running move will bring into the topology (given by
     * {@link CatalogWatcher}), and closes those prepared for a move that is over: the first unit of work on such a
     * node after the cutover then finds connections ready instead of waiting for the first one to be made. Returns
     * why a node's pool could not be opened, by node id.
     */
    private synchronized Map<String, String> prepareNodes(Collection<NodeConfig> upcoming) {
        if (closed) {
            return Map.of();
        }
        Map<String, NodeConfig> wanted = new LinkedHashMap<>();
        for (NodeConfig node : upcoming) {
            NodeConfig n = settings.connectAs(node);
            NodePool current = state.primaries.get(n.id());
            if (current == null || !current.fingerprint().equals(NodePool.fingerprint(n, n.jdbcUrl()))) {
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
                    NodePool p = new NodePool(n.id(), n, n.jdbcUrl(), false, settings.downBackoff().toNanos(), metrics,
                            env);
                    prepared.put(n.id(), p);
                    drainer.execute(p::warmUp);
                } catch (RuntimeException e) {
                    failed.put(n.id(), String.valueOf(e.getMessage()));
                }
            }
        }
        return failed;
    }

    /** The router as {@link CutoverWait} sees it. */
    private final class Routed implements CutoverWait.Routing {
        @Override
        public NodePool owner(Object key) {
            State s = state;
            return s.byRingNode.get(s.topology.ring().route(key));
        }

        @Override
        public void catchUp() {
            ShardedDataSource.this.catchUp();
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public long version() {
            return state.topology.version();
        }

        @Override
        public String heldBy(Object key) {
            return ShardedDataSource.this.heldBy(key);
        }
    }

    /** The router as {@link CatalogWatcher} drives it: calls that are not the router's API. */
    private final class Follower implements TopologyFollower {
        @Override
        public Topology topology() {
            return ShardedDataSource.this.topology();
        }

        @Override
        public void apply(Topology next) {
            ShardedDataSource.this.apply(next);
        }

        @Override
        public void routingMayHaveChanged() {
            cutovers.routingMayHaveChanged();
        }

        @Override
        public Map<String, String> prepareNodes(Collection<NodeConfig> upcoming) {
            return ShardedDataSource.this.prepareNodes(upcoming);
        }

        @Override
        public void catalogReachable(boolean reachable) {
            metrics.catalogReachable.set(reachable ? 1 : 0);
        }
    }

    /** Follows the catalog once the router is built: the watcher never sees a router under construction. */
    private ShardedDataSource followCatalog() {
        if (catalog != null) {
            watcher = CatalogWatcher.start(catalog, new Follower(), settings.catalogPoll());
        }
        return this;
    }

    /** The running move job whose ranges hold the key, as an operator finds it in status; null if none. */
    private String heldBy(Object key) {
        if (catalog == null) {
            return null;
        }
        try {
            return Catalog.attach(catalog).moveHolding(state.topology.ring().keyType().hash(key));
        } catch (SQLException | RuntimeException e) {
            return "the catalog cannot say which move holds it (" + e.getMessage() + ")";
        }
    }

    /** Keys grouped by owning node id, each group in input order; for batched statements per shard. */
    public <K> Map<String, List<K>> groupByShard(Collection<K> keys) {
        Map<String, List<K>> out = new LinkedHashMap<>();
        state.topology.ring().groupByNode(keys).forEach((node, ks) -> out.put(node.id(), ks));
        return out;
    }

    /**
     * Runs {@code work} so that every key is read once, from the copies {@code preference} chooses: the key space is
     * split by arc, each arc read where the preference sends its keys (a primary, a secondary store, a standby), and
     * {@code work} runs once per target that got arcs, in a read transaction in which
     * {@code current_setting('shardring.read_bounds')} holds that target's share of the hashes (a {@code width_bucket}
     * threshold array). A secondary store keeps the arcs of several primaries, so {@code work}'s query must keep only
     * those rows: {@link CrossShard#ownedRows(String)} of a {@link CrossShard#on(ShardedDataSource, ReadPreference)}
     * says how. Results are keyed by target ({@code primary shard1}, {@code secondary store on shard2 (copy of
     * shard1)}); arcs the preference allows no target for are reported as a failure under their primary's id.
     */
    public <T> Map<String, ShardResult<T>> onAllShards(ReadPreference preference, SqlWork<T> work) {
        State s = state;
        return fan.onCopies(s.topology, s.targets, preference, work);
    }

    /**
     * Runs {@code work} on every node's primary in parallel (auto-commit connections) and returns each
     * node's value or error, by node id in topology order. One shard's failure does not stop the others.
     */
    public <T> Map<String, ShardResult<T>> onAllShards(SqlWork<T> work) {
        return fan.onPrimaries(state.primaries.values(), work);
    }

    /**
     * A data source for frameworks that call {@code getConnection()} without a key: it routes by the key
     * bound with {@link ShardContext#runWithKey} and fails clearly when none is bound.
     */
    public DataSource contextBound() {
        return contextBound;
    }

    // ---- topology ----

    /**
     * The routers the catalog's registry knows (this one included), most recently seen first; empty for a router that
     * follows no catalog. One catalog query: for operators' endpoints, not for request paths.
     */
    public List<RouterRegistry.Entry> routers() {
        return catalog == null ? List.of() : new RouterRegistry(catalog).list();
    }

    /** Whether this router follows a catalog (a {@code catalog:} section, or {@code followCatalog}). */
    public boolean followsCatalog() {
        return catalog != null;
    }

    public Topology topology() {
        return state.topology;
    }

    /** Whether a node's primary is currently marked down. */
    public boolean isDown(String nodeId) {
        NodePool p = state.primaries.get(nodeId);
        return p != null && p.isDown();
    }

    /**
     * The DataSource that writes the reference tables: a pool of its own to the topology's
     * {@link Topology#referenceNode() reference node}, whose sessions the reference guard lets write. Reads of
     * reference tables need no special DataSource: every node has a copy, joined locally with tenant rows. A tenant's
     * DataSource that writes a reference table is refused by the guard, naming this method.
     *
     * @throws ShardringException when the topology has no reference tables
     */
    public DataSource reference() {
        ReferencePool r = referencePool;
        Topology t = state.topology;
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

    private record ReferencePool(String nodeId, long topologyVersion, NodePool pool) {
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

    /** The secondary stores of the current topology by node (empty when ring.replicationFactor is 1). */
    public Map<String, DataSource> secondaryStores() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(state.stores));
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
        Map<String, NodePool> stores = new LinkedHashMap<>();
        List<NodePool> opened = new ArrayList<>();
        State built;
        try {
            for (NodeConfig n : next.nodes().values()) {
                opened.addAll(openPools(n, replicated(next), primaries, standbys, stores, old));
            }
            built = new State(next, primaries, standbys, stores, this::lag);
        } catch (RuntimeException e) {
            opened.forEach(NodePool::close);
            throw e;
        }
        state = built;
        metrics.topology(next);
        java.util.Set<NodePool> kept = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
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
                next.version(), primaries.keySet(), retired.size());
    }

    private static boolean replicated(Topology t) {
        return t.ringSettings().replicationFactor() >= 2;
    }

    /** Opens the pools of node {@code n} that {@code old} (null at start) does not have with the same settings. */
    private List<NodePool> openPools(NodeConfig node, boolean replicated, Map<String, NodePool> primaries,
            Map<String, List<NodePool>> standbys, Map<String, NodePool> stores, State old) {
        NodeConfig n = settings.connectAs(node);
        List<NodePool> opened = new ArrayList<>();
        long backoff = settings.downBackoff().toNanos();
        NodePool existing = old == null ? null : old.primaries.get(n.id());
        String fingerprint = NodePool.fingerprint(n, n.jdbcUrl());
        if (existing != null && existing.fingerprint().equals(fingerprint)) {
            primaries.put(n.id(), existing);
        } else {
            NodePool ready = prepared.get(n.id());
            if (ready != null && ready.fingerprint().equals(fingerprint)) {
                prepared.remove(n.id()); // opened while the move that brings this node ran: connections are ready
                primaries.put(n.id(), ready);
            } else {
                NodePool p = new NodePool(n.id(), n, n.jdbcUrl(), false, backoff, metrics, env);
                primaries.put(n.id(), p);
                opened.add(p);
            }
        }
        List<NodePool> list = new ArrayList<>();
        List<NodePool> oldList = old == null ? List.of() : old.standbys.getOrDefault(n.id(), List.of());
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
        if (replicated) {
            String url = n.secondaryStoreUrl();
            NodePool keep = old == null ? null : old.stores.get(n.id());
            if (keep == null || !keep.fingerprint().equals(NodePool.fingerprint(n, url))) {
                keep = new NodePool(n.id() + "-secondary", n, url, true, backoff, metrics, env);
                opened.add(keep);
            }
            stores.put(n.id(), keep);
        }
        return opened;
    }

    /** The lag record of one copy, created on first use with its gauge. */
    private CopyLag lag(String copy, String primary) {
        return lags.computeIfAbsent(copy, k -> {
            CopyLag lag = new CopyLag(primary, k);
            metrics.copyLag(lag);
            return lag;
        });
    }

    private void probeAll(Topology topology) {
        List<Future<?>> probes = new ArrayList<>();
        State s = state;
        for (NodeConfig n : topology.nodes().values()) {
            int seconds = (int) Math.max(1, Math.min(5, n.pool().connectionTimeout().toSeconds()));
            probes.add(fanOutThreads.submit(() -> s.primaries.get(n.id()).probe(seconds)));
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
        cutovers.routingMayHaveChanged(); // waiting work gives up at once
        CatalogWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        if (ownedCatalogPool != null) {
            try {
                ownedCatalogPool.close();
            } catch (Exception e) {
                LOG.debug("closing the catalog pool: {}", e.getMessage());
            }
        }
        monitor.close();
        fanOutThreads.shutdownNow();
        drainer.shutdownNow();
        State s = state;
        prepared.values().forEach(NodePool::close);
        prepared.clear();
        s.allPools().forEach(NodePool::close);
        ReferencePool r = referencePool;
        if (r != null) {
            r.pool.close();
        }
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

    /**
     * A new shard key, for a new tenant: a router must know a key before it can pick its shard, so keys come from one
     * sequence in the catalog's database (for an adopted database, its tenants table's own sequence), drawn
     * {@code keyBlock} values at a time (100 by default). Keys are unique and increase within a block; a router that
     * restarts leaves the rest of its block unused.
     *
     * @throws ConfigurationException     when this router does not follow a catalog, the ring's keys are not integers,
     *                                    or the catalog records no key sequence
     * @throws ShardUnavailableException  when the catalog cannot be reached
     */
    public long newKey() {
        if (keys == null) {
            throw new ConfigurationException("newKey() draws keys from the catalog's key sequence, and this router"
                    + " follows no catalog; build it from a configuration with catalog.node (or followCatalog)");
        }
        return keys.next();
    }

    /** Configures a router; everything has a default except the topology. */
    public static final class Builder {
        private Topology topology;
        private TopologySource source;
        private DataSource catalog;
        private AutoCloseable ownedCatalogPool;
        private NodeConfig catalogNode;
        private RouterSettings settings = RouterSettings.DEFAULTS;
        private MeterRegistry registry = Metrics.globalRegistry;
        private Function<String, String> env = System::getenv;
        private boolean probe = true;
        private boolean requireCatalog;
        private int keyBlock = 100;

        private Builder(Topology topology) {
            if (topology == null) {
                throw new io.shardring.router.ConfigurationException("topology is null; load one from YAML or build"
                        + " it with Topology.builder()");
            }
            this.topology = topology;
        }

        /**
         * Where {@link #refresh()} looks for newer topology versions; defaults to the initial topology only. A static
         * topology (no source, no catalog) suits tests and clusters that never move data.
         */
        public Builder topologySource(TopologySource source) {
            this.source = source;
            return this;
        }

        /**
         * Follows the catalog in {@code catalogDs}: start on its newest topology (or the given one while it cannot
         * be read), listen for its notifications, poll it every {@code router.catalogPoll}, report this router in
         * its registry; {@link #close()} stops all of it. The caller keeps {@code catalogDs} and closes it after the
         * router.
         */
        public Builder followCatalog(DataSource catalogDs) {
            this.catalog = catalogDs;
            this.catalogNode = null;
            return this;
        }

        /** Follows the catalog in the database of {@code node}, over a small pool the router opens and closes. */
        Builder followCatalogOn(NodeConfig node) {
            this.catalogNode = node;
            this.catalog = null;
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

        /**
         * Whether a router that follows the catalog on a configured node ({@link #builder(ShardringConfig)} with a
         * {@code catalog:} section) must read it at start-up: when true, {@link #build()} fails with a
         * {@link ShardUnavailableException} naming the node and the reason; when false (the default) the router starts
         * on the configured topology and follows the catalog once it answers.
         */
        public Builder requireCatalog(boolean require) {
            this.requireCatalog = require;
            return this;
        }

        /**
         * How many keys {@link ShardedDataSource#newKey()} draws from the catalog at a time (default 100, at most
         * 100,000): one round trip per block; the rest of a block is unused when the router closes.
         */
        public Builder keyBlock(int keys) {
            if (keys < 1 || keys > 100_000) {
                throw new ConfigurationException("keyBlock " + keys + " is out of range 1..100000; 100 is the usual");
            }
            this.keyBlock = keys;
            return this;
        }

        /** Whether start-up tries one connection per node to mark unreachable nodes down (default true). */
        public Builder probeOnStart(boolean probe) {
            this.probe = probe;
            return this;
        }

        public ShardedDataSource build() {
            if (catalogNode != null) {
                com.zaxxer.hikari.HikariDataSource pool = NodePool.catalogPool(settings.connectAs(catalogNode), env);
                catalog = pool;
                ownedCatalogPool = pool;
            }
            try {
                return new ShardedDataSource(this).followCatalog();
            } catch (RuntimeException e) {
                if (ownedCatalogPool != null) {
                    try {
                        ownedCatalogPool.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
    }
}
