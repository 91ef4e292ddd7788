package io.shardring.migration.move;

import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a change of the ring in only while no move runs: a plan recorded as a running move, with its jobs, or a
 * topology version that moves no key published. Both lock {@code shardring.moves} and look for a running move under
 * that lock, so that no move starts from a version that a publish replaces, and no two moves run at once.
 */
final class MoveAdmission {
    private static final Logger LOG = LoggerFactory.getLogger(MoveAdmission.class);

    private final MoveJournal journal;

    MoveAdmission(MoveJournal journal) {
        this.journal = journal;
    }

    /**
     * Records a plan as a running move and returns its id. Refuses while another move runs, naming it, and when the
     * catalog moved on since the plan was made.
     */
    long start(Plan plan) {
        if (!plan.isExecutable()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the plan cannot be executed: "
                    + String.join("; ", plan.errors()));
        }
        try (Connection c = journal.connection()) {
            c.setAutoCommit(false);
            // under the lock publish() takes: no version is published between this check and the move's record
            refuseRunningLocked(c);
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
                    "SELECT coalesce(max(version), 0) FROM shardring.topology_versions")) {
                r.next();
                if (r.getLong(1) != plan.before().version()) {
                    c.rollback();
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the plan starts from topology version "
                            + plan.before().version() + " but the catalog is at version " + r.getLong(1)
                            + "; plan again");
                }
            }
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.moves (change, from_version,"
                    + " target_document, state) VALUES (?, ?, ?, 'running') RETURNING id")) {
                ps.setString(1, plan.change());
                ps.setLong(2, plan.before().version());
                ps.setString(3, ShardringYaml.write(plan.after().withStoredTokens(), null));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            int j = 0;
            for (MoveJob job : plan.jobs()) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_jobs (move_id, job, source,"
                        + " target, ranges, phase) VALUES (?, ?, ?, ?, ?, 'prepare')")) {
                    ps.setLong(1, id);
                    ps.setInt(2, j++);
                    ps.setString(3, job.source());
                    ps.setString(4, job.target());
                    ps.setString(5, Intervals.json(job.ranges()));
                    ps.executeUpdate();
                }
            }
            MoveJournal.event(c, id, null, "plan", "info", plan.change() + ": " + plan.jobs().size() + " jobs, "
                    + String.format(Locale.ROOT, "%.2f%%", 100 * plan.movedShare()) + " of the keyspace");
            c.commit();
            try {
                // routers open pools to the move's new nodes now, not at its first cutover
                journal.catalog().notifyRouters("move " + id + " started");
            } catch (RuntimeException e) {
                LOG.debug("could not notify routers of move {}: {}", id, e.getMessage()); // they poll anyway
            }
            return id;
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                String which = journal.running().map(r -> ": move " + r.id + " (" + r.change + ")").orElse("");
                throw new ShardringException(ErrorCode.RING_CONSTRAINT, "another move is running" + which
                        + "; resume or abort it first", e);
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot record the move: " + e.getMessage(), e);
        }
    }

    /** Publishes a version that moves no key; refused while a move runs. */
    void publish(Topology next, String change) {
        try (Connection c = journal.connection()) {
            c.setAutoCommit(false);
            try {
                refuseRunningLocked(c);
                journal.catalog().publish(c, next, change);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot publish topology version " + next.version()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Locks the moves against a concurrent start, then refuses if one runs; in the caller's transaction. */
    private static void refuseRunningLocked(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LOCK TABLE shardring.moves IN SHARE ROW EXCLUSIVE MODE");
            try (ResultSet r = s.executeQuery("SELECT id, change FROM shardring.moves WHERE state = 'running'")) {
                if (r.next()) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + r.getLong(1) + " ("
                            + r.getString(2) + ") is still running; resume or abort it first");
                }
            }
        }
    }
}
