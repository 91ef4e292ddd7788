package io.shardring.router.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A unit of work on a pooled connection, committed on return and rolled back on any failure, or in auto-commit; the
 * connection goes back to its pool as it came (auto-commit restored).
 */
final class Transactions {
    private Transactions() {
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
