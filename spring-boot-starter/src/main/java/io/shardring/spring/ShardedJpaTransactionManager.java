package io.shardring.spring;

import io.shardring.router.jdbc.ShardedDataSource;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.FlushMode;
import org.hibernate.Session;
import org.hibernate.engine.spi.SessionImplementor;
import org.hibernate.resource.jdbc.spi.LogicalConnectionImplementor;
import org.springframework.orm.jpa.EntityManagerHolder;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Spring's {@link JpaTransactionManager} for an EntityManagerFactory over the router's
 * {@linkplain ShardedDataSource#contextBound() context-bound DataSource}, with the rules of
 * {@link ShardedTransactionManager}: a transaction refuses to begin with no tenant bound (naming its method), begins
 * on the bound tenant's shard (Hibernate takes its connection when the transaction begins) and holds the tenant
 * until it completes. JDBC code in the transaction ({@code JdbcTemplate}, jOOQ) shares its connection, as with
 * Spring's own JPA transaction manager.
 *
 * <p>Hibernate writes most of a transaction at commit, in its flush, where the guard refuses a tenant that is being
 * moved. A refusal there has committed nothing, so the transaction is flushed before the commit is counted: the
 * starter runs such a unit of work again on the new owner, as it does for a refusal inside the method.
 */
public class ShardedJpaTransactionManager extends JpaTransactionManager {
    private static final long serialVersionUID = 1L;

    /** Finds the application's EntityManagerFactory in the bean factory, as Spring Boot's own JPA one does. */
    public ShardedJpaTransactionManager() {
    }

    public ShardedJpaTransactionManager(EntityManagerFactory emf) {
        super(emf);
    }

    @Override
    protected void doBegin(Object transaction, TransactionDefinition definition) {
        ShardedTransactions.requireKey(definition);
        releaseConnectionOfBoundEntityManager();
        super.doBegin(transaction, definition);
        ShardedTransactions.begun();
    }

    /**
     * An EntityManager bound to the thread before the transaction (open-in-view binds one for a whole web request)
     * is the one the transaction uses, and with Spring's Hibernate set-up (connection handling
     * {@code DELAYED_ACQUISITION_AND_HOLD}) it keeps the connection it took until it is closed: the connection of an
     * earlier transaction, possibly on another tenant's shard, or on the old owner of a tenant that has just moved,
     * where the run again after a cutover would be refused until it gave up. Released here, so that Hibernate takes
     * a connection for the tenant of this transaction. A transaction that opens its own EntityManager needs nothing.
     */
    private void releaseConnectionOfBoundEntityManager() {
        EntityManagerHolder bound = (EntityManagerHolder) TransactionSynchronizationManager.getResource(
                obtainEntityManagerFactory());
        if (bound == null || bound.isSynchronizedWithTransaction()) {
            return; // none, or one of a transaction that ended: JpaTransactionManager opens a new EntityManager
        }
        LogicalConnectionImplementor connection = bound.getEntityManager().unwrap(SessionImplementor.class)
                .getJdbcCoordinator().getLogicalConnection();
        if (connection.isPhysicallyConnected()) {
            connection.manualDisconnect();
        }
    }

    @Override
    protected void doCommit(DefaultTransactionStatus status) {
        if (flushesAtCommit()) {
            status.flush(); // a failure here rolls back as a failed commit does (Spring's processCommit)
        }
        ShardedTransactions.committing();
        super.doCommit(status);
    }

    /**
     * Whether Hibernate's commit would flush: not in a read-only transaction (Spring's HibernateJpaDialect sets
     * {@code FlushMode.MANUAL} there) nor when the application set MANUAL itself.
     */
    private boolean flushesAtCommit() {
        EntityManagerHolder holder = (EntityManagerHolder) TransactionSynchronizationManager.getResource(
                obtainEntityManagerFactory());
        return holder != null && holder.getEntityManager().unwrap(Session.class).getHibernateFlushMode()
                != FlushMode.MANUAL;
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
