package io.shardring.migration.failover;

import io.shardring.router.topology.Catalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A node's failover as the catalog records it ({@code shardring.failovers}, catalog migration V5): what a second run
 * of the same command reads to finish it after a crash of the first.
 */
final class FailoverJournal {
    /** A failover the catalog records as running. */
    record Entry(long id, String nodeId, String fromUrl, String toUrl, long newEpoch, String mode) {
    }

    private final Catalog catalog;

    FailoverJournal(Catalog catalog) {
        this.catalog = catalog;
    }

    /** The node's running failover, or null. */
    Entry running(String nodeId) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, from_url, to_url, new_epoch, mode FROM shardring.failovers WHERE node_id = ?"
                        + " AND state = 'running'")) {
            ps.setString(1, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Entry(rs.getLong(1), nodeId, rs.getString(2), rs.getString(3), rs.getLong(4),
                        rs.getString(5)) : null;
            }
        }
    }

    Entry begin(String nodeId, String fromUrl, String toUrl, long newEpoch, String mode) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.failovers (node_id, from_url, to_url, new_epoch, mode) VALUES (?, ?, ?, ?, ?)"
                        + " RETURNING id")) {
            ps.setString(1, nodeId);
            ps.setString(2, fromUrl);
            ps.setString(3, toUrl);
            ps.setLong(4, newEpoch);
            ps.setString(5, mode);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Entry(rs.getLong(1), nodeId, fromUrl, toUrl, newEpoch, mode);
            }
        }
    }

    void step(long id, String step) throws SQLException {
        update(id, "UPDATE shardring.failovers SET steps = array_append(steps, ?) WHERE id = ?", step);
    }

    void finish(long id) throws SQLException {
        update(id, "UPDATE shardring.failovers SET state = 'done', finished_at = now(),"
                + " steps = array_append(steps, ?) WHERE id = ?", "done");
    }

    private void update(long id, String sql, String step) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, step);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    /** The running move with a job from or to the node, as "move 7 (set-weight ...)", or null. */
    String moveInvolving(String nodeId) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT m.id, m.change FROM shardring.moves m JOIN shardring.move_jobs j ON j.move_id = m.id"
                        + " WHERE m.state = 'running' AND (j.source = ? OR j.target = ?) LIMIT 1")) {
            ps.setString(1, nodeId);
            ps.setString(2, nodeId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? "move " + rs.getLong(1) + " (" + rs.getString(2) + ")" : null;
            }
        }
    }
}
