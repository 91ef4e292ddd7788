package io.shardring.testkit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A physical standby of one shard of a {@link PgCluster} (see {@link PgCluster#addStandby(int, boolean)}): a
 * hot-standby server streaming its primary's WAL through a physical slot, read-only until {@link #promote()}d.
 *
 * <p>Connection details work as for a {@link PgShard}: the same database and user as the primary, no credentials in
 * the URL. Its data directory is deleted when the cluster closes, and the cluster stops it first.
 */
public final class PgStandby {

    /** How the cluster crashes this standby's server; the embedded backend's, which owns the process. */
    @FunctionalInterface
    interface Crash {
        void kill();
    }

    private final PgShard server;
    private final PgShard primary;
    private final boolean synchronous;
    private final Crash crash;

    PgStandby(PgShard server, PgShard primary, boolean synchronous, Crash crash) {
        this.server = Objects.requireNonNull(server, "server");
        this.primary = Objects.requireNonNull(primary, "primary");
        this.synchronous = synchronous;
        this.crash = Objects.requireNonNull(crash, "crash");
    }

    /**
     * {@code shard0_standby0}, {@code shard0_standby1}, ...: also its {@code application_name} on the primary (in
     * {@code pg_stat_replication}) and the name of its physical replication slot there.
     */
    public String name() {
        return server.name();
    }

    /** The shard it streams from. */
    public PgShard primary() {
        return primary;
    }

    /** Whether commits on the primary wait until this standby has flushed them. */
    public boolean synchronous() {
        return synchronous;
    }

    /** {@code jdbc:postgresql://localhost:port/database}, without user or password. */
    public String jdbcUrl() {
        return server.jdbcUrl();
    }

    public String user() {
        return server.user();
    }

    /** Null: the embedded backend trusts local connections. */
    public String password() {
        return server.password();
    }

    public int port() {
        return server.port();
    }

    public Path dataDirectory() {
        return server.dataDirectory().orElseThrow();
    }

    /** A new, unpooled data source for this standby, as {@link PgShard#dataSource()}. */
    public DataSource dataSource() {
        return server.dataSource();
    }

    /** Opens a new connection to this standby's copy of the database; the caller closes it. */
    public Connection connect() throws SQLException {
        return server.connect();
    }

    /**
     * Crashes the standby as {@link PgCluster#kill(int)} crashes a shard: SIGKILL to all its processes, then waits
     * until they are gone. It cannot be started again.
     */
    public void kill() {
        crash.kill();
    }

    /**
     * Ends recovery ({@code pg_promote()}, waiting up to 60 s): the standby becomes a primary of its own that
     * accepts writes, on the same URL. Typically after its primary was killed ({@link PgCluster#kill(int)}).
     *
     * @throws IllegalStateException if PostgreSQL reports that promotion did not finish in time
     */
    public void promote() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_promote(true, 60)")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new IllegalStateException("pg_promote() on " + name() + " did not finish within 60 s");
            }
        }
    }

    /** {@code pg_is_in_recovery()}: true while it is a standby, false once promoted. */
    public boolean isInRecovery() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * {@code pg_last_wal_replay_lsn()} as a byte position (the same number as {@code lsn - '0/0'::pg_lsn}): how
     * far the standby has applied its primary's WAL, i.e. what its queries see.
     */
    public long replayLsn() throws SQLException {
        return lsn("pg_last_wal_replay_lsn()");
    }

    /**
     * {@code pg_last_wal_receive_lsn()} as a byte position: how far the standby has received and flushed its
     * primary's WAL. A synchronous standby is at or past every commit the primary acknowledged.
     */
    public long receiveLsn() throws SQLException {
        return lsn("pg_last_wal_receive_lsn()");
    }

    private long lsn(String function) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + function + " - '0/0'::pg_lsn")) {
            rs.next();
            long lsn = rs.getLong(1);
            if (rs.wasNull()) {
                throw new IllegalStateException(function + " is null on " + name() + ": it has no WAL from "
                        + primary.name() + " (never in recovery, or receiving has not started)");
            }
            return lsn;
        }
    }

    @Override
    public String toString() {
        return name() + "[" + jdbcUrl() + " standby of " + primary.name() + (synchronous ? ", synchronous" : "")
                + "]";
    }
}
