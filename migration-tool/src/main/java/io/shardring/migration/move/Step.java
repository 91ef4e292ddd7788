package io.shardring.migration.move;

import io.shardring.router.Failures;
import io.shardring.router.ShardUnavailableException;
import java.sql.SQLException;
import java.util.List;

/**
 * One phase of one job, run as a step: journaled and told to the listener as started, then finished or failed. A
 * step that failed because a connection broke fails naming the node that is gone.
 */
final class Step {
    /** The phase's work. */
    interface Work {
        void run() throws SQLException;
    }

    private Step() {
    }

    /** Runs {@code work} as {@code phase} of {@code job}; its failure is journaled and told, then thrown. */
    static void run(MoveRun run, JobState job, String phase, Work work) throws SQLException {
        run.listener.on(run.moveId, job.index, phase, "started", job.pair(), -1, -1);
        run.journal.event(run.moveId, job.index, phase, "started", job.pair());
        try {
            work.run();
        } catch (SQLException | RuntimeException e) {
            Exception failure = e;
            ShardUnavailableException named = unreachable(run, job, phase, e);
            if (named != null) {
                failure = named;
            }
            try {
                run.journal.event(run.moveId, job.index, phase, "failed", failure.getMessage());
            } catch (SQLException | RuntimeException suppressed) {
                failure.addSuppressed(suppressed);
            }
            run.listener.on(run.moveId, job.index, phase, "failed", failure.getMessage(), -1, -1);
            if (named != null) {
                throw named;
            }
            throw e;
        }
        run.journal.event(run.moveId, job.index, phase, "finished", null);
        run.listener.on(run.moveId, job.index, phase, "finished", job.pair(), -1, -1);
    }

    /**
     * A step that failed because a connection broke names the node that is gone: a driver's "I/O error" says
     * neither which node nor why, so the job's nodes are asked directly. Null when the failure is not about a
     * connection, or both nodes answer.
     */
    private static ShardUnavailableException unreachable(MoveRun run, JobState job, String phase, Exception e) {
        if (e instanceof ShardUnavailableException) {
            return (ShardUnavailableException) e;
        }
        // any SQL or I/O failure may be a node that went away: drivers and pools word it many ways ("An I/O error
        // occurred", "Connection is closed", a pool's timeout), so the job's nodes are asked rather than the message
        if (!Failures.hasSqlOrIoCause(e)) {
            return null;
        }
        for (String node : List.of(job.source, job.target)) {
            String why = run.nodes.probe(node, 2);
            if (why != null) {
                return new ShardUnavailableException(node, "node " + node + " (" + why + ") is unreachable; " + phase
                        + " of " + job.label() + " (" + job.pair() + ") stopped: " + CutoverPhase.firstLine(e), e);
            }
        }
        return null;
    }
}
