package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.CrossShard.Agg;
import io.shardring.router.jdbc.CrossShard.AggregateRow;
import io.shardring.router.jooq.ShardedDsl;
import io.shardring.router.topology.NodeConfig;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cross-shard queries merge to exactly what the same query returns on one database holding every row: the same
 * orders are written to three shards (each tenant on its owner) and to a database of their own.
 */
@PgShards(3)
class CrossShardTest {
    /** A row of the test's orders. */
    record Order(long tenant, long id, long cents) {
    }

    private static final Comparator<Order> BY_CENTS_DESC_THEN_ID =
            Comparator.comparingLong(Order::cents).reversed().thenComparingLong(Order::id);
    private static final String DDL = "CREATE TABLE orders_x (tenant_id bigint NOT NULL, id bigint PRIMARY KEY,"
            + " cents bigint NOT NULL, status text NOT NULL)";

    private static PgCluster cluster;
    private static ShardedDataSource shards;
    private static String everythingUrl;

    @BeforeAll
    static void start(PgCluster c) throws SQLException {
        cluster = c;
        shards = ShardedDataSource.builder(Shards.topology(c).build()).meterRegistry(new SimpleMeterRegistry())
                .build();
        // the shardring schema, for the ownership condition (orders_x itself is created below, without Flyway)
        io.shardring.router.schema.ShardedFlyway.configure(shards).load().migrate().orThrow();
        PgShard first = c.shard(0);
        try (Connection conn = first.connect(); Statement st = conn.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS everything");
            st.execute("CREATE DATABASE everything");
        }
        everythingUrl = first.jdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/everything$1");
        createEverywhere("orders_x", DDL);
        Random random = new Random(42);
        String[] statuses = {"paid", "open", "void"};
        try (Connection all = everything(); PreparedStatement ps = all.prepareStatement(
                "INSERT INTO orders_x VALUES (?, ?, ?, ?)")) {
            for (long id = 1; id <= 900; id++) {
                long tenant = random.nextInt(150);
                long cents = 1 + random.nextInt(50); // many ties: the id breaks them
                String status = statuses[random.nextInt(3)];
                ps.setLong(1, tenant);
                ps.setLong(2, id);
                ps.setLong(3, cents);
                ps.setString(4, status);
                ps.executeUpdate();
                long row = id;
                shards.inTransaction(tenant, conn -> {
                    try (PreparedStatement p = conn.prepareStatement("INSERT INTO orders_x VALUES (?, ?, ?, ?)")) {
                        p.setLong(1, tenant);
                        p.setLong(2, row);
                        p.setLong(3, cents);
                        p.setString(4, status);
                        return p.executeUpdate();
                    }
                });
            }
        }
        for (PgShard s : c.shards()) {
            assertThat(Shards.count(s, "SELECT count(*) FROM orders_x")).as(s.name()).isBetween(150L, 450L);
        }
    }

    @AfterAll
    static void stop() {
        shards.close();
    }

    /** The table, new, on every shard and in the database that holds every row. */
    private static void createEverywhere(String table, String ddl) throws SQLException {
        try (Connection all = everything(); Statement st = all.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
            st.execute(ddl);
        }
        shards.onAllShards(conn -> {
            try (Statement st = conn.createStatement()) {
                st.execute("DROP TABLE IF EXISTS " + table);
                st.execute(ddl);
            }
            return null;
        }).values().forEach(ShardResult::get);
    }

    private static Connection everything() throws SQLException {
        PgShard first = cluster.shard(0);
        return DriverManager.getConnection(everythingUrl, first.user(), first.password());
    }

    private static List<Order> topOrders(Connection c, String status, int limit, int offset) throws SQLException {
        return orders(c, "SELECT tenant_id, id, cents FROM orders_x WHERE status <> ? ORDER BY cents DESC, id"
                + " LIMIT ? OFFSET ?", status, limit, offset);
    }

