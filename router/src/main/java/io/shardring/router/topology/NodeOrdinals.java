package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.schema.SequenceRanges;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The catalog's node ordinals ({@code shardring.node_ordinals}): every node gets one when it joins, the next never
 * given before, and keeps it while it is in the ring; a node that leaves has its ordinal retired, so a database that
 * joins later under the same id draws ids from a range no database used. An adopted database is ordinal 0.
 */
public final class NodeOrdinals {
    private final DataSource catalog;

    public NodeOrdinals(DataSource catalog) {
        this.catalog = catalog;
    }

    /** The catalog's id, which every node's database records ({@link io.shardring.router.schema.Membership}). */
    public UUID catalogId() {
        try (Connection c = catalog.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id FROM shardring.catalog_identity")) {
            if (!rs.next()) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "the catalog has no identity row; open it with"
                        + " a current shardring (Catalog.open) to migrate it");
            }
            return rs.getObject(1, UUID.class);
        } catch (SQLException e) {
            throw Catalog.error("read the catalog's id", e);
        }
    }

    /** The node's active ordinal, assigning the next one never given if it has none; one transaction. */
    public int assign(String nodeId) {
        try (Connection c = catalog.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (Statement s = c.createStatement()) {
                    s.execute("LOCK TABLE shardring.node_ordinals IN SHARE ROW EXCLUSIVE MODE");
                }
                Integer existing = active(c).get(nodeId);
                if (existing != null) {
                    c.commit();
                    return existing;
                }
                int next;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT coalesce(max(ordinal) + 1, 0) FROM shardring.node_ordinals")) {
                    rs.next();
                    next = rs.getInt(1);
                }
                if (next > SequenceRanges.MAX_ORDINAL) {
                    throw new ConfigurationException("no node ordinal left for '" + nodeId + "': "
                            + (SequenceRanges.MAX_ORDINAL + 1) + " have been given, each a range of 2^"
                            + SequenceRanges.BITS + " ids");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO shardring.node_ordinals (ordinal, node_id) VALUES (?, ?)")) {
                    ps.setInt(1, next);
                    ps.setString(2, nodeId);
                    ps.executeUpdate();
                }
                c.commit();
                return next;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw Catalog.error("assign an ordinal to node '" + nodeId + "'", e);
        }
    }

    /**
     * A new ordinal for the node, its active one (if any) retired first: for a database that does not record the
     * active one, which may have been another database's under the same node id, whose ids are still in use.
     */
    public int assignFresh(String nodeId) {
        retire(nodeId);
        return assign(nodeId);
    }

    /**
     * Keeps ordinal 0 from ever being given, if no ordinal was given yet: for a ring whose nodes drew ids from 1 before
     * they had ordinals, every node's range then starts above the ids drawn so far (ordinal 0's range holds them).
     *
     * @return whether ordinal 0 was set aside now
     */
    public boolean setZeroAside() {
        try (Connection c = catalog.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("LOCK TABLE shardring.node_ordinals IN SHARE ROW EXCLUSIVE MODE");
            int n = s.executeUpdate("INSERT INTO shardring.node_ordinals (ordinal, node_id, retired_at)"
                    + " SELECT 0, '(ids drawn before ordinals)', now()"
                    + " WHERE NOT EXISTS (SELECT 1 FROM shardring.node_ordinals)");
            c.commit();
            return n == 1;
        } catch (SQLException e) {
            throw Catalog.error("set ordinal 0 aside", e);
        }
    }

    /** Active ordinals by node id, in ordinal order. */
    public Map<String, Integer> active() {
        try (Connection c = catalog.getConnection()) {
            return active(c);
        } catch (SQLException e) {
            throw Catalog.error("read the node ordinals", e);
        }
    }

    private static Map<String, Integer> active(Connection c) throws SQLException {
        Map<String, Integer> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT node_id, ordinal FROM"
                + " shardring.node_ordinals WHERE retired_at IS NULL ORDER BY ordinal")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getInt(2));
            }
        }
        return out;
    }

    /** The node has left the ring: its ordinal is never given again, not even to a node of the same id. */
    public void retire(String nodeId) {
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.node_ordinals SET retired_at = now() WHERE node_id = ? AND retired_at IS NULL")) {
            ps.setString(1, nodeId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw Catalog.error("retire the ordinal of node '" + nodeId + "'", e);
        }
    }
}
