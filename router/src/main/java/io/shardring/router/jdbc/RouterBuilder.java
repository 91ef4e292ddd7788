package io.shardring.router.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.router.topology.TopologySource;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The settings of a router that {@link ShardedDataSource#builder} takes; everything has a default except the
 * topology. Applications use it as {@link ShardedDataSource.Builder}.
 *
 * @param <B> the builder type its methods return
 */
public abstract class RouterBuilder<B extends RouterBuilder<B>> {
    Topology topology;
    TopologySource source;
    DataSource catalog;
    AutoCloseable ownedCatalogPool;
    NodeConfig catalogNode;
    RouterSettings settings = RouterSettings.DEFAULTS;
    MeterRegistry registry = Metrics.globalRegistry;
    Function<String, String> env = System::getenv;
    boolean probe = true;
    boolean requireCatalog;
    int keyBlock = 100;

    RouterBuilder(Topology topology) {
        if (topology == null) {
            throw new ConfigurationException("topology is null; load one from YAML or build it with"
                    + " Topology.builder()");
        }
        this.topology = topology;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * Where {@link ShardedDataSource#refresh()} looks for newer topology versions; defaults to the initial topology
     * only. A static topology (no source, no catalog) suits tests and clusters that never move data.
     */
    public B topologySource(TopologySource source) {
        this.source = source;
        return self();
    }

    /**
     * Follows the catalog in {@code catalogDs}: start on its newest topology (or the given one while it cannot
     * be read), listen for its notifications, poll it every {@code router.catalogPoll}, report this router in
     * its registry; {@link ShardedDataSource#close()} stops all of it. The caller keeps {@code catalogDs} and closes
     * it after the router.
     */
    public B followCatalog(DataSource catalogDs) {
        this.catalog = catalogDs;
        this.catalogNode = null;
        return self();
    }

    /** Follows the catalog in the database of {@code node}, over a small pool the router opens and closes. */
    B followCatalogOn(NodeConfig node) {
        this.catalogNode = node;
        this.catalog = null;
        return self();
    }

    public B settings(RouterSettings settings) {
        this.settings = settings == null ? RouterSettings.DEFAULTS : settings;
        return self();
    }

    /** Defaults to Micrometer's global registry. */
    public B meterRegistry(MeterRegistry registry) {
        this.registry = registry;
        return self();
    }

    /** How {@code ${VAR}} password references are resolved; defaults to the process environment. */
    public B environment(Function<String, String> env) {
        this.env = env;
        return self();
    }

    /**
     * Whether a router that follows the catalog on a configured node ({@link ShardedDataSource#builder(ShardringConfig)}
     * with a {@code catalog:} section) must read it at start-up: when true, {@code build()} fails with a
     * {@link ShardUnavailableException} naming the node and the reason; when false (the default) the router starts
     * on the configured topology and follows the catalog once it answers.
     */
    public B requireCatalog(boolean require) {
        this.requireCatalog = require;
        return self();
    }

    /**
     * How many keys {@link ShardedDataSource#newKey()} draws from the catalog at a time (default 100, at most
     * 100,000): one round trip per block; the rest of a block is unused when the router closes.
     */
    public B keyBlock(int keys) {
        if (keys < 1 || keys > 100_000) {
            throw new ConfigurationException("keyBlock " + keys + " is out of range 1..100000; 100 is the usual");
        }
        this.keyBlock = keys;
        return self();
    }

    /** Whether start-up tries one connection per node to mark unreachable nodes down (default true). */
    public B probeOnStart(boolean probe) {
        this.probe = probe;
        return self();
    }

    /** Builds the router; the catalog's pool it opened is closed again when the router cannot start. */
    <R> R build(Function<RouterBuilder<B>, R> router) {
        if (catalogNode != null) {
            HikariDataSource pool = NodePool.catalogPool(settings.connectAs(catalogNode), env);
            catalog = pool;
            ownedCatalogPool = pool;
        }
        try {
            return router.apply(this);
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
