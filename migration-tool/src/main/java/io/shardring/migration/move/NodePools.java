package io.shardring.migration.move;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shardring.router.ConfigurationException;
import io.shardring.router.topology.NodeConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import javax.sql.DataSource;

/** Small HikariCP pools to the nodes a tool works on, opened on first use, closed together. */
public final class NodePools implements AutoCloseable, Function<String, DataSource> {
    private final Map<String, NodeConfig> nodes = new LinkedHashMap<>();
    private final Map<String, HikariDataSource> pools = new LinkedHashMap<>();
    private final Function<String, String> env;

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
        HikariDataSource ds = pools.get(nodeId);
        if (ds == null) {
            NodeConfig n = config(nodeId);
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("shardring-tool-" + nodeId);
            hc.setJdbcUrl(n.jdbcUrl());
            hc.setUsername(n.user());
            if (n.password() != null) {
                hc.setPassword(n.password().resolve(env));
            }
            hc.setMaximumPoolSize(6);
            hc.setMinimumIdle(0);
            hc.setConnectionTimeout(n.pool().connectionTimeout().toMillis());
            hc.setInitializationFailTimeout(-1);
            ds = new HikariDataSource(hc);
            pools.put(nodeId, ds);
        }
        return ds;
    }

    @Override
    public synchronized void close() {
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
    }
}
