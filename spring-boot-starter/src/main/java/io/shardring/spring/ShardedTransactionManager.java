package io.shardring.spring;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;

/**
 * Spring's {@link DataSourceTransactionManager} over the router's {@linkplain ShardedDataSource#contextBound()
 * context-bound DataSource}: a transaction begins on the shard of the key bound to the thread, and holds that key
 * until it completes, so that binding another key inside it fails instead of silently writing to the first shard.
 * With no key bound it refuses to begin, naming the transaction's method.
 */
public class ShardedTransactionManager extends DataSourceTransactionManager {
    private static final long serialVersionUID = 1L;
    /** Commits on this thread: a unit of work that committed part of itself must not run again after a rejection. */
    private static final ThreadLocal<long[]> COMMITS = ThreadLocal.withInitial(() -> new long[1]);

    public ShardedTransactionManager(ShardedDataSource router) {
        super(router.contextBound());
    }

    @Override
    protected void doBegin(Object transaction, TransactionDefinition definition) {
        if (ShardContext.currentKey() == null) {
            throw new ShardringException(ErrorCode.NO_KEY_BOUND, "no tenant is bound for the transaction of "
                    + (definition.getName() == null ? "this call" : definition.getName()) + ", so it has no shard to"
                    + " run on; give the method a @ShardKey parameter or @ShardedBy(\"#tenantId\"), call it from one"
                    + " that has, set shardring.web.header or shardring.web.path-variable for web requests, or wrap"
                    + " the call in ShardContext.runWithKey(tenantId, () -> ...)");
        }
        super.doBegin(transaction, definition);
        ShardContext.holdForTransaction();
    }

    @Override
    protected void doCommit(org.springframework.transaction.support.DefaultTransactionStatus status) {
        COMMITS.get()[0]++; // before the commit: one that fails half-way may have committed too
        super.doCommit(status);
    }

    /** How many commits this thread began through a {@code ShardedTransactionManager}. */
    static long commits() {
        return COMMITS.get()[0];
    }

    @Override
    protected Object doSuspend(Object transaction) {
        Object suspended = super.doSuspend(transaction);
        ShardContext.releaseTransaction(); // a suspended transaction does not hold its key; resume holds it again
        return suspended;
    }

    @Override
    protected void doResume(Object transaction, Object suspendedResources) {
        super.doResume(transaction, suspendedResources);
        if (ShardContext.currentKey() != null) {
            ShardContext.holdForTransaction();
        }
    }

    @Override
    protected void doCleanupAfterCompletion(Object transaction) {
        try {
            super.doCleanupAfterCompletion(transaction);
        } finally {
            ShardContext.releaseTransaction();
        }
    }
}
