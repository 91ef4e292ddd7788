package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.Failures;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * A unit of work on a pooled connection, committed on return and rolled back on any failure, or in auto-commit; the
 * connection goes back to its pool as it came (auto-commit restored). A read runs again on the next copy its
 * preference allows when its target cannot be reached. SQL errors come back as one exception type naming the shard.
 */
final class Transactions {
    private final ReadChoice reads;
    private final RouterMetrics metrics;

    Transactions(ReadChoice reads, RouterMetrics metrics) {
        this.reads = reads;
        this.metrics = metrics;
    }

    /**
     * Runs a read on an auto-commit connection to the target {@code preference} chooses among {@code targets}; when
     * that target cannot be reached (a primary that died a moment ago, before the router's monitor noticed), marks it
     * down and runs the read again on the next target the preference allows, unless the router {@code closed}.
     */
    <T> T read(Topology topology, ReadTarget[] targets, ReadPreference preference, SqlWork<T> work,
            BooleanSupplier closed) {
        ReadTarget failed = null;
        for (int attempt = 0; ; attempt++) {
            ReadTarget t = reads.choose(topology, targets, preference, failed);
            try (Connection c = t.pool.getConnection()) {
                return work.apply(c);
            } catch (SQLException | RuntimeException e) {
                boolean unreachable = Failures.isConnectionFailure(e) || e instanceof ShardUnavailableException;
                if (unreachable && attempt < targets.length - 1 && !closed.getAsBoolean()) {
                    if (!(e instanceof ShardUnavailableException)) {
                        t.pool.markDown();
                    }
                    failed = t;
                    continue;
                }
                throw failure(e, "read on " + t);
            }
        }
    }

    /**
     * What a unit of work's exception becomes: ours and the application's own unchanged; SQL errors, also when a
     * framework such as jOOQ wrapped them, one type naming {@code what} failed, the SQLSTATE kept in the cause.
     */
    RuntimeException failure(Exception e, String what) {
        if (e instanceof ShardringException) {
            return (ShardringException) e;
        }
        if (e instanceof RuntimeException && !Failures.hasSqlCause(e)) {
            return (RuntimeException) e;
        }
        metrics.sqlErrors.increment();
        return new ShardringException(ErrorCode.SHARD_ERROR, what + " failed: " + e.getMessage(), e);
    }

    static <T> T inTransaction(NodePool pool, SqlWork<T> work) throws SQLException {
        try (Connection c = pool.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            if (autoCommit) {
                c.setAutoCommit(false);
            }
            T result;
            try {
                result = work.apply(c);
                c.commit();
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                    if (autoCommit) {
                        c.setAutoCommit(true);
                    }
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed); // a broken connection: keep the work's own error, not "closed"
                }
                throw e;
            }
            if (autoCommit) {
                c.setAutoCommit(true);
            }
            return result;
        }
    }

    static <T> T autoCommit(NodePool pool, SqlWork<T> work) throws SQLException {
        try (Connection c = pool.getConnection()) {
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            return work.apply(c);
        }
    }
}
