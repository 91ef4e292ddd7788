package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologyFollower;
import io.shardring.router.topology.TopologySource;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which snapshot the router routes by, and its changes: a newer topology from the source or the catalog's watcher is
 * switched to under one lock (the {@link PoolSet} builds the snapshot), and the cutover wait asks it for a key's
 * owner, to catch up, and which move holds a key. Readers take the current snapshot with one volatile read.
 */
final class RoutingState implements CutoverWait.Routing {
    private static final Logger LOG = LoggerFactory.getLogger(RoutingState.class);

    private final TopologySource source;
    /** The catalog the router follows, or null. */
    private final CatalogLink catalog;
    private final PoolSet pools;
    private final RouterMetrics metrics;
    volatile Snapshot current;
    private volatile boolean closed;

    RoutingState(Topology first, TopologySource source, CatalogLink catalog, PoolSet pools, RouterMetrics metrics) {
        this.source = source;
        this.catalog = catalog;
        this.pools = pools;
        this.metrics = metrics;
        this.current = pools.open(first);
        metrics.topology(first);
    }

    /** Loads the topology source and switches to it if it is a newer version. Returns the version in use. */
    synchronized long refresh() {
        Topology next = source.load();
        if (next.version() > current.topology.version()) {
            apply(next);
        }
        return current.topology.version();
    }

    synchronized void apply(Topology next) {
        if (closed) {
            throw new ShardringException(ErrorCode.CLOSED, "the router is closed");
        }
        current = pools.switchTo(current, next);
        metrics.topology(next);
    }

    /**
     * Starts following the catalog, if there is one: from then on its watcher switches topologies, prepares a running
     * move's new nodes, and calls {@code routingChanged} when fenced ranges may have been given back.
     */
    void follow(Runnable routingChanged, Duration poll) {
        if (catalog != null) {
            catalog.follow(new Follower(routingChanged), poll);
        }
    }

    @Override
    public NodePool owner(Object key) {
        return current.owner(key);
    }

    /**
     * After a stale rejection: a router without a catalog reloads its topology source. A router that follows the
     * catalog leaves that to its watcher, which the catalog's notification wakes (and which polls, should one be
     * lost): units of work that wait out a cutover then take no catalog connection at all, so hundreds of them
     * cannot crowd out the watcher that would release them.
     */
    @Override
    public void catchUp() {
        if (catalog != null) {
            return;
        }
        try {
            refresh();
        } catch (RuntimeException e) {
            LOG.debug("refresh after a stale rejection failed: {}", e.getMessage());
        }
    }

    @Override
    public boolean closed() {
        return closed;
    }

    @Override
    public long version() {
        return current.topology.version();
    }

    @Override
    public String heldBy(Object key) {
        return catalog == null ? null : catalog.heldBy(current.topology.ring().keyType().hash(key));
    }

    /** Switches no more and stops following the catalog; work waiting for a cutover gives up when woken. */
    synchronized void close() {
        closed = true;
        if (catalog != null) {
            catalog.close();
        }
    }

    /** The router as the catalog's watcher drives it: calls that are not the router's API. */
    private final class Follower implements TopologyFollower {
        private final Runnable routingChanged;

        Follower(Runnable routingChanged) {
            this.routingChanged = routingChanged;
        }

        @Override
        public Topology topology() {
            return current.topology;
        }

        @Override
        public void apply(Topology next) {
            RoutingState.this.apply(next);
        }

        @Override
        public void routingMayHaveChanged() {
            routingChanged.run();
        }

        @Override
        public Map<String, String> prepareNodes(Collection<NodeConfig> upcoming) {
            synchronized (RoutingState.this) { // the snapshot it prepares against is not switched meanwhile
                return pools.prepare(current, upcoming);
            }
        }

        @Override
        public void catalogReachable(boolean reachable) {
            metrics.catalogReachable.set(reachable ? 1 : 0);
        }
    }
}
