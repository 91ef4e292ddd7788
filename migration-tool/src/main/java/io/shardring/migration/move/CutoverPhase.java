package io.shardring.migration.move;

import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ring.HashIntervals;
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
        // no fence for a target that is down: the moving keys would wait for nothing. The connection is opened
        // before the fence, so that its setup is not part of the pause; it fails at once if the target dies, where a
        // pool would keep trying for its connection timeout while the fenced keys wait
        Connection target;
        try {
            target = run.nodes.direct(job.target, 2);
        } catch (SQLException e) {
            throw new ShardUnavailableException(job.target, "node " + job.target + " (" + run.nodes.describe(job.target,
                    e) + ") is unreachable; the cutover of " + job.label() + " (" + job.pair() + ") did not fence "
                    + job.source, null);
        }
        long nextVersion = run.journal.catalog().version() + 1;
        List<long[]> moving = HashIntervals.of(job.ranges);
        long fenceStart = System.nanoTime();
        // 1. fence; a fence that cannot get its locks changes nothing and fails here
        Ownership.change(run, job.source, nextVersion, Ownership.without(moving));
        long fenced = System.nanoTime();
        run.journal(job, "cutover", "info", "fenced " + job.ranges.size() + " ranges on " + job.source);
        run.tell(job, "cutover", "fenced", job.source);
        Connection snapshot = target;
        long owns;
        long caughtUp;
        try {
            // 2. the target has everything the source accepted before the fence
            if (Replication.logical(run.nodes, job.source)) {
                Replication replication = new Replication(run, job);
                replication.awaitMarker(replication.writeMarker(), run.options.catchUpTimeout(), target);
            } else {
                // the fallback: nothing can change these ranges on the source now, so copy them while fenced
                PreparePhase.clearTarget(run, job);
                run.journal.rowsCopied(run.moveId, job, CopyPipe.copy(run, job, null));
                // copied with triggers off just now: its foreign keys are checked here, a failure gives the ranges back
                IntegrityCheck.run(run, job, true);
            }
            caughtUp = System.nanoTime();
            // 3. a snapshot of the target at exactly that point, for verify, before the target takes writes; verify's
            // scans on it take as long as the tables need, so the fenced wait's socket timeout ends here
            snapshot.setNetworkTimeout(Runnable::run, 0);
            snapshot.setAutoCommit(false);
            snapshot.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement s = snapshot.createStatement()) {
                s.executeQuery("SELECT 1").close();
            }
            // 4. the target owns the ranges
            Ownership.change(run, job.target, nextVersion, Ownership.with(moving));
            owns = System.nanoTime();
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
                        nextVersion), "move " + run.moveId + " " + job.label() + ": " + job.pair());
                MoveJournal.setPhase(c, run.moveId, job, Phase.VERIFY);
                MoveJournal.movedIn(c, run.moveId, job, nextVersion);
                c.commit();
            }
            job.movedInVersion = nextVersion;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(snapshot);
            giveBack(run, job, nextVersion, moving, e);
            throw e;
        }
        job.phase = Phase.VERIFY;
        job.snapshot = snapshot;
        long end = System.nanoTime();
        long pauseMs = (end - fenceStart) / 1_000_000;
        // where the pause went, for an operator who finds it long: the fence's locks, the target catching up, the
        // target taking the ranges, the publish
        String parts = "fence " + ms(fenceStart, fenced) + ", catch-up " + ms(fenced, caughtUp) + ", target "
                + ms(caughtUp, owns) + ", publish " + ms(owns, end) + " ms";
        run.journal(job, "cutover", "info", "topology version " + nextVersion + " published; writes to the moving"
                + " keys paused " + pauseMs + " ms (" + parts + ")");
        run.tell(job, "cutover", "info", "paused " + pauseMs + " ms (" + parts + ")", -1, 0);
    }

    /**
     * The cutover failed after the fence: unless the new version was published after all, the source owns the
     * ranges again at once, so that writes to them go on there instead of waiting for an operator; {@code resume}
     * fences again later. Routers hear of it by a notification on the catalog's channel. The target is disowned
     * too where it can be reached (nothing routes to it for these ranges: the version that would was never
     * published).
     */
    private static void giveBack(MoveRun run, JobState job, long version, List<long[]> moving, Exception cause) {
        long current;
        try {
            current = run.journal.catalog().version();
        } catch (RuntimeException unknown) {
            cause.addSuppressed(new IllegalStateException("the catalog cannot tell whether topology version "
                    + version + " was published, so " + job.source + " stays fenced for the job's ranges; resume"
                    + " once the catalog is back", unknown));
            return;
        }
        if (current >= version) {
            return; // published after all: the target is the owner now
        }
        try {
            Ownership.change(run, job.source, current, Ownership.with(moving));
            run.journal.catalog().notifyRouters("fence released on " + job.source);
            run.journal(job, "cutover", "info", "cutover failed (" + firstLine(cause) + "); " + job.source
                    + " owns the ranges again, nothing was published; resume fences again");
            run.tell(job, "cutover", "released", job.source);
        } catch (SQLException | RuntimeException e) {
            cause.addSuppressed(e);
            return;
        }
        if (run.nodes.probe(job.target, 2) != null) {
            return; // the target is down: resume or abort disowns it later; no router sends it these keys
        }
        try {
            Ownership.change(run, job.target, current, Ownership.without(moving));
        } catch (SQLException | RuntimeException busy) {
            // resume or abort disowns it later; no router sends it these keys
        }
    }

    private static long ms(long from, long to) {
        return (to - from) / 1_000_000;
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the snapshot is of no use after a failed cutover
        }
    }
}
