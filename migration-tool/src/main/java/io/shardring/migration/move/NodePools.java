package io.shardring.migration.move;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.StaleEpochException;
import io.shardring.router.jdbc.ForwardingDataSource;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.topology.NodeConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Small HikariCP pools to the nodes a tool works on, opened on first use, closed together. A node that gives no
 * connection is reported by id, host:port and the driver's reason ({@link ShardUnavailableException}), never by a
 * pool's timeout alone, and never with credentials. A node whose topology gives it an epoch is fenced by it: each
 * connection a pool or {@link #direct} opens first checks that the server records that epoch, and a server on another
 * one (an old primary that came back) is refused with a {@link StaleEpochException} naming both epochs.
 */
public final class NodePools implements AutoCloseable, Function<String, DataSource> {
    private final Map<String, NodeConfig> nodes = new LinkedHashMap<>();
    private final Map<String, NodeDataSource> pools = new LinkedHashMap<>();
    private final Function<String, String> env;
    private int maxPerNode = 6;

    public NodePools(Function<String, String> env) {
        this.env = env;
    }

    /** Makes a node known, or updates its settings while no pool to it is open yet. */
    public synchronized NodePools add(NodeConfig node) {
        if (!pools.containsKey(node.id())) {
            nodes.put(node.id(), node);
        }
        return this;
    }

    /** The ids of every node made known, in the order they were. */
    public synchronized java.util.Set<String> known() {
        return new java.util.LinkedHashSet<>(nodes.keySet());
    }

    public synchronized NodeConfig config(String nodeId) {
        NodeConfig n = nodes.get(nodeId);
        if (n == null) {
            throw new ConfigurationException("unknown node '" + nodeId + "'; known nodes: " + nodes.keySet());
        }
        return n;
    }

    /** The password of a node, resolved, or null; for subscriptions' connection strings only. */
    String password(String nodeId) {
        NodeConfig n = config(nodeId);
        return n.password() == null ? null : n.password().resolve(env);
    }

    @Override
    public synchronized DataSource apply(String nodeId) {
        NodeDataSource ds = pools.get(nodeId);
        if (ds == null) {
            NodeConfig n = config(nodeId);
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("shardring-tool-" + nodeId);
            hc.addDataSourceProperty("ApplicationName", "shardring tool"); // not an application: see UnroutedClients
            hc.setJdbcUrl(n.jdbcUrl());
            hc.setUsername(n.user());
            if (n.password() != null) {
                hc.setPassword(n.password().resolve(env));
            }
            hc.setMaximumPoolSize(maxPerNode);
            hc.setMinimumIdle(0);
            hc.setConnectionTimeout(n.pool().connectionTimeout().toMillis());
            hc.setInitializationFailTimeout(-1);
            hc.setConnectionInitSql(NodeEpoch.checkSql(n.epoch())); // null, no check, for a node not fenced by epoch
            ds = new NodeDataSource(nodeId, n.epoch(), address(n), new HikariDataSource(hc));
            pools.put(nodeId, ds);
        }
        return ds;
    }

    /**
     * Lets every pool hold at least {@code connections}: a move's jobs that copy at once each hold their COPY pipes'
     * connections on their source and target for the whole copy, and would otherwise wait for each other's.
     */
    public synchronized void ensureCapacity(int connections) {
        if (connections <= maxPerNode) {
            return;
        }
        maxPerNode = connections;
        pools.values().forEach(p -> p.pool.getHikariConfigMXBean().setMaximumPoolSize(connections));
    }

    /**
     * Tries one direct connection to the node (not through its pool); null when it answers, else why not, as
     * {@code host:port: reason}.
     */
    String probe(String nodeId, int timeoutSeconds) {
        try (Connection c = direct(nodeId, timeoutSeconds)) {
            return null;
        } catch (SQLException e) {
            return describe(nodeId, e);
        } catch (StaleEpochException e) {
            return e.getMessage();
        }
    }

    /** A failed connection to the node as {@code host:port: reason}. */
    String describe(String nodeId, SQLException e) {
        return address(config(nodeId)) + ": " + reason(e);
    }

    /**
     * A connection of its own to the node, outside its pool, that fails at once when the node refuses it: a pool
     * keeps trying for its whole connection timeout, which is too long while a fenced range waits (the cutover).
     */
    Connection direct(String nodeId, int timeoutSeconds) throws SQLException {
        // a target that hangs (not refuses) must still fail the fenced wait, not hold it forever
        NodeConfig n = config(nodeId);
        Connection c = connect(nodeId, n.jdbcUrl(), timeoutSeconds, 10, "shardring mover");
        try {
            NodeEpoch.check(c, nodeId, "node " + nodeId + " (" + address(n) + ")", n.epoch());
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * A libpq connection string to the node, for a subscription on another server: it carries the node's password, so
     * the statement that uses it must keep it out of that server's log.
     */
    public String conninfo(String nodeId, String applicationName) {
        NodeConfig n = config(nodeId);
        JdbcUrl url = JdbcUrl.parse(n.jdbcUrl());
        StringBuilder sb = new StringBuilder();
        sb.append("host=").append(quoteConninfo(url.host)).append(" port=").append(url.port).append(" dbname=")
                .append(quoteConninfo(url.database)).append(" user=").append(quoteConninfo(n.user()))
                .append(" application_name=").append(quoteConninfo(applicationName));
        url.ssl.forEach((k, v) -> sb.append(' ').append(k).append('=').append(quoteConninfo(v)));
        String password = password(nodeId);
        if (password != null) {
            sb.append(" password=").append(quoteConninfo(password));
        }
        return sb.toString();
    }

    private static String quoteConninfo(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /**
     * A connection of its own to another server of the node (a standby), with the node's user and password and short
     * timeouts, for inspection.
     */
    public Connection connectAs(String nodeId, String jdbcUrl, int timeoutSeconds, String applicationName)
            throws SQLException {
        return connect(nodeId, jdbcUrl, timeoutSeconds, timeoutSeconds * 2, applicationName);
    }

    private Connection connect(String nodeId, String jdbcUrl, int timeoutSeconds, int socketTimeoutSeconds,
            String applicationName) throws SQLException {
        NodeConfig n = config(nodeId);
        Properties props = new Properties();
        props.setProperty("user", n.user());
        String password = password(nodeId);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", String.valueOf(timeoutSeconds));
        props.setProperty("loginTimeout", String.valueOf(timeoutSeconds));
        props.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        props.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(jdbcUrl, props);
    }

    /** The node as an operator finds it: host:port of its JDBC URL. */
    static String address(NodeConfig n) {
        try {
            JdbcUrl url = JdbcUrl.parse(n.jdbcUrl());
            return url.host + ":" + url.port;
        } catch (ConfigurationException e) {
            return NodeConfig.maskUrl(n.jdbcUrl());
        }
    }

    /** The driver's own words about a failed connection: the innermost message (PostgreSQL's never holds a password). */
    static String reason(Throwable e) {
        String reason = e.getMessage();
        for (Throwable c = e; c != null && c.getCause() != c; c = c.getCause()) {
            if (c.getMessage() != null) {
                reason = c.getMessage();
            }
        }
        return reason == null ? e.getClass().getSimpleName() : reason.lines().findFirst().orElse(reason);
    }

    @Override
    public synchronized void close() {
        pools.values().forEach(p -> p.pool.close());
        pools.clear();
    }

    /** A node's pool whose connection failures name the node. */
    private static final class NodeDataSource extends ForwardingDataSource {
        private final String nodeId;
        private final long epoch;
        private final String address;
        private final HikariDataSource pool;

        NodeDataSource(String nodeId, long epoch, String address, HikariDataSource pool) {
            this.nodeId = nodeId;
            this.epoch = epoch;
            this.address = address;
            this.pool = pool;
        }

        /**
         * A pooled connection that answers: Hikari checks a connection on borrow only when it sat idle for more than
         * 500 ms, and a node killed and restarted within that time (a resumed move right after a restart) would get a
         * connection to a dead process; the tool's steps are coarse, so one round trip per borrow costs nothing.
         */
        @Override
        public Connection getConnection() throws SQLException {
            for (int attempt = 0; ; attempt++) {
                Connection c;
                try {
                    c = pool.getConnection();
                } catch (SQLException e) {
                    StaleEpochException refused = NodeEpoch.refusal(e, nodeId, this.toString(), epoch);
                    if (refused != null) {
                        throw refused;
                    }
                    throw new ShardUnavailableException(nodeId, "node " + nodeId + " (" + address + ") gave no"
                            + " connection: " + reason(e), e);
                }
                if (attempt > pool.getMaximumPoolSize() || c.isValid(5)) {
                    return c;
                }
                pool.evictConnection(c);
            }
        }

        @Override
        protected DataSource delegate() {
            return pool;
        }

        @Override
        public String toString() {
            return "node " + nodeId + " (" + address + ")";
        }
    }
}
