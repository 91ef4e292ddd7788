package io.shardring.router.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.StaleEpochException;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * One HikariCP pool (a node's primary or one of its standbys) with the router's health state and
 * meters. It is the {@link DataSource} that {@code forKey} hands out, built once per node so that
 * routing allocates nothing.
 *
 * <p>Health: a connection failure (not mere pool exhaustion) marks the pool down for the back-off;
 * while down, calls fail at once with {@link ShardUnavailableException} instead of waiting the
 * connection timeout again. The first call after the back-off tries the server.
 *
 * <p>Fencing by epoch: for a node whose topology gives it an epoch above 0, every connection the pool (or
 * {@link #direct}) opens first checks that the server records that epoch, once, not per statement. A server on another
 * epoch is refused like one that cannot be reached (the pool is marked down), with a {@link StaleEpochException}
 * naming both epochs.
 */
final class NodePool extends ForwardingDataSource implements AutoCloseable {
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(NodePool.class);

    private final String poolName;
    private final String nodeId;
    private final String fingerprint;
    private final HikariDataSource pool;
    private final long backoffNanos;
    private final Counter routes;
    private final Timer acquire;
    private final RouterMetrics metrics;
    private volatile long downUntil;
    private final String jdbcUrl;
    private final Properties direct = new Properties();
    private final long epoch;
    /** Why the pool is marked down when its server was refused for its epoch; null otherwise. */
    private volatile StaleEpochException refused;

    NodePool(String poolName, NodeConfig node, String jdbcUrl, boolean readOnly, long backoffNanos,
            RouterMetrics metrics, Function<String, String> env) {
        this(poolName, node, jdbcUrl, readOnly, backoffNanos, metrics, env, null);
    }

    /**
     * @param initSql run on each new connection of the pool (Hikari's connectionInitSql), or null; the epoch check of
     *                {@code node}, when it has an epoch, runs before it
     */
    NodePool(String poolName, NodeConfig node, String jdbcUrl, boolean readOnly, long backoffNanos,
            RouterMetrics metrics, Function<String, String> env, String initSql) {
        this.poolName = poolName;
        this.nodeId = node.id();
        this.fingerprint = fingerprint(node, jdbcUrl);
        this.epoch = node.epoch();
        this.backoffNanos = backoffNanos;
        this.metrics = metrics;
        this.routes = metrics.routes(poolName);
        this.acquire = metrics.acquire(poolName);
        PoolSettings p = node.pool();
        HikariConfig config = new HikariConfig();
        config.setPoolName(poolName);
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(node.user());
        if (node.password() != null) {
            try {
                config.setPassword(node.password().resolve(env));
            } catch (ConfigurationException e) {
                throw new ConfigurationException("node '" + nodeId + "': " + e.getMessage(), e);
            }
        }
        config.setMaximumPoolSize(p.maximumPoolSize());
        config.setMinimumIdle(p.minimumIdle());
        config.setConnectionTimeout(p.connectionTimeout().toMillis());
        config.setIdleTimeout(p.idleTimeout().toMillis());
        config.setMaxLifetime(p.maxLifetime().toMillis());
        config.setValidationTimeout(Math.min(p.validationTimeout().toMillis(), p.connectionTimeout().toMillis()));
        config.setReadOnly(readOnly);
        String check = NodeEpoch.checkSql(epoch);
        String init = check == null ? initSql : initSql == null ? check : check + "; " + initSql;
        if (init != null) {
            config.setConnectionInitSql(init);
        }
        // start even when the server is down: the router marks the node down instead of refusing to start
        config.setInitializationFailTimeout(-1);
        config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(metrics.registry()));
        config.addDataSourceProperty("ApplicationName", "shardring");
        this.jdbcUrl = jdbcUrl;
        direct.setProperty("user", node.user());
        if (config.getPassword() != null) {
            direct.setProperty("password", config.getPassword());
        }
        this.pool = new HikariDataSource(config);
    }

    /**
     * A connection of its own, outside the pool, for the start-up probe and the replica monitor: with short timeouts,
     * so that a server that is gone shows as a failure within {@code timeoutSeconds} instead of the pool's connection
     * timeout.
     */
    Connection direct(int timeoutSeconds, String applicationName) throws SQLException {
        Properties props = new Properties();
        props.putAll(direct);
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("connectTimeout", String.valueOf(timeoutSeconds));
        props.setProperty("socketTimeout", String.valueOf(timeoutSeconds));
        props.setProperty("loginTimeout", String.valueOf(timeoutSeconds));
        Connection c = DriverManager.getConnection(jdbcUrl, props);
        try {
            NodeEpoch.check(c, nodeId, "shard " + poolName, epoch);
        } catch (StaleEpochException e) {
            c.close();
            throw fenced(e);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Marks the pool down for a server refused for its epoch, so that calls fail at once with {@code e}'s reason. */
    private StaleEpochException fenced(StaleEpochException e) {
        boolean first = refused == null;
        refused = e;
        markDown();
        if (first) {
            LOG.warn("{}; marked down for {} ms", e.getMessage(), TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        }
        return e;
    }

    /** Clears the down mark; true if the pool was marked down. */
    boolean markUp() {
        boolean was = downUntil != 0;
        downUntil = 0;
        refused = null;
        if (was) {
            evictPooled();
        }
        return was;
    }

    /**
     * Retires every pooled connection (idle ones now, borrowed ones when they come back) of a server that failed or
     * came back: Hikari checks a connection on borrow only when it sat idle for more than 500 ms, so a server killed
     * and restarted within that time would hand out connections to its dead processes (seen in tests: a restart in
     * 142 ms, then an I/O error on the first statement).
     */
    private void evictPooled() {
        com.zaxxer.hikari.HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        if (mx != null) {
            mx.softEvictConnections();
        }
    }

    /**
     * A small pool to the catalog's database for a router that follows it: one connection listens, one reads; it
     * starts even while the catalog is down.
     */
    static HikariDataSource catalogPool(NodeConfig node, Function<String, String> env) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("shardring-catalog");
        config.setJdbcUrl(node.jdbcUrl());
        config.setUsername(node.user());
        if (node.password() != null) {
            try {
                config.setPassword(node.password().resolve(env));
            } catch (ConfigurationException e) {
                throw new ConfigurationException("catalog node '" + node.id() + "': " + e.getMessage(), e);
            }
        }
        config.setMaximumPoolSize(3);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(node.pool().connectionTimeout().toMillis());
        config.setValidationTimeout(Math.min(node.pool().validationTimeout().toMillis(),
                node.pool().connectionTimeout().toMillis()));
        config.setInitializationFailTimeout(-1);
        config.addDataSourceProperty("ApplicationName", "shardring router");
        return new HikariDataSource(config);
    }

    static String fingerprint(NodeConfig node, String jdbcUrl) {
        // the password's hash, not its text: a changed literal password must reopen the pool too
        return jdbcUrl + "|" + node.user() + "|" + (node.password() == null ? 0 : node.password().hashCode()) + "|"
                + node.pool() + "|" + node.epoch();
    }

    String fingerprint() {
        return fingerprint;
    }

    String poolName() {
        return poolName;
    }

    String nodeId() {
        return nodeId;
    }

    boolean isDown() {
        long until = downUntil;
        return until != 0 && System.nanoTime() - until < 0;
    }

    void markDown() {
        boolean was = downUntil != 0;
        downUntil = System.nanoTime() + Math.max(1, backoffNanos);
        if (!was) {
            evictPooled();
        }
    }

    /** Tries one direct connection (not through the pool) so start-up can mark an unreachable node down quickly. */
    void probe(int timeoutSeconds) {
        try (Connection c = direct(timeoutSeconds, "shardring")) {
            downUntil = 0;
            refused = null;
        } catch (StaleEpochException e) {
            // marked down and logged by direct()
        } catch (SQLException e) {
            markDown();
            LOG.warn("shard {} is unreachable at start ({}); marked down for {} ms", poolName,
                    safeMessage(e), TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        long start = System.nanoTime();
        long until = downUntil;
        if (until != 0 && start - until < 0) {
            metrics.unavailable.increment();
            StaleEpochException fencedBy = refused;
            if (fencedBy != null) {
                throw new StaleEpochException(nodeId, fencedBy.serverEpoch(), fencedBy.topologyEpoch(),
                        fencedBy.getMessage() + " (marked down; tried again after its back-off)", fencedBy);
            }
            throw new ShardUnavailableException(nodeId, "shard " + poolName + " is marked down after connection"
                    + " failures; it is retried after its back-off", null);
        }
        Connection c;
        try {
            c = pool.getConnection();
        } catch (SQLException e) {
            if (pool.isClosed()) {
                // a topology change retired this pool after the caller routed to it: route again
                throw new io.shardring.router.StaleTopologyException("the pool of node " + nodeId + " was retired"
                        + " by a topology change after routing; route the key again", e);
            }
            metrics.unavailable.increment();
            // an interrupted wait (a cancelled request) says nothing about the server's health
            if (e.getCause() instanceof InterruptedException || Thread.currentThread().isInterrupted()) {
                throw new ShardUnavailableException(nodeId, "interrupted while waiting for a connection to shard "
                        + poolName, e);
            }
            StaleEpochException fencedBy = NodeEpoch.refusal(e, nodeId, "shard " + poolName, epoch);
            if (fencedBy != null) {
                throw fenced(fencedBy);
            }
            boolean serverFailure = e.getCause() != null || (e.getSQLState() != null && e.getSQLState().startsWith("08"));
            if (serverFailure) {
                markDown();
            }
            throw new ShardUnavailableException(nodeId, "shard " + poolName + " gave no connection within "
                    + pool.getConnectionTimeout() + " ms (" + (serverFailure ? "server unreachable: " + safeMessage(e)
                    : "pool of " + pool.getMaximumPoolSize() + " exhausted") + ")", e);
        }
        if (until != 0) {
            downUntil = 0;
            refused = null;
        }
        acquire.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        routes.increment();
        return c;
    }

    /** The root cause's message; PostgreSQL's driver never puts the password in it. */
    static String safeMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    int activeConnections() {
        HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        return mx == null ? 0 : mx.getActiveConnections();
    }

    /** Makes the pool's first connection now, so that the first caller does not wait for it; failures are ignored. */
    void warmUp() {
        try (Connection c = pool.getConnection()) {
            LOG.debug("pool {} warmed up", poolName);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("pool {} could not be warmed up: {}", poolName, safeMessage(e));
        }
    }

    /** Closes once borrowed connections are back, or after {@code timeoutNanos}. */
    void drainAndClose(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (activeConnections() > 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
    }

    @Override
    public void close() {
        pool.close();
    }

    /** Removes this pool's router meters; for a node that left the topology. */
    void removeMeters() {
        metrics.removeNode(routes, acquire);
    }

    boolean isClosed() {
        return pool.isClosed();
    }

    @Override
    protected DataSource delegate() {
        return pool;
    }

    @Override
    public String toString() {
        return "shard " + poolName + (isDown() ? " (down)" : "");
    }
}
