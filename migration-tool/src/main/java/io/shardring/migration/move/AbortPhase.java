package io.shardring.migration.move;

import static io.shardring.migration.move.Sessions.exists;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Abort, job by job: a job not yet cut over loses its replication and its copied rows, and a fenced source gets its
 * ranges back; a job already cut over stays moved (its data lives on the new owner) and its cleanup is finished; a
 * job whose verify failed is given back to its source only when the operator asked to discard the target's copy.
 */
final class AbortPhase {
    private AbortPhase() {
    }

    static void run(MoveRun run, JobState job, boolean discardTargetCopy) throws SQLException {
        switch (job.phase) {
            case DONE:
            case ABORTED:
                return;
            case VERIFY:
            case CLEANUP:
                CleanupPhase.run(run, job);
                run.journal.setPhase(run.moveId, job, Phase.DONE);
                return;
            case VERIFY_FAILED:
                if (!discardTargetCopy) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, job.label() + " (" + job.pair()
                            + ") failed verify: abort would have to drop one of two differing copies. Compare them"
                            + " first; then `shardring resume --reverify`, or `shardring abort --discard-target-copy`"
                            + " to keep the source's rows");
                }
                discardTargetCopy(run, job);
                return;
            default:
                rollBack(run, job);
        }
    }

    /** prepare, copy or cutover: nothing was published; the source owns the ranges again, the target holds none. */
    private static void rollBack(MoveRun run, JobState job) throws SQLException {
        boolean targetReachable = reachableWithShardring(run, job.target);
        if (!targetReachable && job.phase == Phase.CUTOVER) {
            // the target may already own the ranges; giving them back to the source now would leave two owners
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, job.label() + " stopped in its cutover and"
                    + " its target " + job.target + " is unreachable: it may already own the ranges. Bring "
                    + job.target + " back, then run abort (or resume) again");
        }
        new Replication(run, job).dropTolerant();
        if (targetReachable) {
            disown(run, job);
            try (Connection t = run.node(job.target).getConnection()) {
                t.setAutoCommit(false);
                try (Sessions.Reset past = Sessions.pastTheGuard(t)) {
                    for (ShardedTable tb : run.tables) {
                        if (!exists(t, "SELECT 1 WHERE to_regclass(?) IS NOT NULL", tb.quotedName())) {
                            continue; // prepare stopped before the application's migrations made it
                        }
                        PreparePhase.deleteRanges(t, job, run, tb);
                    }
                    t.commit();
                }
            }
        }
        giveBackToSource(run, job);
        run.journal.setPhase(run.moveId, job, Phase.ABORTED);
        run.journal(job, "abort", "finished", "ranges stay on " + job.source);
    }

    /**
     * A job whose verify failed: the target's rows of the ranges are set aside in a table of its shardring schema
     * (not dropped: writes it took between the cutover and the failed verify are there), the source owns the ranges
     * again, and a topology version in which this job has not moved is published.
     */
    private static void discardTargetCopy(MoveRun run, JobState job) throws SQLException {
        new Replication(run, job).drop();
        List<String> kept = new ArrayList<>();
        disown(run, job);
        try (Connection t = run.node(job.target).getConnection()) {
            t.setAutoCommit(false);
            try (Sessions.Reset past = Sessions.pastTheGuard(t)) {
                for (ShardedTable tb : run.tables) {
                    String aside = asideTable(run.moveId, job, tb);
                    if (exists(t, "SELECT 1 WHERE to_regclass(?) IS NOT NULL", "shardring." + Sql.quote(aside))) {
                        continue; // set aside and deleted by an earlier attempt, in the same transaction
                    }
                    String pred = TokenRange.toSql(job.ranges, run.keyType, tb.keyColumn());
                    try (Statement s = t.createStatement()) {
                        s.execute("CREATE TABLE shardring." + Sql.quote(aside) + " AS SELECT * FROM " + tb.quotedName()
                                + " WHERE " + pred);
                        int n = s.executeUpdate("DELETE FROM " + tb.quotedName() + " WHERE " + pred);
                        kept.add(n + " rows of " + tb.displayName() + " in shardring." + aside);
                    }
                }
                t.commit();
            }
        }
        giveBackToSource(run, job);
        long version = run.journal.catalog().version() + 1;
        List<JobState> moved = new ArrayList<>();
        for (JobState j : run.jobs) {
            if (j != job && j.cutOver()) {
                moved.add(j);
            }
        }
        try (Connection c = run.journal.connection()) {
            c.setAutoCommit(false);
            run.journal.catalog().publish(c, MoveTopologies.intermediate(run.before, run.after, moved, version),
                    "move " + run.moveId + " " + job.label() + " given back to " + job.source + " after a failed verify");
            MoveJournal.setPhase(c, run.moveId, job, Phase.ABORTED);
            c.commit();
        }
        job.phase = Phase.ABORTED;
        run.journal(job, "abort", "finished", "ranges back on " + job.source + " (topology version " + version + ");"
                + " the target's copy is kept aside on " + job.target + (kept.isEmpty() ? "" : ": "
                + String.join(", ", kept)));
    }

    /** The table that keeps a discarded copy: shardring.m{move}_j{job}_{table}, cut to PostgreSQL's 63 bytes. */
    static String asideTable(long moveId, JobState job, ShardedTable t) {
        String name = "m" + moveId + "_j" + job.index + "_" + t.name();
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= 63) {
            return name;
        }
        int end = 63;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // never cut a character in half
        }
        return new String(utf8, 0, end, StandardCharsets.UTF_8);
    }

    private static void disown(MoveRun run, JobState job) throws SQLException {
        Ownership.change(run, job.target, run.journal.catalog().version(), Ownership.without(HashIntervals.of(job.ranges)));
    }

    private static void giveBackToSource(MoveRun run, JobState job) throws SQLException {
        Ownership.change(run, job.source, run.journal.catalog().version(), Ownership.with(HashIntervals.of(job.ranges)));
    }

    private static boolean reachableWithShardring(MoveRun run, String nodeId) {
        try (Connection c = run.node(nodeId).getConnection()) {
            return exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", "shardring")
                    && exists(c, "SELECT 1 FROM pg_class WHERE relname = ?", "owned_ranges");
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }
}
