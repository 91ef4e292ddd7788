package io.shardring.migration.support;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Asks until something holds or a deadline passes: a replicated marker arrived, a copy finished, the routers
 * switched. The pause between two asks starts short and doubles up to a limit, so that what comes at once is seen
 * at once and what takes long is not asked for thousands of times.
 */
public final class Poll {
    private Poll() {
    }

    /** One ask: the answer once it holds, null while it does not. */
    @FunctionalInterface
    public interface Check<T> {
        T ask() throws SQLException;
    }

    /**
     * Asks {@code check} until it answers, and returns the answer; null when {@code bound} passed first (the last ask
     * came after the deadline).
     *
     * @param firstPause the pause after the first ask that does not hold, doubled after each one up to
     *     {@code maxPause}
     */
    public static <T> T until(Duration bound, Duration firstPause, Duration maxPause, Check<T> check)
            throws SQLException {
        long deadline = System.nanoTime() + bound.toNanos();
        long pause = Math.max(1, firstPause.toMillis());
        long max = Math.max(pause, maxPause.toMillis());
        while (true) {
            T answer = check.ask();
            if (answer != null) {
                return answer;
            }
            if (System.nanoTime() - deadline > 0) {
                return null;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting; run the command"
                        + " again to continue", e);
            }
            pause = Math.min(max, pause * 2);
        }
    }

    /** {@link #until} with the same pause every time. */
    public static <T> T every(Duration pause, Duration bound, Check<T> check) throws SQLException {
        return until(bound, pause, pause, check);
    }
}
