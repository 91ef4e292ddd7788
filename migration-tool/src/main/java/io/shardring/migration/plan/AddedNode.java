package io.shardring.migration.plan;

import io.shardring.router.schema.Membership;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * A node that a change adds, checked before the plan is made: it must be reachable, belong to no other ring and hold
 * none or all of the sharded tables, without rows.
 */
final class AddedNode {
    private AddedNode() {
    }

    /**
     * What an added node says: an unreachable node, a database of another ring, or one with only some of the sharded
     * tables make the plan not executable; its wal_level and role rights are warnings.
     */
    static void check(String id, Function<String, DataSource> nodes, Topology after, List<String> warnings,
            List<String> errors) {
        DataSource ds;
        try {
            ds = nodes.apply(id);
        } catch (RuntimeException e) {
            errors.add("cannot reach new node " + id + ": " + e.getMessage() + "; start it (or fix its jdbcUrl) and"
                    + " plan again");
            return;
        }
        if (ds == null) {
            warnings.add("new node " + id + " not checked: no data source given for it; make sure it runs with"
                    + " wal_level = logical and holds no other ring's data");
            return;
        }
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException | RuntimeException e) {
            errors.add("cannot reach new node " + id + ": " + e.getMessage() + "; start it (or fix its jdbcUrl) and"
                    + " plan again");
            return;
        }
        try (c) {
            String level = NodeReadiness.walLevel(c);
            if (!"logical".equals(level)) {
                warnings.add(NodeReadiness.walWarning(id, level));
            }
            warnings.addAll(NodeReadiness.roleWarnings(c, id, "target"));
            Optional<Membership> member = Membership.read(c);
            if (member.isPresent() && !member.get().nodeId().equals(id)) {
                errors.add("new node " + id + ": its database is recorded as node '" + member.get().nodeId()
                        + "' (catalog " + member.get().catalogId() + "); give it an empty database");
            }
            List<String> present = new ArrayList<>();
            List<String> absent = new ArrayList<>();
            for (ShardedTable t : after.tables()) {
                (exists(c, t) ? present : absent).add(t.displayName());
            }
            if (!present.isEmpty() && !absent.isEmpty()) {
                errors.add("new node " + id + " has some of the sharded tables (" + String.join(", ", present)
                        + ") but not " + String.join(", ", absent) + ": give it an empty database (the move creates"
                        + " the tables) or the whole schema");
            }
            List<String> holding = new ArrayList<>();
            for (ShardedTable t : after.tables()) {
                if (present.contains(t.displayName()) && hasRows(c, t)) {
                    holding.add(t.displayName());
                }
            }
            if (!holding.isEmpty()) {
                errors.add("new node " + id + " holds rows in sharded tables (" + String.join(", ", holding) + "): a"
                        + " node joins the ring empty (rows written there around the ring, or left by another use of"
                        + " the database, would be deleted or mixed with the moved ones); give it an empty database");
            }
        } catch (SQLException | RuntimeException e) {
            errors.add("cannot inspect new node " + id + ": " + e.getMessage());
        }
    }

    private static boolean hasRows(Connection c, ShardedTable t) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM "
                + t.quotedName() + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static boolean exists(Connection c, ShardedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, t.quotedName());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
