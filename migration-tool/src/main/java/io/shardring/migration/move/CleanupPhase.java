package io.shardring.migration.move;

import io.shardring.migration.support.RouterCatchUp;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Cleanup: subscription, slot and publication dropped; the target's tables analyzed fully; the moved rows deleted on the source in batches, each its
 * own transaction, so that a long delete neither holds locks for long nor starts over after a crash.
 */
final class CleanupPhase {
    private CleanupPhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        new Replication(run, job).drop();
        // the copy left the target a small sample's statistics, enough for the foreign-key check: the full ones now
        CopyPhase.analyze(run, job.target, 0);
        awaitRouters(run, job);
        int batch = run.options.deleteBatch();
        try (Connection c = run.node(job.source).getConnection(); Sessions.Reset past = Sessions.pastTheGuard(c)) {
            for (ShardedTable t : run.tables) {
                String pred = TokenRange.toSql(job.ranges, run.keyType, t.keyColumn());
                long total = 0;
                while (true) {
                    int n;
                    try (Statement s = c.createStatement()) {
                        n = s.executeUpdate("DELETE FROM " + t.quotedName() + " WHERE ctid IN (SELECT ctid FROM "
                                + t.quotedName() + " WHERE " + pred + " LIMIT " + batch + ")");
                    }
                    total += n;
                    if (n < batch) {
                        break;
                    }
                    run.tell(job, "cleanup", "progress", "deleted " + total + " moved rows of " + t.displayName(),
                            total, -1);
                }
                run.journal(job, "cleanup", "info", "deleted " + total + " moved rows of " + t.displayName() + " on "
                        + job.source);
            }
        }
    }

    /**
     * Waits until every router heard from within the grace period routes by a version in which the job's ranges
     * have moved: until then a read through a router still on an older version goes to the source, which must still
     * hold the rows. A router silent for longer than the grace period (stopped, crashed, cut off) no longer counts.
     */
    static void awaitRouters(MoveRun run, JobState job) throws SQLException {
        List<RouterRegistry.Entry> behind = RouterWait.until(run, job, "cleanup", run.options.routerWait(), true);
        if (!behind.isEmpty()) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cleanup of " + job.label() + " waited "
                    + run.options.routerWait().toSeconds() + " s for routers still on a version before the one in"
                    + " which its rows moved (" + RouterCatchUp.describe(behind)
                    + "); their reads go to " + job.source + ", whose moved rows are kept. Let them catch up (or stop"
                    + " them: a router silent for " + run.options.routerGrace().toSeconds() + " s no longer counts),"
                    + " then resume");
        }
    }
}
