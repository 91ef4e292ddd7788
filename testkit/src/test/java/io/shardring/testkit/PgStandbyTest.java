package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Standbys made without pg_basebackup really are standbys: they follow their primary, refuse writes, and a
 * synchronous one holds every commit its primary acknowledged, also once promoted after the primary's crash. The
 * build runs this class on PostgreSQL 17 and again on 15 (the testkit's pg15 profile). One shard per test, so that
 * the crash of one does not touch the other.
 */
@PgShards(2)
class PgStandbyTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @BeforeAll
    static void embeddedOnly(PgCluster cluster) {
        assumeTrue(cluster.canCrashShards(), "standbys need the embedded backend, this is " + cluster.backend());
    }

    @Test
    void standbyFollowsItsPrimaryAndRefusesWrites(PgCluster cluster) throws Exception {
        PgStandby standby = cluster.addStandby(0, false);

        assertThat(cluster.standbys(0)).containsExactly(standby);
        assertThat(standby.name()).isEqualTo("shard0_standby0");
        assertThat(standby.isInRecovery()).isTrue();
        assertThat(standby.port()).isNotEqualTo(cluster.shard(0).port());
        assertThat(query(cluster.shard(0), "SELECT slot_type || ' ' || active FROM pg_replication_slots"
                + " WHERE slot_name = 'shard0_standby0'")).as("its slot on the primary").isEqualTo("physical true");

        long before = standby.replayLsn();
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE followed (id int PRIMARY KEY)");
            s.execute("INSERT INTO followed SELECT generate_series(1, 100)");
        }
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!tableHolds(standby, "followed", 100)) {
            assertThat(System.nanoTime()).as("%s sees the primary's 100 rows within %s", standby, DEADLINE)
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(standby.replayLsn()).isGreaterThan(before);

        try (Connection c = standby.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("INSERT INTO followed VALUES (101)"))
                    .isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).as("read_only_sql_transaction").isEqualTo("25006"));
        }

        standby.kill();
        assertThatThrownBy(standby::isInRecovery).as("a query on the killed standby")
                .isInstanceOf(SQLException.class);
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO followed VALUES (101)"); // an asynchronous standby's crash never holds commits up
        }
    }

    @Test
    void synchronousStandbyHoldsEveryAcknowledgedCommitAndTakesOverAfterThePrimaryCrashed(PgCluster cluster)
            throws Exception {
        PgStandby standby = cluster.addStandby(1, true);
        assertThat(standby.synchronous()).isTrue();
        PgShard primary = cluster.shard(1);

        int commits = 20;
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE acknowledged (id int PRIMARY KEY)");
            for (int i = 1; i <= commits; i++) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO acknowledged VALUES (" + i + ")");
                // read inside the transaction, so the position is this transaction's WAL and nobody else's: the
                // commit record comes after it, and the standby flushed that before commit() returned
                long insertLsn = lsn(s, "pg_current_wal_insert_lsn()");
                c.commit();
                c.setAutoCommit(true);
                assertThat(standby.receiveLsn()).as("%s's receive LSN after commit %d", standby, i)
                        .isGreaterThanOrEqualTo(insertLsn);
            }
        }

        cluster.kill(1);
        standby.promote();

        assertThat(standby.isInRecovery()).isFalse();
        assertThat(tableHolds(standby, "acknowledged", commits)).as("every commit acknowledged before the kill")
                .isTrue();
        try (Connection c = standby.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO acknowledged VALUES (" + (commits + 1) + ")");
        }
    }

    private static boolean tableHolds(PgStandby standby, String table, int rows) throws SQLException {
        try (Connection c = standby.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_class WHERE relname = '" + table + "'")) {
            rs.next();
            if (rs.getInt(1) == 0) {
                return false; // not replayed yet
            }
        }
        try (Connection c = standby.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getInt(1) == rows;
        }
    }

    private static long lsn(Statement s, String function) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT " + function + " - '0/0'::pg_lsn")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String query(PgShard shard, String sql) throws SQLException {
        return PgShardsExtensionTest.query(shard, sql);
    }
}
