package io.shardring.router.jdbc;

import io.shardring.router.InvalidKeyException;
import java.util.concurrent.Callable;

/**
 * Binds a shard key to the current thread for frameworks that call {@code DataSource.getConnection()}
 * without arguments (JPA, Spring's JdbcTemplate, jOOQ configured once): see
 * {@link ShardedDataSource#contextBound()}. Bindings nest and are always undone.
 */
public final class ShardContext {
    private static final ThreadLocal<Object> KEY = new ThreadLocal<>();

    private ShardContext() {
    }

    public static void runWithKey(Object key, Runnable work) {
        Object previous = bind(key);
        try {
            work.run();
        } finally {
            restore(previous);
        }
    }

    public static <T> T callWithKey(Object key, Callable<T> work) throws Exception {
        Object previous = bind(key);
        try {
            return work.call();
        } finally {
            restore(previous);
        }
    }

    /** The key bound to this thread, or null. */
    public static Object currentKey() {
        return KEY.get();
    }

    private static Object bind(Object key) {
        if (key == null) {
            throw new InvalidKeyException("cannot bind a null shard key; pass the tenant id of the work");
        }
        Object previous = KEY.get();
        KEY.set(key);
        return previous;
    }

    private static void restore(Object previous) {
        if (previous == null) {
            KEY.remove();
        } else {
            KEY.set(previous);
        }
    }
}
