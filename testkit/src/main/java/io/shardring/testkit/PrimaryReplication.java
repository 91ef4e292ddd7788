package io.shardring.testkit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/** What a primary knows of its physical standbys: whether one streams, and which ones its commits wait for. */
final class PrimaryReplication {

    private PrimaryReplication() {
    }

    /**
     * Waits until the primary's {@code pg_stat_replication} shows {@code standby} streaming and, when
     * {@code synchronous}, as a synchronous standby.
     *
     * @throws ServerStartException if that does not happen within {@code timeout}
     */
    static void awaitStreaming(PgShard primary, String standby, boolean synchronous, Duration timeout)
            throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String seen = "no walsender for it";
        while (true) {
            // a new session every time: the walsender's sync_state is judged by the asking session's
            // synchronous_standby_names, and a session started before a reload may still hold the old one
            try (Connection c = primary.connect(); PreparedStatement s = c.prepareStatement(
                    "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = ?")) {
                s.setString(1, standby);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        String state = rs.getString(1);
                        String syncState = rs.getString(2);
                        if ("streaming".equals(state) && (!synchronous || "sync".equals(syncState))) {
                            return;
                        }
                        seen = "state=" + state + ", sync_state=" + syncState;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new ServerStartException(standby + " started but does not stream from " + primary.name()
                        + (synchronous ? " as a synchronous standby" : "") + " after " + timeout.toMillis()
                        + " ms; pg_stat_replication on the primary: " + seen, null);
            }
            sleep(20, standby);
        }
    }

    /**
     * Makes every commit on the primary wait until all of {@code standbys} flushed it ({@code FIRST n (...)} with
     * n = all of them, so that any one of them can be promoted without losing an acknowledged commit). Returns once
     * commits that start now wait: PostgreSQL decides whether a commit waits by a flag the checkpointer sets when it
     * reloads the configuration, and the postmaster signals it before new sessions see the new value, so a
     * {@code CHECKPOINT} asked for after that runs only once the checkpointer has processed the reload.
     *
     * @param standbys lower-case identifiers (their {@code application_name}s), at least one
     */
    static void requireSynchronous(PgShard primary, List<String> standbys, Duration timeout) throws SQLException {
        String names = "FIRST " + standbys.size() + " (" + String.join(", ", standbys) + ")";
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            // ALTER SYSTEM, not a command-line setting: it must survive a restart after kill() and be changeable
            s.execute("ALTER SYSTEM SET synchronous_standby_names = '" + names + "'");
            s.execute("SELECT pg_reload_conf()");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!names.equals(setting(primary, "synchronous_standby_names"))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("synchronous_standby_names on " + primary.name() + " is still "
                        + setting(primary, "synchronous_standby_names") + " " + timeout.toMillis() + " ms after "
                        + "ALTER SYSTEM set it to " + names + "; is it also set on the server's command line?");
            }
            sleep(20, primary.name());
        }
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        }
        for (String standby : standbys) {
            awaitStreaming(primary, standby, true, timeout);
        }
    }

    private static String setting(PgShard server, String name) throws SQLException {
        try (Connection c = server.connect(); PreparedStatement s = c.prepareStatement("SELECT current_setting(?)")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static void sleep(long millis, String waitingFor) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + waitingFor, e);
        }
    }
}
