package io.shardring.router.schema;

import io.shardring.router.ConfigurationException;
import io.shardring.router.Sql;
import io.shardring.router.topology.ReferenceTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Installs the reference tables' guard on a node: the trigger function {@code shardring.reference_guard()} (shardring
 * schema migration V6) on each reference table, as the writable copy on the topology's reference node and as a
 * read-only copy elsewhere. Refuses a reference table that is missing or has no primary key (logical replication
 * applies updates and deletes by it).
 */
public final class ReferenceGuard {
    /** SQLSTATE of a write to a reference table that the guard refused. */
    public static final String SQLSTATE = "SR002";
    public static final String TRIGGER = "shardring_reference_guard";

    private ReferenceGuard() {
    }

    /** Checks and guards every reference table of {@code topology} on {@code nodeId}, in the caller's transaction. */
    public static void install(Connection c, String nodeId, Topology topology) throws SQLException {
        String role = nodeId.equals(topology.referenceNode()) ? "writable" : "copy";
        for (ReferenceTable t : topology.referenceTables()) {
            check(c, nodeId, t);
            String args = Sql.literal(role) + ", " + Sql.literal(topology.referenceNode());
            try (Statement s = c.createStatement()) {
                // OR REPLACE: a drop would take an ACCESS EXCLUSIVE lock on a table the application is using
                s.execute("CREATE OR REPLACE TRIGGER " + TRIGGER + " BEFORE INSERT OR UPDATE OR DELETE ON "
                        + t.quotedName() + " FOR EACH ROW EXECUTE FUNCTION shardring.reference_guard(" + args + ")");
                s.execute("CREATE OR REPLACE TRIGGER " + TRIGGER + "_truncate BEFORE TRUNCATE ON " + t.quotedName()
                        + " FOR EACH STATEMENT EXECUTE FUNCTION shardring.reference_guard(" + args + ")");
            }
        }
    }

    /** Refuses a reference table that is missing on the node or has no primary key, naming both. */
    public static void check(Connection c, String nodeId, ReferenceTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL,"
                + " EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass(?) AND indisprimary)")) {
            ps.setString(1, t.quotedName());
            ps.setString(2, t.quotedName());
            try (ResultSet r = ps.executeQuery()) {
                r.next();
                if (!r.getBoolean(1)) {
                    throw new ConfigurationException("reference table " + t.displayName() + " does not exist on node '"
                            + nodeId + "'; create it on every node with your migrations (schema.locations)");
                }
                if (!r.getBoolean(2)) {
                    throw new ConfigurationException("reference table " + t.displayName() + " has no primary key on"
                            + " node '" + nodeId + "': logical replication applies updates and deletes to the copies by"
                            + " it; add a primary key (ALTER TABLE " + t.quotedName() + " ADD PRIMARY KEY (...))");
                }
            }
        }
    }
}
