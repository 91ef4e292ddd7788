package io.shardring.migration.plan;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What a node that a move reads or writes must allow: logical replication ({@code wal_level}), and the rights of the
 * tool's role there. Warnings only: a move without them is slower or stops, and the planner says which.
 */
final class NodeReadiness {
    private NodeReadiness() {
    }

    static String walLevel(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static String walWarning(String node, String level) {
        return "logical replication unavailable on " + node + ": moves will use the slower COPY fallback under a"
                + " fence (wal_level is " + level + "; set wal_level = logical and restart the server to avoid it)";
    }

    /**
     * What a move cannot do, or does less well, with the tool's role on a node that is a source or a target, said
     * here rather than discovered halfway through a move. A superuser can do everything. Otherwise a source's role
     * needs REPLICATION for the slot, and a target's role needs the right to create subscriptions (superuser on
     * PostgreSQL 15, membership in pg_create_subscription from 16); and without superuser the mover cannot keep the
     * application's own triggers from firing on copied rows, nor keep the subscription's connection string (which
     * holds the source's password) out of the target's server log.
     */
    static List<String> roleWarnings(Connection c, String node, String as) throws SQLException {
        boolean source = as.contains("source");
        boolean target = as.contains("target");
        boolean superuser;
        boolean replication;
        String role;
        int version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user, rolsuper,"
                + " rolreplication, current_setting('server_version_num')::int FROM pg_roles"
                + " WHERE rolname = current_user")) {
            if (!rs.next()) {
                return List.of();
            }
            role = rs.getString(1);
            superuser = rs.getBoolean(2);
            replication = rs.getBoolean(3);
            version = rs.getInt(4);
        }
        if (superuser) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (source && !replication) {
            out.add("role " + role + " on " + node + " has no REPLICATION attribute: the move cannot create its"
                    + " replication slot there and will stop at the copy; ALTER ROLE " + role + " REPLICATION");
        }
        if (target) {
            boolean canSubscribe = false;
            if (version >= 160000) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT pg_has_role(current_user, 'pg_create_subscription', 'MEMBER')")) {
                    canSubscribe = rs.next() && rs.getBoolean(1);
                }
            }
            if (!canSubscribe) {
                out.add("role " + role + " on " + node + " may not create subscriptions: the move will stop at the"
                        + " copy; " + (version >= 160000 ? "GRANT pg_create_subscription TO " + role
                                + " (and CREATE on the database)" : "PostgreSQL 15 allows it to superusers only"));
            }
            out.add("role " + role + " on " + node + " is not a superuser: the application's own triggers will fire"
                    + " on rows the mover copies there (session_replication_role needs superuser), and the"
                    + " subscription's connection string, which holds the source's password, may reach " + node
                    + "'s server log (log_statement cannot be switched off for it)");
        }
        return out;
    }
}
