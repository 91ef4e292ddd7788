package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * kill() is a real crash and restart() a real crash recovery: what was committed survives, what was not is gone, and
 * so is nothing else that PostgreSQL keeps on disk (here: a logical replication slot and its position).
 */
class ShardCrashTest {

    @Test
    void killLosesOnlyUncommittedWorkAndRestartRecoversOnTheSameUrl() throws Exception {
        Path dataDirectory;
        try (PgCluster cluster = PgCluster.start(1)) {
            assumeTrue(cluster.canCrashShards(), "only embedded shards can be crashed, this is " + cluster.backend());
            PgShard shard = cluster.shard(0);
            dataDirectory = shard.dataDirectory().orElseThrow();
            String url = shard.jdbcUrl();

            assertThatThrownBy(() -> cluster.restart(0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot restart shard0: it is running");

            try (Connection c = shard.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE crash_rows (id int PRIMARY KEY, state text NOT NULL)");
                // created before the rows, so that its changes must include them after the crash
                s.execute("SELECT pg_create_logical_replication_slot('crash_slot', 'test_decoding')");
                s.execute("INSERT INTO crash_rows SELECT g, 'committed' FROM generate_series(1, 100) g");
            }
            Connection open = shard.connect();
            open.setAutoCommit(false);
            try (Statement s = open.createStatement()) {
                s.execute("INSERT INTO crash_rows SELECT g, 'uncommitted' FROM generate_series(101, 150) g");
            }

            cluster.kill(0);

            assertThatThrownBy(() -> open.createStatement().executeQuery("SELECT count(*) FROM crash_rows"))
                    .as("the connection with the open transaction after the kill")
                    .isInstanceOf(SQLException.class);
            open.close();
            assertThatThrownBy(() -> DriverManager.getConnection(url + "?connectTimeout=2", shard.user(), null))
                    .as("a new connection to the killed shard")
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> cluster.kill(0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already killed");

            cluster.restart(0);

            assertThat(Files.readString(dataDirectory.getParent().resolve("shard0.log")))
                    .as("the server log: a crash, not a clean shutdown")
                    .contains("database system was not properly shut down; automatic recovery in progress");
            try (Connection c = DriverManager.getConnection(url, shard.user(), null);
                 Statement s = c.createStatement()) {
                assertThat(count(s, "SELECT count(*) FROM crash_rows WHERE state = 'committed'")).isEqualTo(100);
                assertThat(count(s, "SELECT count(*) FROM crash_rows WHERE state = 'uncommitted'")).isZero();
                assertThat(count(s, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'crash_slot'"))
                        .isEqualTo(1);
                List<String> changes = new ArrayList<>();
                try (ResultSet rs = s.executeQuery(
                        "SELECT data FROM pg_logical_slot_peek_changes('crash_slot', NULL, NULL)")) {
                    while (rs.next()) {
                        changes.add(rs.getString(1));
                    }
                }
                assertThat(changes).filteredOn(change -> change.startsWith("table public.crash_rows: INSERT"))
                        .hasSize(100)
                        .allMatch(change -> change.contains("state[text]:'committed'"));
            }
            // writable again, not just readable
            try (Connection c = shard.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO crash_rows VALUES (101, 'after restart')");
            }

            cluster.kill(0); // and left dead: close() must cope with that too
        }
        assertThat(Files.exists(dataDirectory.getParent()))
                .as("temp root %s after close() with a killed shard", dataDirectory.getParent()).isFalse();
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
