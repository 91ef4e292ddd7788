package io.shardring.router.jdbc;

import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.CatalogWatcher;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologyFollower;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A router's ties to the catalog it follows: the newest topology at start-up, the watcher that follows it from then
 * on, new shard keys from its key sequence, the router registry, and which running move holds a key. Closes the pool
 * to the catalog when the router opened it.
 */
final class CatalogLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogLink.class);

    private final DataSource catalog;
    private final AutoCloseable ownedPool;
    private final RouterMetrics metrics;
    private final KeyAllocator keys;
    private volatile CatalogWatcher watcher;

    CatalogLink(DataSource catalog, AutoCloseable ownedPool, KeyType keyType, int keyBlock, RouterMetrics metrics) {
        this.catalog = catalog;
        this.ownedPool = ownedPool;
        this.metrics = metrics;
        this.keys = new KeyAllocator(catalog, keyType, keyBlock);
    }

    /** The catalog as the router's topology source. */
    Catalog source() {
        return Catalog.attach(catalog);
    }

    /**
     * The catalog's newest topology if it can be read and is not older than the configured one (the catalog is the
     * truth: a file of the same version may list nodes that are not in the ring yet, as an adopted database's
     * configuration lists the nodes to come); otherwise the configured one, and the catalog is reported unreachable
     * (the watcher keeps trying): a router never routes by nothing. With {@code required} (the catalog's node),
     * an unreadable catalog fails the start instead.
     */
    Topology newestOf(Topology configured, NodeConfig required) {
        try {
            Topology newest = source().load();
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

    /** Starts following the catalog: from here on the watcher drives {@code router}. */
    void follow(TopologyFollower router, Duration poll) {
        watcher = CatalogWatcher.start(catalog, router, poll);
    }

    long newKey() {
        return keys.next();
    }

    List<RouterRegistry.Entry> routers() {
        return new RouterRegistry(catalog).list();
    }

    /** The running move job whose ranges hold the hash, as an operator finds it in status; null if none. */
    String heldBy(long hash) {
        try {
            return source().moveHolding(hash);
        } catch (SQLException | RuntimeException e) {
            return "the catalog cannot say which move holds it (" + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        CatalogWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                LOG.debug("closing the catalog pool: {}", e.getMessage());
            }
        }
    }
}
