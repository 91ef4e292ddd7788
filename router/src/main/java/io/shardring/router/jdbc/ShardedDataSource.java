package io.shardring.router.jdbc;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologySource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
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

    private final RouterSettings settings;
    private final RouterMetrics metrics;
    private final ReadChoice reads;
    private final Transactions units;
    private final RoutingState routing;
    private final CutoverWait cutovers;
    private final ExecutorService fanOutThreads;
    private final ExecutorService drainer;
    private final FanOut fan;
    private final PoolSet pools;
    private final DataSource contextBound;
    /** The catalog this router follows, or null. */
    private final CatalogLink catalog;
    private final ReplicaMonitor monitor;
    private final BooleanSupplier closed;

    private ShardedDataSource(RouterBuilder<?> b) {
        this.settings = b.settings;
        this.metrics = new RouterMetrics(b.registry);
        this.reads = new ReadChoice(settings.zone(), metrics);
        this.units = new Transactions(reads, metrics);
        this.contextBound = new ContextBoundDataSource(key -> forKey(key), metrics);
        this.catalog = b.catalog == null ? null
                : new CatalogLink(b.catalog, b.ownedCatalogPool, b.topology.ring().keyType(), b.keyBlock, metrics);
        TopologySource source = catalog != null ? catalog.source()
                : b.source != null ? b.source : TopologySource.of(b.topology);
        Topology first = catalog == null ? b.topology
                : catalog.newestOf(b.topology, b.requireCatalog ? b.catalogNode : null);
        this.fanOutThreads = Executors.newFixedThreadPool(settings.fanOutThreads(),
                new DaemonThreads("shardring-fanout"));
        this.drainer = Executors.newCachedThreadPool(new DaemonThreads("shardring-drain"));
        this.fan = new FanOut(fanOutThreads, drainer, reads);
        this.pools = new PoolSet(settings, metrics, b.env, drainer);
        try {
            this.routing = new RoutingState(first, source, catalog, pools, metrics);
        } catch (RuntimeException e) {
            fanOutThreads.shutdownNow();
            drainer.shutdownNow();
            throw e;
        }
        this.cutovers = new CutoverWait(routing, settings, metrics);
        this.closed = routing::closed;
        this.monitor = new ReplicaMonitor(() -> routing.closed() ? null : routing.current.targets,
                settings.replicaInterval().toNanos(), new DaemonThreads("shardring-replicas"));
        if (b.probe) {
            fan.probe(routing.current);
        }
        LOG.info("shardring router started: topology version {}, {} nodes {}{}", first.version(),
                routing.current.primaries.size(), routing.current.primaries.keySet(),
                catalog == null ? "" : ", following the catalog");
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
        Snapshot s = routing.current;
        return fan.checkNodes(s.primaries.values(), s.targets, timeout);
    }

    /** The data source of the key's primary shard. */
    public DataSource forKey(Object key) {
        return routing.current.owner(key);
    }

    public DataSource forKey(long key) {
        return routing.current.owner(key);
    }

    public DataSource forKey(CharSequence key) {
        return routing.current.owner(key);
    }

    public DataSource forKey(UUID key) {
        return routing.current.owner(key);
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
        Snapshot s = routing.current;
        ReadTarget t = reads.choose(s.topology, s.targets.forKey(key), preference, null);
        return t.pool;
    }

    /**
     * Runs a read on the key by {@code preference}, on an auto-commit connection. When the chosen target cannot be
     * reached (a primary that died a moment ago, before the router's monitor noticed), it is marked down and the read
     * runs again on the next target the preference allows: so a read fails over within the call.
     */
    public <T> T read(Object key, ReadPreference preference, SqlWork<T> work) {
        Snapshot s = routing.current;
        return units.read(s.topology, s.targets.forKey(key), preference, work, closed);
    }

    /** A connection to the key's primary shard, in auto-commit mode; the caller closes it. */
    public Connection getConnection(Object key) throws SQLException {
        return forKey(key).getConnection();
    }

    /** The node that owns the key in the current topology. */
    public String nodeFor(Object key) {
        return routing.current.topology.ring().route(key).id();
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
                : Transactions.autoCommit(pool, work), e -> true,
                (pool, e) -> units.failure(e, (transaction ? "transaction" : "work") + " on shard " + pool.nodeId()));
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

    /** Follows the catalog once the router is built: the watcher never sees a router under construction. */
    private ShardedDataSource followCatalog() {
        routing.follow(cutovers::routingMayHaveChanged, settings.catalogPoll());
        return this;
    }

    /** Keys grouped by owning node id, each group in input order; for batched statements per shard. */
    public <K> Map<String, List<K>> groupByShard(Collection<K> keys) {
        Map<String, List<K>> out = new LinkedHashMap<>();
        routing.current.topology.ring().groupByNode(keys).forEach((node, ks) -> out.put(node.id(), ks));
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
        Snapshot s = routing.current;
        return fan.onCopies(s.topology, s.targets, preference, work);
    }

    /**
     * Runs {@code work} on every node's primary in parallel (auto-commit connections) and returns each
     * node's value or error, by node id in topology order. One shard's failure does not stop the others.
     */
    public <T> Map<String, ShardResult<T>> onAllShards(SqlWork<T> work) {
        return fan.onPrimaries(routing.current.primaries.values(), work);
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
        return catalog == null ? List.of() : catalog.routers();
    }

    /** Whether this router follows a catalog (a {@code catalog:} section, or {@code followCatalog}). */
    public boolean followsCatalog() {
        return catalog != null;
    }

    public Topology topology() {
        return routing.current.topology;
    }

    /** Whether a node's primary is currently marked down. */
    public boolean isDown(String nodeId) {
        NodePool p = routing.current.primaries.get(nodeId);
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
        return pools.reference(routing.current.topology);
    }

    /** The primary pool of a node, e.g. to run maintenance there. */
    public DataSource node(String nodeId) {
        NodePool p = routing.current.primaries.get(nodeId);
        if (p == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "unknown node '" + nodeId + "'; topology version "
                    + routing.current.topology.version() + " has " + routing.current.primaries.keySet());
        }
        return p;
    }

    /** The secondary stores of the current topology by node (empty when ring.replicationFactor is 1). */
    public Map<String, DataSource> secondaryStores() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(routing.current.stores));
    }

    /** Loads the topology source and switches to it if it is a newer version. Returns the version in use. */
    public long refresh() {
        return routing.refresh();
    }

    /**
     * Switches to {@code next}: opens pools for new or changed nodes, keeps the others, and closes the
     * pools of nodes that left once their borrowed connections are back.
     */
    public void apply(Topology next) {
        routing.apply(next);
    }

    /** Closes every pool at once (borrowed connections are closed by HikariCP). */
    @Override
    public synchronized void close() {
        if (routing.closed()) {
            return;
        }
        routing.close();
        cutovers.routingMayHaveChanged(); // waiting work gives up at once
        monitor.close();
        fanOutThreads.shutdownNow();
        drainer.shutdownNow();
        pools.close(routing.current);
    }

    @Override
    public String toString() {
        Snapshot s = routing.current;
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
        if (catalog == null) {
            throw new ConfigurationException("newKey() draws keys from the catalog's key sequence, and this router"
                    + " follows no catalog; build it from a configuration with catalog.node (or followCatalog)");
        }
        return catalog.newKey();
    }

    /** Configures a router; everything has a default except the topology (the settings: {@link RouterBuilder}). */
    public static final class Builder extends RouterBuilder<Builder> {
        private Builder(Topology topology) {
            super(topology);
        }

        public ShardedDataSource build() {
            return build(b -> new ShardedDataSource(b).followCatalog());
        }
    }
}
