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
}
