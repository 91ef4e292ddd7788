package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SQL predicate of each node's ranges selects exactly the rows the Java ring assigns to that node. */
@PgShards(1)
class RangePredicateLiveTest {
    private static final int ROWS = 30_000;
    private static Connection db;

    @BeforeAll
    static void connect(PgCluster cluster) throws SQLException {
        db = cluster.shard(0).connect();
    }

    @AfterAll
    static void close() throws SQLException {
        db.close();
    }

    private static HashRing ring(KeyType type, TokenPlacement placement) {
        return HashRing.builder(type).placement(placement).vnodes(16)
                .node("pg-a", 1.0, "z1").node("pg-b", 2.0, "z2").node("pg-c", 1.0, "z3").node("pg-d", 0.5, "z1")
                .node("pg-e", 1.0, "z2").build();
    }

    @Test
    void bigintRanges() throws SQLException {
        SplittableRandom rnd = new SplittableRandom(11);
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            keys.add(rnd.nextLong());
        }
        check(KeyType.BIGINT, "bigint", keys, TokenPlacement.ALLOCATED);
        check(KeyType.BIGINT, "bigint", keys, TokenPlacement.MURMUR3);
    }

    @Test
    void integerRanges() throws SQLException {
        SplittableRandom rnd = new SplittableRandom(12);
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            keys.add(rnd.nextInt());
        }
        check(KeyType.INTEGER, "integer", keys, TokenPlacement.ALLOCATED);
    }

    @Test
    void textRanges() throws SQLException {
        SplittableRandom rnd = new SplittableRandom(13);
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            keys.add(i % 2 == 0 ? "tenant-" + rnd.nextLong() : KeyHashLiveTest.randomText(rnd));
        }
        check(KeyType.TEXT, "text", keys, TokenPlacement.ALLOCATED);
        check(KeyType.TEXT, "text", keys, TokenPlacement.SHA256);
    }

    @Test
    void uuidRanges() throws SQLException {
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            keys.add(UUID.randomUUID());
        }
        check(KeyType.UUID, "uuid", keys, TokenPlacement.XXH3);
    }

    @Test
    void boundariesAtEveryTokenAndAtTheEndsOfTheRing() throws SQLException {
        HashRing ring = ring(KeyType.BIGINT, TokenPlacement.FNV1A);
        Set<Long> values = new HashSet<>(List.of(Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE,
                Long.MAX_VALUE - 1, 0L));
        for (long t : ring.tokens()) {
            values.add(t);
            values.add(t - 1);
            values.add(t + 1);
        }
        try (Statement s = db.createStatement()) {
            s.execute("DROP TABLE IF EXISTS hv");
            s.execute("CREATE TABLE hv (v bigint)");
        }
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO hv SELECT unnest(?::bigint[])")) {
            ps.setArray(1, db.createArrayOf("bigint", values.toArray()));
            ps.executeUpdate();
        }
        int total = 0;
        for (RingNode node : ring.nodes()) {
            StringBuilder where = new StringBuilder("FALSE");
            for (TokenRange r : ring.rangesOf(node.id())) {
                for (long[] iv : r.inclusiveIntervals()) {
                    where.append(" OR v BETWEEN ").append(iv[0]).append(" AND ").append(iv[1]);
                }
            }
            Set<Long> selected = new HashSet<>();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM hv WHERE " + where)) {
                while (rs.next()) {
                    selected.add(rs.getLong(1));
                }
            }
            for (long v : values) {
                assertThat(selected.contains(v)).as("hash %s on %s", v, node.id())
                        .isEqualTo(ring.nodeForHash(v) == node);
            }
            total += selected.size();
        }
        assertThat(total).isEqualTo(values.size());
    }

    private static void check(KeyType type, String sqlType, List<Object> keys, TokenPlacement placement)
            throws SQLException {
        HashRing ring = ring(type, placement);
        try (Statement s = db.createStatement()) {
            s.execute("DROP TABLE IF EXISTS \"Tenant Data\"");
            s.execute("CREATE TABLE \"Tenant Data\" (\"tenant id\" " + sqlType + ")");
        }
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO \"Tenant Data\" SELECT unnest(?::" + sqlType + "[])")) {
            ps.setArray(1, db.createArrayOf(sqlType, keys.toArray()));
            assertThat(ps.executeUpdate()).isEqualTo(keys.size());
        }
        Map<String, Integer> expected = new HashMap<>();
        Map<String, Set<String>> expectedKeys = new HashMap<>();
        for (Object k : keys) {
            String owner = ring.route(k).id();
            expected.merge(owner, 1, Integer::sum);
            expectedKeys.computeIfAbsent(owner, x -> new HashSet<>()).add(k.toString());
        }
        int total = 0;
        for (RingNode node : ring.nodes()) {
            String predicate = TokenRange.toSql(ring.rangesOf(node.id()), type, "tenant id");
            Set<String> selected = new HashSet<>();
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT \"tenant id\" FROM \"Tenant Data\" WHERE " + predicate)) {
                while (rs.next()) {
                    selected.add(rs.getObject(1).toString());
                }
            }
            assertThat(selected).as("%s %s rows of %s", type, placement, node.id())
                    .isEqualTo(expectedKeys.getOrDefault(node.id(), Set.of()));
            total += selected.size();
        }
        assertThat(total).isEqualTo(new HashSet<>(keys.stream().map(Object::toString).toList()).size());
    }
}
