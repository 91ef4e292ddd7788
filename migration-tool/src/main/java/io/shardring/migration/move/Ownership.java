package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.schema.OwnershipGuard;
import java.sql.Connection;
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
        long deadline = System.nanoTime() + run.options.fenceTimeout().toNanos();
        long backoffMs = 20;
        int attempts = 0;
        while (true) {
            attempts++;
            try (Connection c = run.node(nodeId).getConnection()) {
                c.setAutoCommit(false);
                try {
                    List<long[]> owned = HashIntervals.of(OwnershipGuard.readOwned(c));
                    List<long[]> next = change.apply(owned);
                    if (!HashIntervals.same(next, owned) || OwnershipGuard.identity(c) == null) {
                        OwnershipGuard.setOwnedRanges(c, nodeId, version, run.keyType, HashIntervals.toRanges(next),
                                run.options.fenceLockTimeout());
                    }
                    c.commit();
                    return;
                } catch (SQLException e) {
                    c.rollback();
                    if (!lockTimedOut(e)) {
                        throw e;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "could not lock the sharded tables on " + nodeId
                        + " within " + run.options.fenceTimeout().toMillis() + " ms (" + attempts + " attempts of "
                        + run.options.fenceLockTimeout().toMillis() + " ms): a long transaction there holds them;"
                        + " nothing was changed on " + nodeId + ". Find it in pg_stat_activity on " + nodeId
                        + ", then resume");
            }
            Mover.sleep(backoffMs);
            backoffMs = Math.min(500, backoffMs * 2);
        }
    }

    static boolean lockTimedOut(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if (OwnershipGuard.LOCK_TIMEOUT_SQLSTATE.equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    static UnaryOperator<List<long[]>> without(List<long[]> ranges) {
        return owned -> HashIntervals.minus(owned, ranges);
    }

    static UnaryOperator<List<long[]>> with(List<long[]> ranges) {
        return owned -> HashIntervals.union(owned, ranges);
    }
}
