package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.schema.OwnershipGuard;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Work on a live node's tables that needs their locks (a trigger, a sequence, a change of ownership): one transaction
 * whose every lock waits at most {@code lockTimeout}, rolled back on a lock timeout (nothing changed) and tried again
 * with back-off (20 ms doubling to 500 ms) for at most {@code patience}. A queued lock holds back every new writer of
 * its table, so writers wait at most one lock timeout at a time, even behind a long transaction, and a writer that
 * takes locks in another order than the work cannot deadlock with it for longer than that.
 */
public final class Locks {
    /** The work, in the transaction of the connection it is given; the caller of {@link #retry} commits. */
    public interface Work {
        void run(Connection c) throws SQLException;
    }

    private Locks() {
    }

    /**
     * Runs {@code work} until it gets its locks and commits.
     *
     * @param what   what the locks are for, as the failure names them ("the sharded tables on pg-a")
     * @param advice what to do when the work never got its locks
     * @return how many attempts it took
     * @throws ShardringException when {@code patience} passed without the locks; nothing was changed
     */
    public static int retry(DataSource ds, Duration lockTimeout, Duration patience, String what, String advice,
            Work work) throws SQLException {
        long deadline = System.nanoTime() + patience.toNanos();
        long backoffMs = 20;
        int attempts = 0;
        while (true) {
            attempts++;
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET LOCAL lock_timeout = '" + Math.max(1, lockTimeout.toMillis()) + "ms'");
                    }
                    work.run(c);
                    c.commit();
                    return attempts;
                } catch (SQLException e) {
                    c.rollback();
                    if (!timedOut(e)) {
                        throw e;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "could not lock " + what + " within "
                        + patience.toMillis() + " ms (" + attempts + " attempts of " + lockTimeout.toMillis() + " ms):"
                        + " a long transaction holds them; nothing was changed. " + advice);
            }
            Mover.sleep(backoffMs);
            backoffMs = Math.min(500, backoffMs * 2);
        }
    }

    /** Whether a statement gave up waiting for a lock ({@code lock_timeout}). */
    public static boolean timedOut(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if (OwnershipGuard.LOCK_TIMEOUT_SQLSTATE.equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }
}
