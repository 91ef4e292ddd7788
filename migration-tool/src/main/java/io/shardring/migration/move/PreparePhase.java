package io.shardring.migration.move;

import io.shardring.migration.reference.ReferenceSync;

import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * Prepare: the target gets the shardring schema, the application's migrations and the guard, owning nothing new;
 * rows of the moving ranges left there by an earlier attempt are deleted, since the target does not own them.
 */
final class PreparePhase {
    private PreparePhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        // each node once per run: the jobs of an add-node share their target (Flyway takes a second a node)
        if (run.migrated.add("target " + job.target)) {
            ShardedFlyway.configure(run.after, Map.of(job.target, run.node(job.target)))
                    .locations(run.options.appLocations()).ownershipGuard(false).load().migrate().orThrow();
        }
        if (run.migrated.add("source " + job.source)) {
            // the source needs the current shardring schema too (the move markers)
            ShardedFlyway.shardringFlyway(run.node(job.source)).migrate();
        }
        if (run.migrated.add("reference " + job.target) && !run.before.nodes().containsKey(job.target)) {
            // a node the move adds serves tenants at its first cutover: its reference copy is seeded before
            new ReferenceSync(run.after, run.nodes, run.options.syncTimeout()).attach(job.target);
        }
        Ownership.change(run, job.target, run.after.version(), owned -> owned); // records its identity if new
        try (Connection c = run.node(job.target).getConnection()) {
            c.setAutoCommit(false);
            OwnershipGuard.install(c, job.target, run.keyType, run.tables);
            c.commit();
            try (Sessions.Reset past = Sessions.pastTheGuard(c)) {
                for (ShardedTable t : run.tables) {
                    int n = deleteRanges(c, job, run, t);
                    if (n > 0) {
                        run.journal(job, "prepare", "info", "removed " + n + " leftover rows of " + t.displayName()
                                + " on " + job.target);
                    }
                }
                c.commit();
            }
        }
    }

    /** Deletes the job's ranges of one table on the connection's node; the caller bypasses the guard. */
    static int deleteRanges(Connection c, JobState job, MoveRun run, ShardedTable t) throws SQLException {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate("DELETE FROM " + t.quotedName() + " WHERE "
                    + TokenRange.toSql(job.ranges, run.keyType, t.keyColumn()));
        }
    }

    /** Removes rows of the job's ranges from the target, which does not own them yet. */
    static void clearTarget(MoveRun run, JobState job) throws SQLException {
        try (Connection t = run.node(job.target).getConnection(); Sessions.Reset past = Sessions.pastTheGuard(t)) {
            for (ShardedTable tb : run.tables) {
                deleteRanges(t, job, run, tb);
            }
        }
    }
}
