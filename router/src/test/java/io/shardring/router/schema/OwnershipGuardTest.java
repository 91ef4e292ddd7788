package io.shardring.router.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyHash;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ownership guard on a live shard: which writes it rejects with {@value StaleTopologyException#SQLSTATE},
 * which it lets through, and how a change of ownership fences writes in flight.
 *
 * <p>Each test makes its own tables in schema {@value #SCHEMA} and sets the shard's owned ranges itself. The
 * guard is compiled for one key type per shard, so a test guards only tables of its own key type: the
 * schema is dropped and its guard entries removed before each test. On external servers the database outlives
 * this class, so guard entries of other tables and the shard's ownership are set aside first and put back at
 * the end.
 */
@PgShards(1)
class OwnershipGuardTest {
    private static final String NODE = "shard0";
    private static final String SCHEMA = "guard_test";
    private static final AtomicLong VERSION = new AtomicLong(1000);

    private static PgShard shard;
    private static final List<Object[]> otherGuardedTables = new ArrayList<>();
    private static List<TokenRange> ownedBefore;
    private static Object[] identityBefore;

    @BeforeAll
    static void shardringSchema(PgCluster cluster) throws SQLException {
        shard = cluster.shard(0);
        ShardedFlyway.shardringFlyway(shard.dataSource()).migrate();
        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try (ResultSet rs = s.executeQuery("SELECT table_schema, table_name, key_column, guard_function"
                    + " FROM shardring.guarded_tables WHERE table_schema <> '" + SCHEMA + "'")) {
                while (rs.next()) {
                    otherGuardedTables.add(new Object[] {rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4)});
                }
            }
            ownedBefore = OwnershipGuard.readOwned(c);
            identityBefore = OwnershipGuard.identity(c);
            s.executeUpdate("DELETE FROM shardring.guarded_tables WHERE table_schema <> '" + SCHEMA + "'");
            c.commit();
        }
    }

    @AfterAll
    static void putBackWhatWasThere() throws SQLException {
        if (shard == null) {
            return;
        }
        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            s.executeUpdate("DELETE FROM shardring.guarded_tables WHERE table_schema = '" + SCHEMA + "'");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.guarded_tables (table_schema,"
                    + " table_name, key_column, guard_function) VALUES (?, ?, ?, ?)")) {
                for (Object[] row : otherGuardedTables) {
                    for (int i = 0; i < 4; i++) {
                        ps.setObject(i + 1, row[i]);
                    }
                    ps.executeUpdate();
                }
            }
            // the other tables' guard functions were never recompiled here, so only the rows need putting back
            s.executeUpdate("DELETE FROM shardring.owned_ranges");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.owned_ranges (lo, hi) VALUES (?, ?)")) {
                for (TokenRange r : ownedBefore) {
                    for (long[] iv : r.inclusiveIntervals()) {
                        ps.setLong(1, iv[0]);
                        ps.setLong(2, iv[1]);
                        ps.executeUpdate();
                    }
                }
            }
            s.executeUpdate("DELETE FROM shardring.shard_identity");
            if (identityBefore != null) {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO shardring.shard_identity (node_id, topology_version) VALUES (?, ?)")) {
                    ps.setString(1, (String) identityBefore[0]);
                    ps.setLong(2, (Long) identityBefore[1]);
                    ps.executeUpdate();
                }
            }
            c.commit();
        }
    }

    @BeforeEach
    void emptyTestSchema() throws SQLException {
        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            s.executeUpdate("DELETE FROM shardring.guarded_tables WHERE table_schema = '" + SCHEMA + "'");
            s.execute("CREATE SCHEMA " + SCHEMA);
        }
    }

    // ---- helpers ----

    /** Creates a table {@code (k <type>, v text)} in the test schema; no primary key, so re-keying never conflicts. */
    private static ShardedTable table(Connection c, String name, KeyType type, boolean keyNotNull) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + SCHEMA + "." + name + " (k " + type.sqlType() + (keyNotNull ? " NOT NULL" : "")
                    + ", v text)");
        }
        return ShardedTable.of(SCHEMA, name, "k");
    }

    /** Installs the guard on the tables and sets the shard's owned ranges, in one transaction. */
    private static void guard(Connection c, KeyType type, List<TokenRange> owned, ShardedTable... tables)
            throws SQLException {
        c.setAutoCommit(false);
        OwnershipGuard.install(c, NODE, type, List.of(tables));
        OwnershipGuard.setOwnedRanges(c, NODE, VERSION.incrementAndGet(), type, owned);
        c.commit();
        c.setAutoCommit(true);
    }

    private static void own(Connection c, KeyType type, List<TokenRange> owned) throws SQLException {
        c.setAutoCommit(false);
        OwnershipGuard.setOwnedRanges(c, NODE, VERSION.incrementAndGet(), type, owned);
        c.commit();
        c.setAutoCommit(true);
    }

    /** The key's ring hash as the shard computes it, with the key type's own SQL function. */
    private static long hash(Connection c, KeyType type, Object key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + type.sqlFunction() + "(CAST(? AS "
                + type.sqlType() + "), 0)")) {
            ps.setObject(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The arc that holds exactly one hash value. */
    private static TokenRange only(long hash) {
        return new TokenRange(hash - 1, hash);
    }

    /** Runs an update; {@code ?} parameters bound in order. */
    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }

    private static long count(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private interface SqlCall {
        void run() throws Exception;
    }

    private static void assertRejected(SqlCall call) {
        assertFailsWith(StaleTopologyException.SQLSTATE, call);
    }

    private static void assertFailsWith(String sqlState, SqlCall call) {
        assertThatThrownBy(call::run).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as("SQLSTATE of %s", e)
                        .isEqualTo(sqlState));
    }

    private static void bypassed(Connection c, SqlCall call) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
            call.run();
            s.execute("RESET shardring.bypass_guard");
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Waits until the backend waits for a lock; fails if {@code work} (that backend's call) finishes first. */
    private static void awaitLockWait(Connection observer, int pid, Future<?> work, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            if (count(observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'",
                    pid) == 1) {
                return;
            }
            if (work.isDone()) {
                throw new AssertionError(what + ": it finished instead of waiting for a lock"
                        + (work.isCancelled() ? "" : " (" + outcome(work) + ")"));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": it did not wait for a lock within 5 s");
            }
            Thread.sleep(5);
        }
    }

    private static String outcome(Future<?> f) {
        try {
            return "returned " + f.get();
        } catch (ExecutionException e) {
            return "threw " + e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Arcs between consecutive tokens of a 16-node ring of 64 vnodes each (MURMUR3 placement) and {@code extraTokens},
     * each arc on its own (so that owned neighbours touch): arc {@code i} ends at the {@code i}-th token, arc 0 wraps
     * past Long.MAX_VALUE; only arcs for which {@code owned} holds are returned, arc 0 first.
     */
    private static List<TokenRange> manyArcs(Set<Long> extraTokens, IntPredicate owned) {
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).placement(TokenPlacement.MURMUR3).vnodes(64);
        for (int i = 0; i < 16; i++) {
            b.node(String.format("pg-%02d", i), 1.0, "z" + (i % 3));
        }
        TreeSet<Long> sorted = new TreeSet<>(extraTokens);
        for (long token : b.build().tokens()) {
            sorted.add(token);
        }
        long[] t = sorted.stream().mapToLong(Long::longValue).toArray();
        List<TokenRange> arcs = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            if (owned.test(i)) {
                arcs.add(new TokenRange(t[i == 0 ? t.length - 1 : i - 1], t[i]));
            }
        }
        return arcs;
    }

    /** Whether the arcs own the hash: the ring's own arithmetic, not the compiled search. */
    private static boolean owns(List<TokenRange> arcs, long hash) {
        for (TokenRange r : arcs) {
            if (r.contains(hash)) {
                return true;
            }
        }
        return false;
    }

    /** The thresholds of a bounds literal such as {@code {1,5,9}}. */
    private static long[] bounds(String literal) {
        assertThat(literal).startsWith("{").endsWith("}");
        String inner = literal.substring(1, literal.length() - 1);
        return inner.isEmpty() ? new long[0] : Arrays.stream(inner.split(",")).mapToLong(Long::parseLong).toArray();
    }

    /** The compiled search's answer for each value, evaluated by the server with the value bound to {@code v}. */
    private static Map<Long, Boolean> evaluate(Connection c, List<long[]> intervals, Set<Long> values)
            throws SQLException {
        Map<Long, Boolean> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT v, " + OwnershipGuard.ownsSql("v", intervals)
                + " FROM unnest(?::bigint[]) AS u(v)")) {
            ps.setArray(1, c.createArrayOf("bigint", values.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getBoolean(2));
                }
            }
        }
        return out;
    }

    /** Runs a function {@code (bigint[], ...) -> bigint[]} and returns its result as a set. */
    private static Set<Long> callForKeys(Connection c, String sql, List<Long> keys, Object... more)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("bigint", keys.toArray()));
            for (int i = 0; i < more.length; i++) {
                ps.setObject(i + 2, more[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new HashSet<>(Arrays.asList((Long[]) rs.getArray(1).getArray()));
            }
        }
    }

    private static Object[] keys(KeyType type) {
        switch (type) {
            case BIGINT:
                return new Object[] {4_000_000_001L, -17L};
            case INTEGER:
                return new Object[] {1001, -1002};
            case TEXT:
                return new Object[] {"tenant-ä", "tenant-b"};
            default:
                return new Object[] {UUID.fromString("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
                        UUID.fromString("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")};
        }
    }

    // ---- tests ----

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void writesOfKeysTheShardDoesNotOwnAreRejectedAndOwnedKeysPass(KeyType type) throws Exception {
        try (Connection c = shard.connect()) {
            Object owned = keys(type)[0];
            Object other = keys(type)[1];
            long hOwned = hash(c, type, owned);
            assertThat(hash(c, type, other)).isNotEqualTo(hOwned);
            ShardedTable t = table(c, "t_" + type.sqlType(), type, true);
            // the shard owns exactly one hash value: its key's
            guard(c, type, List.of(only(hOwned)), t);
            String k = "CAST(? AS " + type.sqlType() + ")";
            String table = t.quotedName();

            // owned: insert, update, delete pass
            assertThat(update(c, "INSERT INTO " + table + " (k, v) VALUES (" + k + ", 'a')", owned)).isEqualTo(1);
            assertThat(update(c, "UPDATE " + table + " SET v = 'b' WHERE k = " + k, owned)).isEqualTo(1);
            assertThat(update(c, "DELETE FROM " + table + " WHERE k = " + k, owned)).isEqualTo(1);

            // not owned: insert rejected, naming the key
            assertThatThrownBy(() -> update(c, "INSERT INTO " + table + " (k, v) VALUES (" + k + ", 'x')", other))
                    .isInstanceOf(SQLException.class).hasMessageContaining("does not own key " + other)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState())
                            .isEqualTo(StaleTopologyException.SQLSTATE));
            // a row of a key it does not own (left behind before a cleanup, say): update and delete rejected
            bypassed(c, () -> update(c, "INSERT INTO " + table + " (k, v) VALUES (" + k + ", 'stray')", other));
            assertRejected(() -> update(c, "UPDATE " + table + " SET v = 'y' WHERE k = " + k, other));
            assertRejected(() -> update(c, "DELETE FROM " + table + " WHERE k = " + k, other));
            // re-keying it into an owned key is rejected too: the old key must be owned as well
            assertRejected(() -> update(c, "UPDATE " + table + " SET k = " + k + " WHERE k = " + k, owned, other));
            // and an owned row cannot be re-keyed out of the shard's ranges
            update(c, "INSERT INTO " + table + " (k, v) VALUES (" + k + ", 'a')", owned);
            assertRejected(() -> update(c, "UPDATE " + table + " SET k = " + k + " WHERE k = " + k, other, owned));

            assertThat(count(c, "SELECT count(*) FROM " + table + " WHERE k = " + k + " AND v = 'stray'", other))
                    .isEqualTo(1);
            assertThat(count(c, "SELECT count(*) FROM " + table + " WHERE k = " + k + " AND v = 'a'", owned))
                    .isEqualTo(1);
            assertThat(count(c, "SELECT count(*) FROM " + table)).isEqualTo(2);
        }
    }

    @Test
    void aNullKeyIsLeftToTheColumnsNotNullConstraint() throws Exception {
        KeyType type = KeyType.BIGINT;
        try (Connection c = shard.connect()) {
            long owned = 5;
            long other = 6;
            ShardedTable nullable = table(c, "nullable", type, false);
            ShardedTable notNull = table(c, "not_null", type, true);
            guard(c, type, List.of(only(hash(c, type, owned))), nullable, notNull);
            String n = nullable.quotedName();

            // the guard lets a NULL key through; a NOT NULL column then refuses it with its own error
            assertThat(update(c, "INSERT INTO " + n + " (k, v) VALUES (NULL, 'null')")).isEqualTo(1);
            assertFailsWith("23502", () -> update(c, "INSERT INTO " + notNull.quotedName() + " (k, v) VALUES (NULL, 'x')"));

            // from NULL to an owned key, and back: no key the shard does not own is involved
            assertThat(update(c, "UPDATE " + n + " SET k = ? WHERE k IS NULL", owned)).isEqualTo(1);
            assertThat(update(c, "UPDATE " + n + " SET k = NULL WHERE k = ?", owned)).isEqualTo(1);
            // from NULL to a key it does not own: the new key is checked
            assertRejected(() -> update(c, "UPDATE " + n + " SET k = ? WHERE k IS NULL", other));
            // from a key it does not own to NULL: the old key is checked
            bypassed(c, () -> update(c, "INSERT INTO " + n + " (k, v) VALUES (?, 'stray')", other));
            assertRejected(() -> update(c, "UPDATE " + n + " SET k = NULL WHERE k = ?", other));
            assertThat(update(c, "DELETE FROM " + n + " WHERE k IS NULL")).isEqualTo(1);
            assertThat(count(c, "SELECT count(*) FROM " + n + " WHERE k = ?", other)).isEqualTo(1);
        }
    }

    @Test
    void aNewOwnershipAppliesAtOnceOnlyWhenCommittedAndCoversWrappingWholeAndEmptyRanges() throws Exception {
        KeyType type = KeyType.BIGINT;
        try (Connection c = shard.connect()) {
            long a = 11;
            long b = 12;
            long ha = hash(c, type, a);
            ShardedTable t = table(c, "t", type, true);
            String insert = "INSERT INTO " + t.quotedName() + " (k, v) VALUES (?, 'v')";
            guard(c, type, List.of(only(ha)), t);
            assertThat(update(c, insert, a)).isEqualTo(1);
            assertRejected(() -> update(c, insert, b));

            // everything but a's hash: an arc that wraps past Long.MAX_VALUE, start exclusive
            TokenRange allButA = new TokenRange(ha, ha - 1);
            assertThat(allButA.wraps()).isTrue();
            own(c, type, List.of(allButA));
            assertRejected(() -> update(c, insert, a));
            assertThat(update(c, insert, b)).isEqualTo(1);
            assertThat(OwnershipGuard.readOwned(c)).hasSize(2);
            assertThat(OwnershipGuard.identity(c)).containsExactly(NODE, VERSION.get());

            // a change rolled back changes nothing, the compiled guard included
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, NODE, VERSION.incrementAndGet(), type, List.of(only(ha)));
            c.rollback();
            c.setAutoCommit(true);
            assertRejected(() -> update(c, insert, a));
            assertThat(update(c, insert, b)).isEqualTo(1);

            // the whole ring, then nothing
            own(c, type, List.of(new TokenRange(0, 0)));
            assertThat(update(c, insert, a)).isEqualTo(1);
            assertThat(update(c, insert, b)).isEqualTo(1);
            assertThat(OwnershipGuard.readOwned(c)).containsExactly(new TokenRange(0, 0));
            own(c, type, List.of());
            assertRejected(() -> update(c, insert, a));
            assertRejected(() -> update(c, insert, b));
            assertThat(OwnershipGuard.readOwned(c)).isEmpty();
        }
    }

    @Test
    void aSessionWithCachedPlansSeesANewOwnershipAtItsNextStatement() throws Exception {
        // the triggers' condition folds the bounds function once per statement: neither a server-prepared
        // statement nor a PL/pgSQL plan may keep the bounds of the ownership it was planned under
        KeyType type = KeyType.BIGINT;
        try (Connection writer = shard.connect(); Connection tool = shard.connect();
                Statement ws = writer.createStatement()) {
            long a = 31;
            long b = 32;
            long ha = hash(tool, type, a);
            long hb = hash(tool, type, b);
            ShardedTable t = table(tool, "cached", type, true);
            guard(tool, type, List.of(only(ha)), t);
            ws.execute("CREATE FUNCTION " + SCHEMA + ".put(key bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
                    + " INSERT INTO " + t.quotedName() + " (k, v) VALUES (key, 'f'); END $$");
            try (PreparedStatement insert = writer.prepareStatement("INSERT INTO " + t.quotedName()
                    + " (k, v) VALUES (?, 'p')"); PreparedStatement call = writer.prepareStatement(
                    "SELECT " + SCHEMA + ".put(?)")) {
                // past the driver's prepareThreshold (5) and the server's switch to a generic plan (5)
                for (int i = 0; i < 12; i++) {
                    insert.setLong(1, a);
                    assertThat(insert.executeUpdate()).isEqualTo(1);
                    call.setLong(1, a);
                    call.execute();
                }
                SqlCall insertB = () -> {
                    insert.setLong(1, b);
                    insert.executeUpdate();
                };
                SqlCall callB = () -> {
                    call.setLong(1, b);
                    call.execute();
                };
                assertRejected(insertB);
                assertRejected(callB);

                own(tool, type, List.of(only(hb)));
                insertB.run();
                callB.run();
                insert.setLong(1, a);
                assertRejected(insert::executeUpdate);
                call.setLong(1, a);
                assertRejected(call::execute);
            }
            assertThat(count(tool, "SELECT count(*) FROM " + t.quotedName() + " WHERE k = " + b)).isEqualTo(2);
            assertThat(count(tool, "SELECT count(*) FROM " + t.quotedName() + " WHERE k = " + a)).isEqualTo(24);
        }
    }

    @Test
    void theFenceWaitsForAWriteInFlightAndChecksWritesQueuedBehindItAgainstTheNewRanges() throws Exception {
        KeyType type = KeyType.BIGINT;
        long inFlight = 21;
        long queued = 22;
        long kept = 23;
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (Connection setup = shard.connect(); Connection writer = shard.connect();
                Connection fence = shard.connect(); Connection late = shard.connect()) {
            ShardedTable t = table(setup, "t", type, true);
            String insert = "INSERT INTO " + t.quotedName() + " (k, v) VALUES (?, 'v')";
            TokenRange keptRange = only(hash(setup, type, kept));
            guard(setup, type, List.of(only(hash(setup, type, inFlight)), only(hash(setup, type, queued)), keptRange),
                    t);
            // both writers have run the guard once, so each has its compiled form cached
            update(late, insert, kept);
            writer.setAutoCommit(false);
            update(writer, insert, kept);

            // a write in flight: inserted an owned key, not committed yet
            assertThat(update(writer, insert, inFlight)).isEqualTo(1);

            // the fence: the shard gives up the ranges of inFlight and queued
            int fencePid = pid(fence);
            Future<Long> fenced = threads.submit(() -> {
                fence.setAutoCommit(false);
                OwnershipGuard.setOwnedRanges(fence, NODE, VERSION.incrementAndGet(), type, List.of(keptRange));
                // what the fence sees once it holds the tables: the write in flight has committed
                long seen = count(fence, "SELECT count(*) FROM " + t.quotedName() + " WHERE k = ?", inFlight);
                fence.commit();
                return seen;
            });
            awaitLockWait(setup, fencePid, fenced, "setOwnedRanges with a write in flight");

            // a write of a key in a range being given up, issued after the fence started: it queues behind it
            int latePid = pid(late);
            Future<Integer> lateWrite = threads.submit(() -> update(late, insert, queued));
            awaitLockWait(setup, latePid, lateWrite, "a write issued after the fence started");
            assertThat(fenced).isNotDone();

            writer.commit();

            assertThat(fenced.get(30, TimeUnit.SECONDS)).as("the write in flight committed before the fence did")
                    .isEqualTo(1);
            assertThatThrownBy(() -> lateWrite.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState())
                            .isEqualTo(StaleTopologyException.SQLSTATE));
            assertThat(count(setup, "SELECT count(*) FROM " + t.quotedName() + " WHERE k = ?", queued)).isZero();
            assertThat(count(setup, "SELECT count(*) FROM " + t.quotedName() + " WHERE k = ?", inFlight)).isEqualTo(1);
            assertThat(OwnershipGuard.readOwned(setup)).containsExactly(keptRange);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aFenceBehindAnIdleTransactionFailsWithALockTimeoutAndReleasesTheWritersQueuedBehindIt() throws Exception {
        KeyType type = KeyType.BIGINT;
        long idleKey = 31;
        long writerKey = 32;
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (Connection setup = shard.connect(); Connection idle = shard.connect();
                Connection fence = shard.connect(); Connection writer = shard.connect()) {
            ShardedTable t = table(setup, "t", type, true);
            String insert = "INSERT INTO " + t.quotedName() + " (k, v) VALUES (?, 'v')";
            List<TokenRange> owned = List.of(only(hash(setup, type, idleKey)), only(hash(setup, type, writerKey)));
            guard(setup, type, owned, t);

            // idle in transaction, holding ROW EXCLUSIVE on the table
            idle.setAutoCommit(false);
            assertThat(update(idle, insert, idleKey)).isEqualTo(1);

            int fencePid = pid(fence);
            Future<Void> fenced = threads.submit(() -> {
                fence.setAutoCommit(false);
                try {
                    OwnershipGuard.setOwnedRanges(fence, NODE, VERSION.incrementAndGet(), type, List.of());
                    fence.commit();
                } finally {
                    if (!fence.getAutoCommit()) {
                        fence.rollback();
                    }
                }
                return null;
            });
            awaitLockWait(setup, fencePid, fenced, "setOwnedRanges behind an idle transaction");
            // a writer arriving now queues behind the waiting fence
            int writerPid = pid(writer);
            Future<Integer> queued = threads.submit(() -> update(writer, insert, writerKey));
            awaitLockWait(setup, writerPid, queued, "a write issued while the fence waits");

            // the fence gives up with a lock timeout (55P03) rather than holding the table's writers forever
            assertThatThrownBy(() -> fenced.get(45, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            assertThat(queued.get(30, TimeUnit.SECONDS)).as("the queued writer proceeds").isEqualTo(1);
            idle.commit();
            assertThat(OwnershipGuard.readOwned(setup)).as("the failed fence changed nothing")
                    .containsExactlyInAnyOrderElementsOf(owned);
            assertThat(count(setup, "SELECT count(*) FROM " + t.quotedName())).isEqualTo(2);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void theCompiledSearchAgreesWithTheArcsAtEveryIntervalBoundary() throws Exception {
        SplittableRandom rnd = new SplittableRandom(41);
        Set<Long> keyTokens = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            keyTokens.add(rnd.nextLong());
        }
        // every other arc, and every seventh too, so that some owned arcs touch and must merge
        IntPredicate pattern = i -> i % 2 == 1 || i % 7 == 0;
        List<TokenRange> many = manyArcs(keyTokens, pattern);
        assertThat(many.get(0).wraps()).isTrue();
        assertThat(many.get(0).inclusiveIntervals()).as("the arc across Long.MAX_VALUE").hasSize(2);
        List<List<TokenRange>> cases = List.of(
                many,
                manyArcs(keyTokens, pattern.negate()),
                List.of(new TokenRange(Long.MAX_VALUE - 5, Long.MAX_VALUE), new TokenRange(Long.MAX_VALUE - 5,
                        Long.MAX_VALUE), new TokenRange(Long.MAX_VALUE, Long.MIN_VALUE + 5),
                        new TokenRange(Long.MIN_VALUE, Long.MIN_VALUE + 3),
                        new TokenRange(Long.MIN_VALUE + 5, Long.MIN_VALUE + 6), new TokenRange(-1, 0),
                        new TokenRange(0, 1), new TokenRange(100, 200), new TokenRange(150, 180)),
                List.of(new TokenRange(0, 0)),
                List.of(new TokenRange(Long.MAX_VALUE, 0), new TokenRange(0, Long.MAX_VALUE)),
                List.of(only(Long.MIN_VALUE), only(Long.MAX_VALUE)),
                List.of());
        try (Connection c = shard.connect()) {
            for (List<TokenRange> arcs : cases) {
                List<long[]> intervals = HashIntervals.of(arcs);
                Set<Long> values = new LinkedHashSet<>(List.of(Long.MIN_VALUE, Long.MIN_VALUE + 1, -1L, 0L, 1L,
                        Long.MAX_VALUE - 1, Long.MAX_VALUE));
                int raw = 0;
                for (TokenRange r : arcs) {
                    for (long[] iv : r.inclusiveIntervals()) {
                        raw++;
                        values.addAll(List.of(iv[0], iv[1], iv[0] - 1, iv[1] + 1)); // wraps at the ends
                    }
                }
                for (int i = 0; i < 2000; i++) {
                    values.add(rnd.nextLong());
                }
                Map<Long, Boolean> compiled = evaluate(c, intervals, values);
                List<String> wrong = new ArrayList<>();
                for (long v : values) {
                    if (compiled.get(v) != owns(arcs, v)) {
                        wrong.add(v + (owns(arcs, v) ? " (owned)" : " (not owned)"));
                    }
                }
                assertThat(wrong).as("hashes the compiled search of %d intervals gets wrong", intervals.size())
                        .isEmpty();

                // sorted, disjoint, not touching: nothing left to merge
                for (int i = 1; i < intervals.size(); i++) {
                    assertThat(intervals.get(i - 1)[1]).isLessThan(Long.MAX_VALUE);
                    assertThat(intervals.get(i)[0]).isGreaterThan(intervals.get(i - 1)[1] + 1);
                }
                // a search, not a chain: the thresholds of width_bucket, strictly ascending, two per interval but
                // none past Long.MAX_VALUE
                long[] bounds = bounds(OwnershipGuard.boundsLiteral(intervals));
                int n = intervals.size();
                boolean toTheEnd = n > 0 && intervals.get(n - 1)[1] == Long.MAX_VALUE;
                assertThat(bounds).hasSize(2 * n - (toTheEnd ? 1 : 0));
                for (int i = 1; i < bounds.length; i++) {
                    assertThat(bounds[i]).isGreaterThan(bounds[i - 1]);
                }
                if (arcs == many) {
                    assertThat(n).as("intervals of the many arcs").isGreaterThan(500).isLessThan(raw);
                }
            }
        }
    }

    @Test
    void fourArcsMergeIntoIntervalsWhoseBoundsAreTheThresholdsOfTheSearch() {
        List<TokenRange> arcs = List.of(new TokenRange(100, 200), new TokenRange(Long.MAX_VALUE - 5, Long.MAX_VALUE),
                new TokenRange(Long.MAX_VALUE, Long.MIN_VALUE + 5), new TokenRange(Long.MIN_VALUE + 5,
                        Long.MIN_VALUE + 6), new TokenRange(-1, 0), new TokenRange(0, 1));
        List<long[]> intervals = HashIntervals.of(arcs);
        assertThat(intervals.stream().map(Arrays::toString)).containsExactly(
                Arrays.toString(new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 6}), "[0, 1]", "[101, 200]",
                Arrays.toString(new long[] {Long.MAX_VALUE - 4, Long.MAX_VALUE}));
        // each interval's low end and the hash after its high end; nothing after the one that reaches the end
        assertThat(OwnershipGuard.boundsLiteral(intervals)).isEqualTo("{-9223372036854775808,-9223372036854775801,"
                + "0,2,101,201,9223372036854775803}");
        assertThat(OwnershipGuard.ownsSql("h", intervals)).isEqualTo("(width_bucket(h, '{-9223372036854775808,"
                + "-9223372036854775801,0,2,101,201,9223372036854775803}'::bigint[]) % 2 = 1)");
        assertThat(OwnershipGuard.boundsLiteral(List.of())).isEqualTo("{}");
    }

    @Test
    void aGuardOverAThousandArcsAcceptsExactlyTheKeysWhoseHashItOwnsAndChecksTheOldKeyOfARekey() throws Exception {
        KeyType type = KeyType.BIGINT;
        SplittableRandom rnd = new SplittableRandom(43);
        // keys whose hashes are made interval ends: the hash itself ends an arc, or the hash minus one does, so
        // that the hash begins the next arc
        Set<Long> keys = new LinkedHashSet<>();
        Set<Long> keyTokens = new HashSet<>();
        // each insert and re-key is a statement with a subtransaction: a few hundred keep this test at seconds
        for (int i = 0; i < 1000; i++) {
            long key = rnd.nextLong();
            if (i < 300) {
                keys.add(key);
            }
            keyTokens.add(KeyHash.ofLong(key) - (i % 2));
        }
        for (int i = 0; i < 500; i++) {
            keys.add(rnd.nextLong());
        }
        List<TokenRange> owned = manyArcs(keyTokens, i -> i % 2 == 1 || i % 7 == 0);
        assertThat(HashIntervals.of(owned).size()).isGreaterThan(500);
        List<Long> all = new ArrayList<>(keys);
        Set<Long> expected = new HashSet<>();
        for (long k : all) {
            if (owns(owned, KeyHash.ofLong(k))) {
                expected.add(k);
            }
        }
        assertThat(expected.size()).as("owned keys").isBetween(all.size() / 4, all.size() * 3 / 4);

        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            ShardedTable t = table(c, "many", type, true);
            guard(c, type, owned, t);
            // one round trip for all keys; a rejection rolls back only its own insert
            s.execute("CREATE FUNCTION " + SCHEMA + ".try_insert(keys bigint[]) RETURNS bigint[] LANGUAGE plpgsql"
                    + " AS $$ DECLARE x bigint; passed bigint[] := '{}'; BEGIN\n"
                    + "  FOREACH x IN ARRAY keys LOOP\n"
                    + "    BEGIN INSERT INTO " + t.quotedName() + " (k, v) VALUES (x, 'v'); passed := passed || x;\n"
                    + "    EXCEPTION WHEN SQLSTATE '" + StaleTopologyException.SQLSTATE + "' THEN NULL; END;\n"
                    + "  END LOOP;\n"
                    + "  RETURN passed;\n"
                    + "END $$");
            s.execute("CREATE FUNCTION " + SCHEMA + ".try_rekey(keys bigint[], to_key bigint) RETURNS bigint[]"
                    + " LANGUAGE plpgsql AS $$ DECLARE x bigint; passed bigint[] := '{}'; BEGIN\n"
                    + "  FOREACH x IN ARRAY keys LOOP\n"
                    + "    BEGIN UPDATE " + t.quotedName() + " SET k = to_key WHERE k = x;\n"
                    + "      IF NOT FOUND THEN RAISE EXCEPTION 'no row of key %', x; END IF;\n"
                    + "      passed := passed || x;\n"
                    + "    EXCEPTION WHEN SQLSTATE '" + StaleTopologyException.SQLSTATE + "' THEN NULL; END;\n"
                    + "  END LOOP;\n"
                    + "  RETURN passed;\n"
                    + "END $$");

            Set<Long> accepted = callForKeys(c, "SELECT " + SCHEMA + ".try_insert(?)", all);
            assertThat(accepted).as("keys the guard accepted").isEqualTo(expected);
            assertThat(count(c, "SELECT count(*) FROM " + t.quotedName())).isEqualTo(expected.size());

            // re-key rows to an owned key: the guard must own the old key too, so rows of other keys stay put
            List<Long> rejected = new ArrayList<>(all);
            rejected.removeAll(expected);
            bypassed(c, () -> update(c, "INSERT INTO " + t.quotedName() + " (k, v) SELECT x, 'stray'"
                    + " FROM unnest(?::bigint[]) AS u(x)", c.createArrayOf("bigint", rejected.toArray())));
            long target = expected.iterator().next();
            List<Long> from = new ArrayList<>(all.subList(0, 400));
            from.remove(Long.valueOf(target));
            Set<Long> rekeyExpected = new HashSet<>(from);
            rekeyExpected.retainAll(expected);
            assertThat(callForKeys(c, "SELECT " + SCHEMA + ".try_rekey(?, ?)", from, target))
                    .as("rows whose re-key the guard let through").isEqualTo(rekeyExpected);
        }
    }
}