    private static List<Order> orders(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<Order> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Order(rs.getLong(1), rs.getLong(2), rs.getLong(3)));
                }
            }
            return rows;
        }
    }

    @Test
    void orderByWithLimitAndOffsetMergesToTheOneDatabaseAnswer() throws SQLException {
        for (int[] window : new int[][] {{0, 10}, {5, 10}, {0, 1}, {37, 25}, {880, 50}, {0, 0}}) {
            int offset = window[0];
            int limit = window[1];
            List<Order> expected;
            try (Connection all = everything()) {
                expected = topOrders(all, "void", limit, offset);
            }
            Merged<List<Order>> merged = CrossShard.on(shards).sorted(BY_CENTS_DESC_THEN_ID, offset, limit,
                    (c, n) -> topOrders(c, "void", n, 0));
            assertThat(merged.isComplete()).isTrue();
            assertThat(merged.valueOrThrow()).as("offset %d limit %d", offset, limit).isEqualTo(expected);
        }

        // the same through jOOQ
        ShardedDsl dsl = ShardedDsl.of(shards);
        List<Order> expected;
        try (Connection all = everything()) {
            expected = topOrders(all, "void", 12, 3);
        }
        List<Order> viaJooq = dsl.sorted(
                Comparator.<org.jooq.Record3<Long, Long, Long>>comparingLong(r -> r.value3()).reversed()
                        .thenComparingLong(r -> r.value2()), 3, 12,
                (ctx, n) -> ctx.select(DSL.field("tenant_id", Long.class), DSL.field("id", Long.class),
                                DSL.field("cents", Long.class))
                        .from("orders_x").where(DSL.field("status").ne("void"))
                        .orderBy(DSL.field("cents").desc(), DSL.field("id")).limit(n))
                .valueOrThrow().stream().map(r -> new Order(r.value1(), r.value2(), r.value3())).toList();
        assertThat(viaJooq).isEqualTo(expected);
    }

    /**
     * Windows that one shard supplies almost alone: each shard must return its first {@code offset + limit} rows, or
     * the merge misses some. (The windows above fit inside what every shard holds, so a shard that returned only
     * {@code limit} rows would still merge right there.)
     */
    @Test
    void aWindowThatOneShardSuppliesAloneMergesToTheOneDatabaseAnswer() throws SQLException {
        String ddl = "CREATE TABLE orders_skew (tenant_id bigint NOT NULL, id bigint PRIMARY KEY,"
                + " cents bigint NOT NULL)";
        createEverywhere("orders_skew", ddl);
        String whaleNode = shards.nodeFor(0L);
        List<Long> whales = new ArrayList<>();
        List<Long> others = new ArrayList<>();
        for (long k = 0; whales.size() < 3 || others.size() < 20; k++) {
            (shards.nodeFor(k).equals(whaleNode) ? whales : others).add(k);
        }
        Random random = new Random(7);
        String insert = "INSERT INTO orders_skew VALUES (?, ?, ?)";
        try (Connection all = everything(); PreparedStatement ps = all.prepareStatement(insert)) {
            // 300 rows of three tenants on one node, 60 rows spread over the others, their amounts interleaved
            for (int i = 0; i < 360; i++) {
                long tenant = i < 300 ? whales.get(i % 3) : others.get(i % 20);
                long id = i + 1;
                long cents = i < 300 ? 100 + random.nextInt(300) : 1 + random.nextInt(500);
                ps.setLong(1, tenant);
                ps.setLong(2, id);
                ps.setLong(3, cents);
                ps.executeUpdate();
                shards.inTransaction(tenant, conn -> {
                    try (PreparedStatement p = conn.prepareStatement(insert)) {
                        p.setLong(1, tenant);
                        p.setLong(2, id);
                        p.setLong(3, cents);
                        return p.executeUpdate();
                    }
                });
            }
        }
        PgShard whaleShard = cluster.shards().stream().filter(s -> s.name().equals(whaleNode)).findFirst()
                .orElseThrow();
        assertThat(Shards.count(whaleShard, "SELECT count(*) FROM orders_skew")).as("rows on %s", whaleNode)
                .isGreaterThanOrEqualTo(300L);

        String sql = "SELECT tenant_id, id, cents FROM orders_skew ORDER BY cents DESC, id LIMIT ? OFFSET ?";
        for (int[] window : new int[][] {{0, 100}, {0, 200}, {150, 100}, {280, 60}, {299, 1}, {340, 40}}) {
            int offset = window[0];
            int limit = window[1];
            List<Order> expected;
            try (Connection all = everything()) {
                expected = orders(all, sql, limit, offset);
            }
            assertThat(expected).as("window %d+%d", offset, limit).isNotEmpty();
            Merged<List<Order>> merged = CrossShard.on(shards).sorted(BY_CENTS_DESC_THEN_ID, offset, limit,
                    (c, n) -> orders(c, sql, n, 0));
            assertThat(merged.valueOrThrow()).as("offset %d limit %d", offset, limit).isEqualTo(expected);
        }
    }

    @Test
    void countSumMinMaxAndAvgMergeToTheOneDatabaseAnswer() throws SQLException {
        String sql = "SELECT count(*), sum(cents), min(cents), max(cents) FROM orders_x WHERE status = ?";
        AggregateRow merged = CrossShard.on(shards).aggregate(sql, List.of("paid"), Agg.COUNT, Agg.SUM, Agg.MIN,
                Agg.MAX).valueOrThrow().get(0);
        try (Connection all = everything(); PreparedStatement ps = all.prepareStatement(
                "SELECT count(*), sum(cents), min(cents), max(cents), avg(cents) FROM orders_x WHERE status = ?")) {
            ps.setString(1, "paid");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(merged.getLong(0)).isEqualTo(rs.getLong(1));
                assertThat(merged.getDecimal(1)).isEqualByComparingTo(rs.getBigDecimal(2));
                assertThat(merged.getLong(2)).isEqualTo(rs.getLong(3));
                assertThat(merged.getLong(3)).isEqualTo(rs.getLong(4));
                assertThat(merged.avg(1, 0).setScale(12, RoundingMode.HALF_EVEN))
                        .isEqualByComparingTo(rs.getBigDecimal(5).setScale(12, RoundingMode.HALF_EVEN));
            }
        }

        // nothing to aggregate anywhere: one row, count 0 and the rest null, as SQL answers
        AggregateRow none = CrossShard.on(shards).aggregate(sql, List.of("refunded"), Agg.COUNT, Agg.SUM, Agg.MIN,
                Agg.MAX).valueOrThrow().get(0);
        assertThat(none.getLong(0)).isZero();
        assertThat(none.get(1)).isNull();
        assertThat(none.avg(1, 0)).isNull();
    }

    @Test
    void groupByMergesEachGroupsPartials() throws SQLException {
        List<AggregateRow> merged = ShardedDsl.of(shards).aggregate(ctx -> ctx.select(DSL.field("status"),
                        DSL.count(), DSL.sum(DSL.field("cents", Long.class)), DSL.max(DSL.field("cents", Long.class)))
                .from("orders_x").groupBy(DSL.field("status")), Agg.GROUP, Agg.COUNT, Agg.SUM, Agg.MAX)
                .valueOrThrow();
        Map<String, List<BigDecimal>> byStatus = new HashMap<>();
        for (AggregateRow r : merged) {
            byStatus.put((String) r.get(0), List.of(BigDecimal.valueOf(r.getLong(1)), r.getDecimal(2),
                    r.getDecimal(3)));
        }
        Map<String, List<BigDecimal>> expected = new HashMap<>();
        try (Connection all = everything(); Statement st = all.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT status, count(*), sum(cents), max(cents) FROM orders_x GROUP BY status")) {
            while (rs.next()) {
                expected.put(rs.getString(1), List.of(BigDecimal.valueOf(rs.getLong(2)), rs.getBigDecimal(3),
                        BigDecimal.valueOf(rs.getLong(4))));
            }
        }
        assertThat(byStatus).hasSize(3).isEqualTo(expected);
    }

    @Test
    void rowsAMoveCopiedButHasNotCleanedUpCountOnceWithTheOwnershipCondition() throws SQLException {
        // what a move leaves between its copy and its cleanup: the rows of shard0's tenants on shard1 too
        PgShard source = cluster.shard(0);
        PgShard target = cluster.shard(1);
        List<Object[]> copied = new ArrayList<>();
        try (Connection c = source.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT tenant_id, id, cents, status FROM orders_x")) {
            while (rs.next()) {
                copied.add(new Object[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4)});
            }
        }
        try (Connection c = target.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO orders_x VALUES (?, ?, ?, ?)")) {
            for (Object[] row : copied) {
                for (int i = 0; i < 4; i++) {
                    ps.setObject(i + 1, row[i]);
                }
                ps.executeUpdate();
            }
        }
        try {
            CrossShard cross = CrossShard.on(shards);
            assertThat(cross.aggregate("SELECT count(*) FROM orders_x", List.of(), Agg.COUNT).valueOrThrow().get(0)
                    .getLong(0)).as("without the condition").isEqualTo(900 + copied.size());
            assertThat(cross.aggregate("SELECT count(*) FROM orders_x WHERE " + cross.ownedRows("tenant_id"),
                    List.of(), Agg.COUNT).valueOrThrow().get(0).getLong(0)).isEqualTo(900);
        } finally {
            try (Connection c = target.connect(); PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM orders_x WHERE id = ?")) {
                for (Object[] row : copied) {
                    ps.setLong(1, (Long) row[1]);
                    ps.executeUpdate();
                }
            }
        }
    }

    @Test
    void groupsAndExtremesMatchAcrossNumericTypesAndSumsDoNotOverflow() {
        List<List<Object[]>> perShard = List.of(
                List.<Object[]>of(new Object[] {1, 2L, Long.MAX_VALUE, 5}, new Object[] {new BigDecimal("2.0"), 1L,
                        1L, 7}),
                List.<Object[]>of(new Object[] {1L, 3L, Long.MAX_VALUE, 9L}, new Object[] {new BigDecimal("2.00"), 1L,
                        2L, 3L}));
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        List<AggregateRow> rows = CrossShard.on(shards).aggregateRows(c -> perShard.get(next.getAndIncrement() % 2),
                Agg.GROUP, Agg.COUNT, Agg.SUM, Agg.MAX).valueOrThrow();
        // three shards answered: shard 0 and 2 with the first list, shard 1 with the second
        assertThat(rows).hasSize(2);
        AggregateRow one = rows.get(0);
        assertThat(one.getLong(1)).isEqualTo(7);
        assertThat(one.getDecimal(2)).isEqualByComparingTo(BigDecimal.valueOf(Long.MAX_VALUE)
                .multiply(BigDecimal.valueOf(3)));
        assertThat(((Number) one.get(3)).longValue()).isEqualTo(9);
        assertThat(rows.get(1).getLong(1)).isEqualTo(3);
    }

    @Test
    void aShardThatFailsIsReportedNotLeftOutSilently() {
        NodeConfig dead = NodeConfig.builder("dead").jdbcUrl("jdbc:postgresql://127.0.0.1:1/shardring").user("app")
                .pool(p -> p.connectionTimeout(java.time.Duration.ofMillis(500))).build();
        try (ShardedDataSource withDead = ShardedDataSource.builder(Shards.topology(cluster).node(dead).build())
                .meterRegistry(new SimpleMeterRegistry()).probeOnStart(false).build()) {
            Merged<List<AggregateRow>> counted = CrossShard.on(withDead).aggregate("SELECT count(*) FROM orders_x",
                    List.of(), Agg.COUNT);
            assertThat(counted.isComplete()).isFalse();
            assertThat(counted.failures()).containsOnlyKeys("dead");
            assertThat(counted.value().get(0).getLong(0)).isEqualTo(900);
            assertThatThrownBy(counted::valueOrThrow).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("1 of 4 shards failed").hasMessageContaining("dead (");
        }
    }

    @Test
    void aShardQueryThatDoesNotSortAsTheComparatorIsRefused() {
        assertThatThrownBy(() -> CrossShard.on(shards).sorted(BY_CENTS_DESC_THEN_ID, 0, 10,
                (c, n) -> {
                    List<Order> rows = new ArrayList<>(topOrders(c, "void", n, 0));
                    java.util.Collections.reverse(rows);
                    return rows;
                })).isInstanceOf(ShardringException.class).hasMessageContaining("out of the merge's order");
        assertThatThrownBy(() -> CrossShard.on(shards).sorted(BY_CENTS_DESC_THEN_ID, 0, 3,
                (c, n) -> topOrders(c, "void", n + 5, 0))).hasMessageContaining("put the limit the query gets");
    }
}
