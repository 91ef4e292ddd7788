package io.shardring.router.schema;

import io.shardring.router.ConfigurationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;

/**
 * What a node's database records of the ring it belongs to ({@code shardring.membership}, shard migration V7): the
 * catalog's id, the node's id and its ordinal, the range its sequences draw from ({@link SequenceRanges}). A database
 * that records another catalog belongs to another ring and is refused by every tool that would make it a node.
 *
 * @param catalogId the id of the catalog whose ring this database is a node of
 * @param nodeId    the node's id in that ring
 * @param ordinal   the node's ordinal, 0 to {@value SequenceRanges#MAX_ORDINAL}
 */
public record Membership(UUID catalogId, String nodeId, int ordinal) {

    /** The database's membership, or empty when it records none (no shardring schema, or not a node yet). */
    public static Optional<Membership> read(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT to_regclass('shardring.membership') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return Optional.empty();
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT catalog_id, node_id, ordinal FROM shardring.membership")) {
            return rs.next() ? Optional.of(new Membership(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3)))
                    : Optional.empty();
        }
    }

    /**
     * Records this membership in the caller's transaction. Refuses a database that records another catalog or another
     * node id, naming both: a node's database is never silently taken over.
     */
    public void write(Connection c) throws SQLException {
        Optional<Membership> recorded = read(c);
        if (recorded.isPresent()) {
            Membership m = recorded.get();
            if (!m.catalogId.equals(catalogId)) {
                throw new ConfigurationException("the database of node '" + nodeId + "' is node '" + m.nodeId
                        + "' of another shardring ring (catalog " + m.catalogId + "); give this node an empty"
                        + " database, or remove that ring's shardring schema there first");
            }
            if (!m.nodeId.equals(nodeId)) {
                throw new ConfigurationException("the database of node '" + nodeId + "' is recorded as node '"
                        + m.nodeId + "' of this ring; check the node's jdbcUrl");
            }
            if (m.ordinal == ordinal) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.membership (catalog_id, node_id, ordinal)"
                + " VALUES (?, ?, ?) ON CONFLICT (singleton) DO UPDATE SET catalog_id = EXCLUDED.catalog_id,"
                + " node_id = EXCLUDED.node_id, ordinal = EXCLUDED.ordinal, joined_at = now()")) {
            ps.setObject(1, catalogId);
            ps.setString(2, nodeId);
            ps.setInt(3, ordinal);
            ps.executeUpdate();
        }
    }
}
