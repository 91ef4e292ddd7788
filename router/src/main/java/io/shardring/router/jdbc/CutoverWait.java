package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.topology.RouterSettings;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Runs a unit of work on its key's owner and, when the owner's guard rejects it because a move's cutover took the key
 * (SQLSTATE {@value StaleTopologyException#SQLSTATE}), runs it again on the new owner: at once when the router
 * already routes there, else after the next routing change (a new topology version, or fenced ranges given back),
 * woken by {@link #routingMayHaveChanged}, for at most {@code router.cutoverWait}. So a move is a short pause for the
 * application, never an exception. It knows the router only through {@link Routing}.
 */
final class CutoverWait {
    /** What the wait needs of the router. */
    interface Routing {
        /** The pool of the key's owner in the current routing snapshot. */
        NodePool owner(Object key);

        /** After a rejection: a router that follows no catalog reloads its topology source. */
        void catchUp();

        boolean closed();

        /** The topology version routed by, for the timeout's message. */
        long version();

        /** The running move that holds the key, as {@code shardring status} shows it; null if none or unknown. */
        String heldBy(Object key);
    }

    /** One run of the work on a pool. */
    interface Attempt<T> {
        T run(NodePool pool) throws Exception;
    }

    /** What a run's exception becomes when it is not the guard's rejection (or may not run again). */
    interface Failure<X extends Exception> {
        X translate(NodePool pool, Exception e);
    }

    /**
     * While a key waits out a cutover its owner is asked again this often even without news from the catalog: a
     * router that follows no catalog, or missed a notification, still sees fenced ranges given back.
     */
    private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Routing routing;
    private final RouterSettings settings;
    private final RouterMetrics metrics;
    private final Object changed = new Object();
    private long changes;

    CutoverWait(Routing routing, RouterSettings settings, RouterMetrics metrics) {
        this.routing = routing;
        this.settings = settings;
        this.metrics = metrics;
    }

    <T, X extends Exception> T run(Object key, Attempt<T> attemptWork, Predicate<Exception> mayRunAgain,
            Failure<X> failure) throws X {
        long waitStart = 0;
        while (true) {
            NodePool pool = routing.owner(key);
            try {
                T result = attemptWork.run(pool);
                if (waitStart != 0) {
                    metrics.cutoverWait.record(System.nanoTime() - waitStart, TimeUnit.NANOSECONDS);
                }
                return result;
            } catch (Exception e) {
                if (StaleTopologyException.isCause(e) && !routing.closed() && mayRunAgain.test(e)) {
                    metrics.stale.increment();
                    if (waitStart == 0) {
                        waitStart = System.nanoTime();
                    }
                    long seen = changes();
                    if (routing.owner(key) == pool) { // another thread may have switched the key already
                        routing.catchUp();
                    }
                    if (routing.owner(key) != pool) {
                        continue; // the key moved (or a pool was retired): run it on the owner now
                    }
                    long waited = System.nanoTime() - waitStart;
                    if (waited >= settings.cutoverWait().toNanos()) {
                        metrics.cutoverTimeout.increment();
                        throw timeout(key, pool, waited, e);
                    }
                    awaitChange(seen, Math.min(settings.cutoverWait().toNanos() - waited, RETRY_NANOS));
                    continue;
                }
                throw failure.translate(pool, e);
            }
        }
    }

    /**
     * Wakes units of work that wait out a cutover, to try their key's owner again: on every notification of the
     * catalog, after every topology switch, and at close.
     */
    void routingMayHaveChanged() {
        synchronized (changed) {
            changes++;
            changed.notifyAll();
        }
    }

    private long changes() {
        synchronized (changed) {
            return changes;
        }
    }

    private void awaitChange(long seen, long nanos) {
        long deadline = System.nanoTime() + nanos;
        synchronized (changed) {
            while (changes == seen && !routing.closed()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(changed, left);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting out a move's"
                            + " cutover", ie);
                }
            }
        }
    }

    private StaleTopologyException timeout(Object key, NodePool pool, long waitedNanos, Exception cause) {
        long ms = TimeUnit.NANOSECONDS.toMillis(waitedNanos);
        String held = routing.heldBy(key);
        return new StaleTopologyException("shard " + pool.nodeId() + " does not own key " + key + " (topology version "
                + routing.version() + ") and no node took it within router.cutoverWait (" + ms + " ms waited): "
                + (held != null ? held + "; run `shardring status`, then `shardring resume` to finish the move or"
                        + " `shardring abort` to give the key back"
                        : "no running move holds it, so the shards' ownership is ahead of the topology this router"
                                + " can load; check the topology source and `shardring verify`"), cause);
    }
}
