package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ShardringException;
import java.util.concurrent.Callable;

/**
 * Binds a shard key to the current thread for frameworks that call {@code DataSource.getConnection()}
 * without arguments (JPA, Spring's JdbcTemplate, jOOQ configured once): see
 * {@link ShardedDataSource#contextBound()}. Bindings nest and are always undone.
 *
 * <p>A transaction that began on a key's shard holds that key ({@link #holdForTransaction}): binding another key
 * while it runs is an error, since its connection stays on the first shard and the work would silently go there.
 */
public final class ShardContext {
    private static final ThreadLocal<Object> KEY = new ThreadLocal<>();
    /**
     * The key this thread's running transaction holds, or null. One slot is enough: a transaction manager releases
     * the hold when it suspends a transaction (before it begins the next) and holds again when it resumes it.
     */
    private static final ThreadLocal<Object> HELD = new ThreadLocal<>();

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

    /**
     * Binds {@code key} until the returned scope is closed, for code whose start and end are separate callbacks
     * (a web interceptor's before and after). Close it on the same thread; try-with-resources where possible.
     */
    public static Scope open(Object key) {
        return new Scope(bind(key));
    }

    /** A binding made by {@link #open}; closing it restores the binding before it. */
    public static final class Scope implements AutoCloseable {
        private final Object previous;
        private boolean closed;

        private Scope(Object previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                restore(previous);
            }
        }
    }

    /** The key bound to this thread, or null. */
    public static Object currentKey() {
        return KEY.get();
    }

    /**
     * Marks the bound key as held by a transaction that just began (or resumed) on its shard, until
     * {@link #releaseTransaction()}: for transaction managers, which release it when they suspend the transaction.
     *
     * @throws ShardringException {@link ErrorCode#NO_KEY_BOUND} if no key is bound
     */
    public static void holdForTransaction() {
        Object key = KEY.get();
        if (key == null) {
            throw new ShardringException(ErrorCode.NO_KEY_BOUND, "no shard key is bound to this thread, so a"
                    + " transaction cannot begin on a shard");
        }
        HELD.set(key);
    }

    /** Ends {@link #holdForTransaction()}. */
    public static void releaseTransaction() {
        HELD.remove();
    }

    /** The key the running transaction of this thread holds, or null outside transactions. */
    public static Object transactionKey() {
        return HELD.get();
    }

    private static Object bind(Object key) {
        if (key == null) {
            throw new InvalidKeyException("cannot bind a null shard key; pass the tenant id of the work");
        }
        Object held = transactionKey();
        if (held != null && !sameKey(held, key)) {
            throw new ShardringException(ErrorCode.KEY_SWITCH_IN_TRANSACTION, "cannot bind shard key " + key
                    + " while a transaction on key " + held + " runs: its connection stays on that key's shard, so"
                    + " a transaction cannot switch shards midway; finish it first, or run the other key's work in"
                    + " its own transaction outside this one");
        }
        Object previous = KEY.get();
        KEY.set(key);
        return previous;
    }

    /** Equal keys, also when one is a Long and the other an Integer or Short of the same value (a bigint ring). */
    static boolean sameKey(Object a, Object b) {
        if (a.equals(b)) {
            return true;
        }
        if ((a instanceof Long || a instanceof Integer || a instanceof Short)
                && (b instanceof Long || b instanceof Integer || b instanceof Short)) {
            return ((Number) a).longValue() == ((Number) b).longValue();
        }
        return a instanceof CharSequence && b instanceof CharSequence && a.toString().contentEquals((CharSequence) b);
    }

    private static void restore(Object previous) {
        if (previous == null) {
            KEY.remove();
        } else {
            KEY.set(previous);
        }
    }
}
