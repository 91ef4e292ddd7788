package io.shardring.migration.support;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Work on several nodes at once, each on its own daemon thread, waited for in the given order: creating a database
 * or counting a table takes seconds on a busy server, and the nodes are independent. The first failure is thrown as
 * the task threw it (an {@link SQLException} or a runtime exception); the tasks still running are interrupted.
 */
public final class PerNode {
    private PerNode() {
    }

    /** One node's work. */
    @FunctionalInterface
    public interface Task<K, V> {
        V run(K node) throws SQLException;
    }

    /**
     * Runs {@code task} for every key, at most {@code threads} at once, and returns the results by key in the keys'
     * order.
     *
     * @param name the threads' name, then their number ("shardring-planner-1")
     */
    public static <K, V> Map<K, V> run(String name, int threads, Iterable<K> keys, Task<K, V> task)
            throws SQLException {
        AtomicInteger n = new AtomicInteger();
        Map<K, Future<V>> futures = new LinkedHashMap<>();
        for (K k : keys) {
            futures.put(k, null);
        }
        if (futures.isEmpty()) {
            return Map.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, futures.size())), r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            futures.replaceAll((k, none) -> pool.submit(() -> task.run(k)));
            Map<K, V> out = new LinkedHashMap<>();
            for (Map.Entry<K, Future<V>> e : futures.entrySet()) {
                try {
                    out.put(e.getKey(), e.getValue().get());
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting for " + e.getKey(),
                            ex);
                } catch (ExecutionException ex) {
                    throw unwrap(ex, String.valueOf(e.getKey()));
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * What a task threw, as it threw it: an {@link SQLException} is returned to be thrown, a runtime exception or an
     * error is thrown from here, anything else is wrapped naming {@code what}.
     */
    public static SQLException unwrap(ExecutionException e, String what) {
        Throwable cause = e.getCause();
        if (cause instanceof SQLException) {
            return (SQLException) cause;
        }
        if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new SQLException(what + " failed: " + cause, cause);
    }
}
