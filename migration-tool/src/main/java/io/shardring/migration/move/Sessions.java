package io.shardring.migration.move;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Session settings and catalog probes the phases share. */
final class Sessions {
    private Sessions() {
    }

    /** The mover writes rows the guard would refuse (leftovers, moved rows): it alone bypasses the guard. */
    static void bypassGuard(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
        }
    }

    /**
     * Rows copied by the mover are not the application's writes: no guard, and no application triggers where the
     * role may skip them ({@code session_replication_role} needs superuser). Returns false when the application's
     * triggers will fire (the planner warns of it; the caller journals it).
     */
    static boolean skipTriggers(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
            s.execute("SAVEPOINT role");
            try {
                s.execute("SET LOCAL session_replication_role = replica");
                s.execute("RELEASE SAVEPOINT role");
                return true;
            } catch (SQLException notSuperuser) {
                s.execute("ROLLBACK TO SAVEPOINT role");
                return false;
            }
        }
    }

    static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
