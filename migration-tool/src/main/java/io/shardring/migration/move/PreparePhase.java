package io.shardring.migration.move;

import io.shardring.migration.reference.ReferenceSync;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.Membership;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Prepare: the target gets the shardring schema, its ordinal in the ring (a new node), the application's tables (from
 * the migrations, or cloned from the source's definitions when the migrations cannot build them), its sequences
 * restricted to its id range, and the guard, owning nothing new; rows of the moving ranges left there by an earlier
 * attempt are deleted, since the target does not own them.
 */
final class PreparePhase {
    private PreparePhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        if (run.migrated.add("ordinals of the ring's nodes")) {
            ordinalsOfCurrentNodes(run);
        }
        // each node once per run: the jobs of an add-node share their target (Flyway takes a second a node)
        if (run.migrated.add("target " + job.target)) {
            ShardedFlyway.shardringFlyway(run.node(job.target)).migrate();
            if (!run.before.nodes().containsKey(job.target)) {
                join(run, job);
            }
            ShardedFlyway.configure(run.after, Map.of(job.target, run.node(job.target)))
                    .locations(run.options.appLocations()).ownershipGuard(false).load().migrate().orThrow();
            List<String> ranged = rangeSequences(run, job.target);
            if (!ranged.isEmpty()) {
                run.journal(job, "prepare", "info", job.target + ": " + String.join("; ", ranged));
            }
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
        // an existing node takes writes while it is prepared: the guard's triggers wait briefly for their locks
        Locks.retry(run.node(job.target), run.options.fenceLockTimeout(), run.options.fenceTimeout(),
                "the sharded tables on " + job.target + " for the guard", "Find it in pg_stat_activity on "
                        + job.target + ", then resume", c -> OwnershipGuard.install(c, job.target, run.keyType,
                                run.tables));
        try (Connection c = run.node(job.target).getConnection()) {
            c.setAutoCommit(false);
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

    /**
     * A node new to the ring gets its ordinal (before its first cutover, so its sequences never draw outside their
     * range) and, when the migrations cannot build the whole schema, the source's own definitions.
     */
    private static void join(MoveRun run, JobState job) throws SQLException {
        NodeOrdinals ordinals = new NodeOrdinals(run.journal.catalog().dataSource());
        Integer active = ordinals.active().get(job.target);
        try (Connection c = run.node(job.target).getConnection()) {
            Optional<Membership> recorded = Membership.read(c);
            // the active ordinal is this database's only if it records it; otherwise it may be another database's
            // under the same node id (one an abort left in the catalog), whose ids are in use: never draw them again
            int ordinal = active != null && recorded.isPresent() && recorded.get().ordinal() == active ? active
                    : ordinals.assignFresh(job.target);
            c.setAutoCommit(false);
            new Membership(ordinals.catalogId(), job.target, ordinal).write(c);
            c.commit();
        }
        String created = TargetSchema.createIfMissing(run, job);
        if (created != null) {
            run.journal(job, "prepare", "info", created);
            run.tell(job, "prepare", "info", created);
        }
    }

    /**
     * The ring's nodes without an ordinal (a ring made before ordinals, whose operator did not run {@code init}
     * again) get theirs before any node the move adds, and their sequences are kept to it: otherwise the first node
     * added would be ordinal 0 and draw the ids the others drew.
     */
    private static void ordinalsOfCurrentNodes(MoveRun run) throws SQLException {
        NodeOrdinals ordinals = new NodeOrdinals(run.journal.catalog().dataSource());
        boolean zeroAside = false;
        for (String id : run.before.nodes().keySet()) {
            DataSource ds = run.node(id);
            Optional<Membership> recorded;
            try (Connection c = ds.getConnection()) {
                recorded = Membership.read(c);
            }
            Integer active = ordinals.active().get(id);
            if (recorded.isPresent() && active != null && recorded.get().ordinal() == active) {
                continue;
            }
            ShardedFlyway.shardringFlyway(ds).migrate();
            // these nodes have drawn ids from 1 on, each its own: every range starts above them, ordinal 0 is no one's
            zeroAside |= ordinals.setZeroAside();
            int ordinal = ordinals.assign(id);
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                new Membership(ordinals.catalogId(), id, ordinal).write(c);
                c.commit();
            }
            List<String> ranged = rangeSequences(run, id);
            run.journal.event(run.moveId, null, "prepare", "info", id + " had no ordinal: ordinal " + ordinal
                    + (zeroAside ? " (ordinal 0 set aside: the ids drawn before ordinals are in its range)" : "")
                    + (ranged.isEmpty() ? "" : "; " + String.join("; ", ranged)));
        }
    }

    /**
     * The node's sequences draw from its own id range, retried briefly while a writer holds one of them; returns what
     * changed.
     */
    private static List<String> rangeSequences(MoveRun run, String node) throws SQLException {
        List<List<String>> ranged = new java.util.ArrayList<>();
        Locks.retry(run.node(node), run.options.fenceLockTimeout(), run.options.fenceTimeout(), "the sequences on "
                + node, "Find it in pg_stat_activity on " + node + ", then resume",
                c -> ranged.add(SequenceRanges.applyOwn(c, run.tables, run.options.fenceLockTimeout())));
        return ranged.get(ranged.size() - 1);
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
