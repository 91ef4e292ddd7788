package io.shardring.router.jdbc;

import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/** Test helpers: a topology over a testkit cluster, and SQL straight to one shard. */
final class Shards {
    private Shards() {
    }

    static Topology.Builder topology(PgCluster cluster) {
        Topology.Builder b = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT))
                .table("customers", "tenant_id");
        for (PgShard s : cluster.shards()) {
            b.node(node(s).build());
        }
        return b;
    }

    static NodeConfig.Builder node(PgShard s) {
        NodeConfig.Builder n = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user())
                .zone("zone-" + s.name()).pool(p -> p.maximumPoolSize(4).minimumIdle(1));
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n;
    }

    static long count(PgShard shard, String sql, Object... args) throws SQLException {
        try (Connection c = shard.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A condition a test waits for; it may query a server. */
    interface Condition {
        boolean holds() throws Exception;
    }

    /**
     * Waits until {@code condition} holds, checking every 10 ms, and fails naming {@code what} if it does not
     * within {@code bound}. For states reached by another thread or server; the bound is generous, never a
     * measure of speed.
     */
    static void await(String what, Duration bound, Condition condition) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + bound.toMillis() + " ms: " + what);
            }
            Thread.sleep(10);
        }
    }
}
