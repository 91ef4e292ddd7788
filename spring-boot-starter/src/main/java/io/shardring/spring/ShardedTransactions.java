package io.shardring.spring;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.ShardContext;
import org.springframework.transaction.TransactionDefinition;

/**
 * What every shardring transaction manager does around Spring's own, whichever resource it manages (a JDBC
 * connection in {@link ShardedTransactionManager}, a JPA EntityManager in {@link ShardedJpaTransactionManager}): it
 * refuses to begin with no tenant bound, holds the tenant in {@link ShardContext} while the transaction runs (and
 * not while it is suspended), and counts commits for {@link ShardKeyAdvisor}, which must not run a unit of work
 * again once part of it may have committed. The managers call these from their {@code doBegin}, {@code doCommit},
 * {@code doSuspend}, {@code doResume} and {@code doCleanupAfterCompletion}.
 */
final class ShardedTransactions {
    /** Commits on this thread, through any shardring transaction manager. */
    private static final ThreadLocal<long[]> COMMITS = ThreadLocal.withInitial(() -> new long[1]);

    private ShardedTransactions() {
    }

    /** Before the transaction takes a connection: with no tenant bound there is no shard to take it from. */
    static void requireKey(TransactionDefinition definition) {
        if (ShardContext.currentKey() == null) {
            throw new ShardringException(ErrorCode.NO_KEY_BOUND, "no tenant is bound for the transaction of "
                    + (definition.getName() == null ? "this call" : definition.getName()) + ", so it has no shard to"
                    + " run on; give the method a @ShardKey parameter or @ShardedBy(\"#tenantId\"), call it from one"
                    + " that has, set shardring.web.header or shardring.web.path-variable for web requests, or wrap"
                    + " the call in ShardContext.runWithKey(tenantId, () -> ...)");
        }
    }

    /** The transaction began on the bound tenant's shard: binding another tenant inside it is refused. */
    static void begun() {
        ShardContext.holdForTransaction();
    }

    /**
     * The database commit is about to be sent. Counted before it: a commit that fails half-way may have committed,
     * so the unit of work must not run again.
     */
    static void committing() {
        COMMITS.get()[0]++;
    }

    /** How many commits this thread began through a shardring transaction manager. */
    static long commits() {
        return COMMITS.get()[0];
    }

    /** A suspended transaction does not hold its key (the next one may be another tenant's); resume holds it again. */
    static void suspended() {
        ShardContext.releaseTransaction();
    }

    static void resumed() {
        if (ShardContext.currentKey() != null) {
            ShardContext.holdForTransaction();
        }
    }

    static void completed() {
        ShardContext.releaseTransaction();
    }
}
