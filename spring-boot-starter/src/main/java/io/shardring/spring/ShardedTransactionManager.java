package io.shardring.spring;

import io.shardring.router.jdbc.ShardedDataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.DefaultTransactionStatus;

/**
 * Spring's {@link DataSourceTransactionManager} over the router's {@linkplain ShardedDataSource#contextBound()
 * context-bound DataSource}: a transaction begins on the shard of the key bound to the thread, and holds that key
 * until it completes, so that binding another key inside it fails instead of silently writing to the first shard.
 * With no key bound it refuses to begin, naming the transaction's method. With Spring Data JPA the starter uses
 * {@link ShardedJpaTransactionManager} instead, which does the same around Spring's JPA transaction manager.
 */
public class ShardedTransactionManager extends DataSourceTransactionManager {
    private static final long serialVersionUID = 1L;

    public ShardedTransactionManager(ShardedDataSource router) {
        super(router.contextBound());
    }

    @Override
    protected void doBegin(Object transaction, TransactionDefinition definition) {
        ShardedTransactions.requireKey(definition);
        super.doBegin(transaction, definition);
        ShardedTransactions.begun();
    }

    @Override
    protected void doCommit(DefaultTransactionStatus status) {
        ShardedTransactions.committing();
        super.doCommit(status);
    }

    @Override
    protected Object doSuspend(Object transaction) {
        Object suspended = super.doSuspend(transaction);
        ShardedTransactions.suspended();
        return suspended;
    }

    @Override
    protected void doResume(Object transaction, Object suspendedResources) {
        super.doResume(transaction, suspendedResources);
        ShardedTransactions.resumed();
    }

    @Override
    protected void doCleanupAfterCompletion(Object transaction) {
        try {
            super.doCleanupAfterCompletion(transaction);
        } finally {
            ShardedTransactions.completed();
        }
    }
}
