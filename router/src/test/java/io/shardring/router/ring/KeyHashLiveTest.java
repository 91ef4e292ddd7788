package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java key hashes equal PostgreSQL's own, value for value, on a live server. */
@PgShards(1)
class KeyHashLiveTest {
    private static final int RANDOM_VALUES = 100_000;
    private static final int BATCH = 20_000;
    private static Connection db;

    @BeforeAll
    static void connect(PgCluster cluster) throws SQLException {
        db = cluster.shard(0).connect();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SHOW server_encoding")) {
            rs.next();
            assertThat(rs.getString(1)).as("text hashes are over UTF-8 bytes").isEqualTo("UTF8");
        }
    }

    @AfterAll
    static void close() throws SQLException {
        db.close();
    }

    @Test
    void bigintMatchesHashint8extended() throws SQLException {
        List<Long> values = new ArrayList<>(List.of(0L, 1L, -1L, 42L, Long.MIN_VALUE, Long.MAX_VALUE,
                (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L,
                1L << 32, -(1L << 32)));
        SplittableRandom rnd = new SplittableRandom(1);
        while (values.size() < RANDOM_VALUES) {
            values.add(rnd.nextInt(4) == 0 ? (long) rnd.nextInt() : rnd.nextLong());
        }
        assertThat(KeyHash.ofLong(42)).isEqualTo(8010225493015854792L);
        compare("bigint", "hashint8extended", values, v -> KeyHash.ofLong((Long) v));
    }

    @Test
    void integerMatchesHashint4extended() throws SQLException {
        List<Integer> values = new ArrayList<>(List.of(0, 1, -1, 42, Integer.MIN_VALUE, Integer.MAX_VALUE));
        SplittableRandom rnd = new SplittableRandom(2);
        while (values.size() < RANDOM_VALUES) {
            values.add(rnd.nextInt());
        }
        compare("integer", "hashint4extended", values, v -> KeyHash.ofInt((Integer) v));
        for (int v : values.subList(0, 1000)) {
            assertThat(KeyHash.ofLong(v)).as("int8 and int4 hashes agree on int values").isEqualTo(KeyHash.ofInt(v));
        }
    }

    @Test
    void textMatchesHashtextextended() throws SQLException {
        List<String> values = new ArrayList<>(List.of("", "a", "ab", "abc", "abcd", "tenant-42", "ü", "ß", "€", "日本",
                "😀", "a😀b", "ünïcödé-€-😀-日本語-𝄞", "x".repeat(1500), "ü€😀".repeat(700), "abcdefghijkl",
                "abcdefghijklm", "abcdefghijk", "ééééééé"));
        SplittableRandom rnd = new SplittableRandom(3);
        while (values.size() < RANDOM_VALUES) {
            values.add(randomText(rnd));
        }
        compare("text", "hashtextextended", values, v -> KeyHash.ofText((String) v));
    }

    @Test
    void uuidMatchesUuidHashExtended() throws SQLException {
        List<UUID> values = new ArrayList<>(List.of(new UUID(0, 0), new UUID(-1, -1),
                UUID.fromString("123e4567-e89b-12d3-a456-426614174000")));
        SplittableRandom rnd = new SplittableRandom(4);
        while (values.size() < RANDOM_VALUES) {
            values.add(new UUID(rnd.nextLong(), rnd.nextLong()));
        }
        compare("uuid", "uuid_hash_extended", values, v -> KeyHash.ofUuid((UUID) v));
    }

    /** ASCII, 2-, 3- and 4-byte UTF-8, lengths 0 to 40 with an occasional string over 1 KB. */
    static String randomText(SplittableRandom rnd) {
        int len = rnd.nextInt(100) == 0 ? 1025 + rnd.nextInt(2000) : rnd.nextInt(41);
        StringBuilder sb = new StringBuilder(len);
        int mode = rnd.nextInt(3);
        for (int i = 0; i < len; i++) {
            int kind = mode == 0 ? 0 : rnd.nextInt(4);
            switch (kind) {
                case 0:
                    sb.append((char) (1 + rnd.nextInt(0x7f)));
                    break;
                case 1:
                    sb.append((char) (0x80 + rnd.nextInt(0x800 - 0x80)));
                    break;
                case 2:
                    char c;
                    do {
                        c = (char) (0x800 + rnd.nextInt(0x10000 - 0x800));
                    } while (Character.isSurrogate(c) || c == 0xfffe || c == 0xffff);
                    sb.append(c);
                    break;
                default:
                    sb.appendCodePoint(0x10000 + rnd.nextInt(0x10ffff - 0x10000));
                    break;
            }
        }
        return sb.toString();
    }

    private interface JavaHash {
        long of(Object value);
    }

    private static void compare(String sqlType, String function, List<?> values, JavaHash java) throws SQLException {
        String sql = "SELECT " + function + "(v, 0) FROM unnest(?::" + sqlType + "[]) WITH ORDINALITY AS t(v, i) ORDER BY i";
        int checked = 0;
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            for (int from = 0; from < values.size(); from += BATCH) {
                List<?> batch = values.subList(from, Math.min(values.size(), from + BATCH));
                Array array = db.createArrayOf(sqlType, batch.toArray());
                ps.setArray(1, array);
                try (ResultSet rs = ps.executeQuery()) {
                    int i = 0;
                    while (rs.next()) {
                        Object v = batch.get(i++);
                        long expected = rs.getLong(1);
                        if (java.of(v) != expected) {
                            String shown = String.valueOf(v);
                            assertThat(java.of(v)).as("%s(%s, 0)", function,
                                    shown.length() > 80 ? shown.substring(0, 80) + "..." : shown).isEqualTo(expected);
                        }
                        checked++;
                    }
                    assertThat(i).isEqualTo(batch.size());
                }
                array.free();
            }
        }
        assertThat(checked).isGreaterThanOrEqualTo(RANDOM_VALUES);
    }
}
