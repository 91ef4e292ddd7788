package io.shardring.migration.move;

import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Cleanup: subscription, slot and publication dropped; the moved rows deleted on the source in batches, each its
 * own transaction, so that a long delete neither holds locks for long nor starts over after a crash.
 */
final class CleanupPhase {
    private CleanupPhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        new Replication(run, job).drop();
        int batch = run.options.deleteBatch();
        try (Connection c = run.node(job.source).getConnection()) {
            Sessions.bypassGuard(c);
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
}
