package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Catalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * One process at a time works on a move: a session advisory lock on the catalog, held while run, resume
 * or abort work on it, so that an abort cannot undo a cutover that another process is publishing.
 */
final class MoveLock implements AutoCloseable {
    private static final long NAMESPACE = 0x73686d76L << 32; // "shmv"

    private final Connection connection;
    private final long key;

    private MoveLock(Connection connection, long key) {
        this.connection = connection;
        this.key = key;
    }

    static MoveLock take(Catalog catalog, long moveId) {
        long key = NAMESPACE | (moveId & 0xffffffffL);
        Connection c = null;
        try {
            c = catalog.dataSource().getConnection();
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + moveId + " is being worked"
                                + " on by another shardring process; wait for it, or stop it first");
                    }
                }
            }
            return new MoveLock(c, key);
        } catch (SQLException | RuntimeException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof ShardringException) {
                throw (ShardringException) e;
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot lock move " + moveId + " in the catalog: "
                    + e.getMessage(), e);
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
