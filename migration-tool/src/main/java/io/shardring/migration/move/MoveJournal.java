package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The catalog's record of moves: {@code shardring.moves} (one row a move), {@code move_jobs} (the phase each job
 * reached) and {@code move_journal} (every step, for {@code status} and for people). A phase is written only after
 * its work is durable on the shards, so a crash at any point leaves a journal from which resume and abort know what
 * is done.
 */
final class MoveJournal {
    /** What the catalog holds about one move. */
    static final class Record {
        final long id;
        final String change;
        final long fromVersion;
        final Topology after;
        final String state;

        Record(long id, String change, long fromVersion, Topology after, String state) {
            this.id = id;
            this.change = change;
            this.fromVersion = fromVersion;
            this.after = after;
            this.state = state;
        }
    }

    private final Catalog catalog;

    MoveJournal(Catalog catalog) {
        this.catalog = catalog;
    }

    Catalog catalog() {
        return catalog;
    }

    Connection connection() throws SQLException {
        return catalog.dataSource().getConnection();
    }

    Optional<Mover.RunningMove> running() {
        try (Connection c = connection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, change FROM shardring.moves WHERE state = 'running'")) {
            return rs.next() ? Optional.of(new Mover.RunningMove(rs.getLong(1), rs.getString(2))) : Optional.empty();
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read moves: " + e.getMessage(), e);
        }
    }

    /** The move and its target topology; refuses a move that is not running. */
    Record runningMove(long moveId) {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT change, from_version, target_document, state FROM shardring.moves WHERE id = ?")) {
            ps.setLong(1, moveId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "no move " + moveId);
                }
                if (!"running".equals(rs.getString(4))) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + moveId + " is "
                            + rs.getString(4) + ", not running");
                }
                return new Record(moveId, rs.getString(1), rs.getLong(2),
                        ShardringYaml.parse(rs.getString(3), "move " + moveId).topology(), rs.getString(4));
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read move " + moveId + ": " + e.getMessage(), e);
        }
    }

    List<JobState> jobs(long moveId) throws SQLException {
        List<JobState> jobs = new ArrayList<>();
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement("SELECT job, source, target,"
                + " ranges, phase, moved_in_version FROM shardring.move_jobs WHERE move_id = ? ORDER BY job")) {
            ps.setLong(1, moveId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    JobState job = new JobState(rs.getInt(1), rs.getString(2), rs.getString(3),
                            Intervals.parseJson(rs.getString(4)), Phase.of(rs.getString(5)));
                    long moved = rs.getLong(6);
                    job.movedInVersion = rs.wasNull() ? null : moved;
                    jobs.add(job);
                }
            }
        }
        return jobs;
    }

    void setPhase(long moveId, JobState job, Phase phase) throws SQLException {
        try (Connection c = connection()) {
            setPhase(c, moveId, job, phase);
        }
        job.phase = phase;
    }

    /** In the caller's transaction; the caller sets {@code job.phase} once it committed. */
    static void setPhase(Connection c, long moveId, JobState job, Phase phase) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE shardring.move_jobs SET phase = ?, updated_at = now()"
                + " WHERE move_id = ? AND job = ?")) {
            ps.setString(1, phase.sql());
            ps.setLong(2, moveId);
            ps.setInt(3, job.index);
            ps.executeUpdate();
        }
    }

    /** In the caller's transaction, the one that publishes the version. */
    static void movedIn(Connection c, long moveId, JobState job, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE shardring.move_jobs SET moved_in_version = ?"
                + " WHERE move_id = ? AND job = ?")) {
            ps.setLong(1, version);
            ps.setLong(2, moveId);
            ps.setInt(3, job.index);
            ps.executeUpdate();
        }
    }

    void rowsCopied(long moveId, JobState job, long rows) throws SQLException {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.move_jobs SET rows_copied = ? WHERE move_id = ? AND job = ?")) {
            ps.setLong(1, rows);
            ps.setLong(2, moveId);
            ps.setInt(3, job.index);
            ps.executeUpdate();
        }
    }

    void finish(long moveId, String state) throws SQLException {
        try (Connection c = connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.moves SET state = ?, updated_at = now() WHERE id = ?")) {
            ps.setString(1, state);
            ps.setLong(2, moveId);
            ps.executeUpdate();
        }
        event(moveId, null, "move", state, null);
    }

    void event(long moveId, Integer job, String phase, String event, String detail) throws SQLException {
        try (Connection c = connection()) {
            event(c, moveId, job, phase, event, detail);
        }
    }

    static void event(Connection c, long moveId, Integer job, String phase, String event, String detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_journal (move_id, job, phase, event,"
                + " detail) VALUES (?, ?, ?, ?, ?)")) {
            ps.setLong(1, moveId);
            if (job == null) {
                ps.setNull(2, Types.INTEGER);
            } else {
                ps.setInt(2, job);
            }
            ps.setString(3, phase);
            ps.setString(4, event);
            ps.setString(5, detail);
            ps.executeUpdate();
        }
    }
}
