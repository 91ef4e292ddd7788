package io.shardring.migration.move;

import io.shardring.router.schema.OwnershipGuard;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Cutover: the source stops owning the ranges (the fence: the guard's table locks wait for writes in flight), a
 * marker written after the fence is awaited on the target (every write the source accepted is then applied there),
 * a repeatable-read snapshot of the target is taken for verify, the target owns the ranges, and the catalog
 * publishes the next topology version in the same transaction that advances the job. Writes to the moving keys
 * pause only between the fence and the publish.
 */
final class CutoverPhase {
    private CutoverPhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        long nextVersion = run.journal.catalog().version() + 1;
        List<long[]> moving = Intervals.of(job.ranges);
        long fenceStart = System.nanoTime();
        // 1. fence
        try (Connection c = run.node(job.source).getConnection()) {
            c.setAutoCommit(false);
            List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(c));
            OwnershipGuard.setOwnedRanges(c, job.source, nextVersion, run.keyType,
                    Intervals.toRanges(Intervals.minus(owned, moving)));
            c.commit();
        }
        run.journal(job, "cutover", "info", "fenced " + job.ranges.size() + " ranges on " + job.source);
        run.tell(job, "cutover", "fenced", job.source);
        // 2. the target has everything the source accepted before the fence
        if (Replication.logical(run.nodes, job.source)) {
            Replication replication = new Replication(run, job);
            replication.awaitMarker(replication.writeMarker(), run.options.catchUpTimeout());
        } else {
            // the fallback: nothing can change these ranges on the source now, so copy them while fenced
            PreparePhase.clearTarget(run, job);
            run.journal.rowsCopied(run.moveId, job, CopyPipe.copy(run, job, null));
        }
        // 3. a snapshot of the target at exactly that point, for verify, before the target takes writes
        Connection snapshot = run.node(job.target).getConnection();
        boolean kept = false;
        try {
            snapshot.setAutoCommit(false);
            snapshot.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement s = snapshot.createStatement()) {
                s.executeQuery("SELECT 1").close();
            }
            // 4. the target owns the ranges
            try (Connection c = run.node(job.target).getConnection()) {
                c.setAutoCommit(false);
                List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(c));
                OwnershipGuard.setOwnedRanges(c, job.target, nextVersion, run.keyType,
                        Intervals.toRanges(Intervals.union(owned, moving)));
                c.commit();
            }
            run.tell(job, "cutover", "target-owns", job.target);
            // 5. publish the topology in which this job has moved, and advance the job, in one transaction
            List<JobState> moved = new ArrayList<>();
            for (JobState j : run.jobs) {
                if (j == job || j.cutOver()) {
                    moved.add(j);
                }
            }
            try (Connection c = run.journal.connection()) {
                c.setAutoCommit(false);
                run.journal.catalog().publish(c, MoveTopologies.publishable(run.before, run.after, run.jobs, moved,
                        nextVersion), "move " + run.moveId + " job " + job.index + ": " + job.pair());
                MoveJournal.setPhase(c, run.moveId, job, "verify");
                c.commit();
            }
            job.phase = "verify";
            job.snapshot = snapshot;
            kept = true;
            long pauseMs = (System.nanoTime() - fenceStart) / 1_000_000;
            run.journal(job, "cutover", "info", "topology version " + nextVersion + " published; writes to the moving"
                    + " keys paused " + pauseMs + " ms");
            run.tell(job, "cutover", "info", "paused " + pauseMs + " ms", -1, 0);
        } finally {
            if (!kept) {
                snapshot.close();
            }
        }
    }
}
