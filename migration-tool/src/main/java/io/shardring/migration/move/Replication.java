package io.shardring.migration.move;

import static io.shardring.migration.move.Sessions.exists;

import io.shardring.migration.support.Poll;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * A job's logical replication from source to target: a publication whose row filter is the ranges' predicate, a
 * slot, a subscription on the target, and the marker rows that tell how far the target has applied. All named
 * {@link JobState#name}, so every step can be repeated after a crash.
 */
final class Replication {
    private final MoveRun run;
    private final JobState job;
    private final String name;

    Replication(MoveRun run, JobState job) {
        this.run = run;
        this.job = job;
        this.name = job.name(run.moveId);
    }

    /** Whether the node's server can decode its WAL for logical replication. */
    static boolean logical(NodePools nodes, String nodeId) throws SQLException {
        try (Connection c = nodes.apply(nodeId).getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            return "logical".equals(rs.getString(1));
        }
    }

    void createPublication() throws SQLException {
        try (Connection c = run.node(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", name)) {
                return;
            }
            StringBuilder sql = new StringBuilder("CREATE PUBLICATION ").append(Sql.quote(name)).append(" FOR TABLE ");
            for (ShardedTable t : run.tables) {
                sql.append(t.quotedName()).append(" WHERE (")
                        .append(TokenRange.toSql(job.ranges, run.keyType, t.keyColumn())).append("), ");
            }
            // no TRUNCATE: row filters do not apply to it, it would empty the whole table on the target
            sql.append("shardring.move_markers WHERE (name = ").append(Sql.literal(name))
                    .append(") WITH (publish = 'insert, update, delete')");
            s.execute(sql.toString());
        }
    }

    boolean subscribed() throws SQLException {
        try (Connection t = run.node(job.target).getConnection()) {
            return exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", name);
        }
    }

    void dropSlot() throws SQLException {
        try (Connection c = run.node(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", name)) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(name) + ")");
            }
        }
    }

    /**
     * A connection in the replication protocol to the source, on which the job's slot is created: it exports a
     * snapshot that lives as long as this connection does nothing else.
     */
    Connection replicationConnection() throws SQLException {
        NodeConfig n = run.nodes.config(job.source);
        Properties props = new Properties();
        props.setProperty("user", n.user());
        String password = run.nodes.password(job.source);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("replication", "database");
        props.setProperty("assumeMinServerVersion", "10");
        props.setProperty("preferQueryMode", "simple");
        return DriverManager.getConnection(n.jdbcUrl(), props);
    }

    /** Creates the slot on a replication connection and returns the name of the snapshot it exported. */
    String createSlot(Connection replication) throws SQLException {
        return replication.unwrap(org.postgresql.PGConnection.class).getReplicationAPI().createReplicationSlot()
                .logical().withSlotName(name).withOutputPlugin("pgoutput").make().getSnapshotName();
    }

    /** A subscription that streams from the existing slot everything committed after its snapshot. */
    void subscribe() throws SQLException {
        try (Connection t = run.node(job.target).getConnection(); Statement s = t.createStatement()) {
            // the statement carries the source's password: keep it out of the target's server log
            t.setAutoCommit(false);
            try {
                s.execute("SET LOCAL log_statement = 'none'");
                s.execute("SET LOCAL log_min_error_statement = 'panic'");
            } catch (SQLException notAllowed) {
                t.rollback();
                run.journal(job, "copy", "warning", "the role on " + job.target + " may not change log settings: the"
                        + " subscription's connection string, with the source's password, may reach its server log");
            }
            s.execute("CREATE SUBSCRIPTION " + Sql.quote(name) + " CONNECTION " + Sql.literal(conninfo(job.source))
                    + " PUBLICATION " + Sql.quote(name) + " WITH (copy_data = false, create_slot = false, slot_name = "
                    + Sql.literal(name) + ")");
            t.commit();
            t.setAutoCommit(true);
        }
    }

    /** Drops subscription (and with it the slot), slot and publication, whichever exist. */
    void drop() throws SQLException {
        try (Connection c = run.node(job.target).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                s.execute("DROP SUBSCRIPTION " + Sql.quote(name)); // drops the slot on the source too
            }
        }
        dropOnSource();
    }

    /** Like {@link #drop}, but an unreachable target is journaled instead of stopping an abort. */
    void dropTolerant() throws SQLException {
        try (Connection c = run.node(job.target).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                s.execute("DROP SUBSCRIPTION " + Sql.quote(name));
            }
        } catch (SQLException | RuntimeException e) {
            run.journal(job, "abort", "info", "target " + job.target + " unreachable (" + e.getMessage()
                    + "); drop subscription " + name + " there by hand if it exists");
        }
        dropOnSource();
    }

    private void dropOnSource() throws SQLException {
        try (Connection c = run.node(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", name)) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(name) + ")");
            }
            s.execute("DROP PUBLICATION IF EXISTS " + Sql.quote(name));
        }
    }

    /** Writes this job's marker on the source, flushed at once so that it is sent without delay. */
    long writeMarker() throws SQLException {
        long seq = System.nanoTime();
        try (Connection c = run.node(job.source).getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL synchronous_commit = on");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_markers (name, seq) VALUES (?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq, written_at = now()")) {
                ps.setString(1, name);
                ps.setLong(2, seq);
                ps.executeUpdate();
            }
            c.commit();
        }
        return seq;
    }

    /**
     * Waits until the marker arrived on the target, read through {@code target}: the subscription applies in commit
     * order, so everything the source committed before the marker is applied there too.
     */
    void awaitMarker(long seq, Duration timeout, Connection target) throws SQLException {
        try (PreparedStatement ps = target.prepareStatement("SELECT seq FROM shardring.move_markers WHERE name = ?")) {
            ps.setString(1, name);
            Boolean arrived = Poll.every(Duration.ofMillis(2), timeout, () -> {
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getLong(1) == seq ? Boolean.TRUE : null;
                }
            });
            if (arrived == null) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "the target " + job.target + " did not catch"
                        + " up with " + job.source + " within " + timeout + "; resume to retry, or abort to give"
                        + " the ranges back to " + job.source);
            }
        }
    }

    /** A libpq connection string for the target's subscription to the source. */
    private String conninfo(String nodeId) {
        return run.nodes.conninfo(nodeId, "shardring_mover");
    }
}
