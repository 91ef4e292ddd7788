package io.shardring.migration.move;

import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Copy and catch-up, once per job: a publication on the source with the ranges' predicate as row filter; a logical
 * slot created on a replication connection, which exports a snapshot; the ranges' rows copied in that snapshot
 * ({@link CopyPipe}); then a subscription without {@code copy_data} streams everything committed after the snapshot
 * from that slot. (PostgreSQL's own {@code copy_data} decodes the WAL of the copy window twice, table sync and apply,
 * and copied more slowly.) Servers without logical replication skip all of it: their rows are copied under the
 * fence at cutover.
 */
final class CopyPhase {
    private CopyPhase() {
    }

    static void start(MoveRun run, JobState job) throws SQLException {
        if (!Replication.logical(run.nodes, job.source)) {
            run.journal(job, "copy", "info", job.source + " has no logical replication (wal_level): its rows are"
                    + " copied with COPY under the fence at cutover");
            return;
        }
        Replication replication = new Replication(run, job);
        replication.createPublication();
        if (replication.subscribed()) {
            return; // copied and streaming already: a resume after the copy
        }
        // an earlier attempt that stopped during the copy left a slot whose snapshot is gone, and some rows
        replication.dropSlot();
        PreparePhase.clearTarget(run, job);
        try (Connection c = replication.replicationConnection()) {
            String snapshot = replication.createSlot(c);
            long rows = CopyPipe.copy(run, job, snapshot);
            run.journal.rowsCopied(run.moveId, job, rows);
        } // the exported snapshot ends here; the slot stays and holds the changes since it
        replication.subscribe();
        analyze(run, job);
    }

    /**
     * Statistics for the tables the copy just filled: without them the planner takes them for empty, and the foreign-key
     * check's anti-joins got plans for empty tables (benchmarks/run adopt: the check took 1.0-2.7 s a job without them,
     * 0.2-0.4 s with them). A small sample does for that and costs a tenth (3,000 rows, not 30,000: three jobs' full
     * ANALYZE took 1.0-1.2 s each beside each other's copies); cleanup analyzes the tables fully.
     */
    static void analyze(MoveRun run, JobState job) throws SQLException {
        analyze(run, job.target, 10);
    }

    /** ANALYZE of the sharded tables on a node, with the given statistics target (0: the server's). */
    static void analyze(MoveRun run, String nodeId, int statisticsTarget) throws SQLException {
        try (Connection c = run.node(nodeId).getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                if (statisticsTarget > 0) {
                    s.execute("SET LOCAL default_statistics_target = " + statisticsTarget);
                }
                for (ShardedTable t : run.tables) {
                    s.execute("ANALYZE " + t.quotedName());
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Waits until the subscription keeps up (a marker's round trip under 250 ms), so that the fence is short. */
    static void awaitSync(MoveRun run, JobState job) throws SQLException {
        if (!Replication.logical(run.nodes, job.source)) {
            return;
        }
        Replication replication = new Replication(run, job);
        long deadline = System.nanoTime() + run.options.syncTimeout().toNanos();
        try (Connection target = run.node(job.target).getConnection()) {
            while (true) {
                long start = System.nanoTime();
                long seq = replication.writeMarker();
                replication.awaitMarker(seq, run.options.syncTimeout(), target);
                long roundTripMs = (System.nanoTime() - start) / 1_000_000;
                run.tell(job, "copy", "progress", "caught up; marker round trip " + roundTripMs + " ms");
                if (roundTripMs < 250 || System.nanoTime() > deadline) {
                    return;
                }
            }
        }
    }
}
