package io.shardring.migration.move;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.schema.OwnershipGuard;
import java.sql.SQLException;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Changes a node's owned ranges for the mover, each change its own transaction. The guard's table locks are taken
 * with a short lock timeout and retried with back-off: a queued lock holds back every writer of the table, so
 * writers of keys that do not move wait at most one lock timeout at a time, even behind a long transaction; a change
 * that cannot get its locks within the fence timeout fails cleanly, having changed nothing.
 */
final class Ownership {
    private Ownership() {
    }

    /** Replaces the node's owned intervals by {@code change} applied to them; a no-op change takes no locks. */
    static void change(MoveRun run, String nodeId, long version, UnaryOperator<List<long[]>> change)
            throws SQLException {
        Locks.retry(run.node(nodeId), run.options.fenceLockTimeout(), run.options.fenceTimeout(),
                "the sharded tables on " + nodeId, "Find it in pg_stat_activity on " + nodeId + ", then resume", c -> {
                    List<long[]> owned = HashIntervals.of(OwnershipGuard.readOwned(c));
                    List<long[]> next = change.apply(owned);
                    if (!HashIntervals.same(next, owned) || OwnershipGuard.identity(c) == null) {
                        OwnershipGuard.setOwnedRanges(c, nodeId, version, run.keyType, HashIntervals.toRanges(next),
                                run.options.fenceLockTimeout());
                    }
                });
    }

    static boolean lockTimedOut(SQLException e) {
        return Locks.timedOut(e);
    }

    static UnaryOperator<List<long[]>> without(List<long[]> ranges) {
        return owned -> HashIntervals.minus(owned, ranges);
    }

    static UnaryOperator<List<long[]>> with(List<long[]> ranges) {
        return owned -> HashIntervals.union(owned, ranges);
    }
}
