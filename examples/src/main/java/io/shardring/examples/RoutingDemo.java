package io.shardring.examples;

import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.TokenRange;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts three PostgreSQL shards, routes 1,000 tenants' rows through the ring, and shows that each
 * shard holds exactly the key ranges the ring gives it, checked by PostgreSQL with the range predicate.
 */
public final class RoutingDemo {
    private RoutingDemo() {
    }

    public static void main(String[] args) throws SQLException {
        int tenants = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        try (PgCluster cluster = PgCluster.start(3)) {
            System.out.println("started " + cluster.size() + " PostgreSQL shards (" + cluster.backend() + ")");
            HashRing.Builder builder = HashRing.builder(KeyType.BIGINT).vnodes(64);
            Map<String, PgShard> shards = new LinkedHashMap<>();
            for (PgShard shard : cluster.shards()) {
                builder.node(shard.name(), 1.0, "zone-" + shard.name());
                shards.put(shard.name(), shard);
            }
            HashRing ring = builder.build();
            System.out.println(ring + "\n");

            Map<String, Connection> conns = new HashMap<>();
            for (PgShard shard : shards.values()) {
                Connection c = shard.connect();
                try (Statement s = c.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS customers");
                    s.execute("CREATE TABLE customers (tenant_id bigint NOT NULL, name text NOT NULL,"
                            + " PRIMARY KEY (tenant_id))");
                }
                conns.put(shard.name(), c);
            }
            Map<String, Integer> routed = new LinkedHashMap<>();
            for (long tenant = 1; tenant <= tenants; tenant++) {
                RingNode owner = ring.route(tenant);
                try (PreparedStatement ps = conns.get(owner.id())
                        .prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (?, ?)")) {
                    ps.setLong(1, tenant);
                    ps.setString(2, "customer of tenant " + tenant);
                    ps.executeUpdate();
                }
                routed.merge(owner.id(), 1, Integer::sum);
                if (tenant <= 5) {
                    System.out.printf("tenant %d -> %s%n", tenant, owner.id());
                }
            }
            System.out.println();
            System.out.printf("%-8s %8s %8s %10s %s%n", "shard", "share", "rows", "in-range", "ranges");
            for (RingNode node : ring.nodes()) {
                List<TokenRange> ranges = ring.rangesOf(node.id());
                String predicate = TokenRange.toSql(ranges, KeyType.BIGINT, "tenant_id");
                try (Statement s = conns.get(node.id()).createStatement();
                        ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE " + predicate
                                + ") FROM customers")) {
                    rs.next();
                    System.out.printf("%-8s %7.1f%% %8d %10d %d%n", node.id(),
                            100 * ring.stats().shares().get(node.id()), rs.getLong(1), rs.getLong(2), ranges.size());
                    if (rs.getLong(1) != rs.getLong(2) || rs.getLong(1) != routed.getOrDefault(node.id(), 0)) {
                        throw new IllegalStateException("shard " + node.id() + " holds rows outside its ranges");
                    }
                }
            }
            HashRing bigger = ring.withNode(RingNode.of("shard3", 1.0, "zone-shard3"));
            RingDiff diff = HashRing.diff(ring, bigger);
            System.out.printf("%nadding shard3 would move %.1f%% of the keyspace in %d ranges:%n",
                    100 * diff.movedShare(), diff.moves().size());
            diff.byPair().forEach((pair, moves) -> System.out.printf("  %s: %d ranges%n", pair, moves.size()));
            for (Connection c : conns.values()) {
                c.close();
            }
        }
    }
}
