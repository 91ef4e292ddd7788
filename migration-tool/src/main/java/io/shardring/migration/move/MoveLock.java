package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Catalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * One process at a time works on a move: a session advisory lock on the catalog, held while run, resume
 * or abort work on it, so that an abort cannot undo a cutover that another process is publishing.
 */
final class MoveLock implements AutoCloseable {
    private static final long NAMESPACE = 0x73686d76L << 32; // "shmv"
    private static final long RETRY_MS = 100;

    private final Connection connection;
    private final long key;

    private MoveLock(Connection connection, long key) {
        this.connection = connection;
        this.key = key;
    }

    static MoveLock take(Catalog catalog, long moveId, Duration wait) {
        long key = NAMESPACE | (moveId & 0xffffffffL);
        long deadline = System.nanoTime() + wait.toNanos();
        Connection c = null;
        try {
            c = catalog.dataSource().getConnection();
            while (!tryLock(c, key)) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + moveId + " is being worked"
                            + " on by another shardring process" + holder(c, key) + "; wait for it, or stop it first");
                }
                Thread.sleep(RETRY_MS);
            }
            return new MoveLock(c, key);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(c, null);
            throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting for move " + moveId, e);
        } catch (SQLException | RuntimeException e) {
            close(c, e);
            if (e instanceof ShardringException) {
                throw (ShardringException) e;
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot lock move " + moveId + " in the catalog: "
                    + e.getMessage(), e);
        }
    }

    private static boolean tryLock(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Who holds the lock, so that the operator can find the process: its session's name, client and start. */
    private static String holder(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT a.pid, a.application_name, a.client_addr::text,"
                + " a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ? AND l.objid::bigint = ?"
                + " AND l.objsubid = 1")) {
            ps.setLong(1, key >>> 32);
            ps.setLong(2, key & 0xffffffffL);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "";
                }
                String client = rs.getString(3) == null ? "a local socket" : rs.getString(3);
                return " (catalog session " + rs.getInt(1) + ", '" + rs.getString(2) + "' from " + client
                        + ", connected since " + rs.getTimestamp(4).toInstant() + ")";
            }
        }
    }

    private static void close(Connection c, Exception failure) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException suppressed) {
            if (failure != null) {
                failure.addSuppressed(suppressed);
            }
        }
    }

    @Override
    public void close() {
        try (connection; PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, key);
            ps.executeQuery().close();
        } catch (SQLException e) {
            // closing the session releases the lock anyway
        }
    }
}
