package io.shardring.migration.move;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Session settings and catalog probes the phases share. */
public final class Sessions {
    private Sessions() {
    }

    /**
     * The mover deletes rows the guard would refuse (leftovers, moved rows): past the guard, and where the role may,
     * with {@code session_replication_role = replica}, so that neither the guard nor the application's triggers
     * fire for each deleted row (they are copies, not the application's deletes) and foreign keys between sharded
     * tables do not depend on the order of the tables. Without superuser the guard's bypass is checked per row
     * (slower) and application triggers fire. Close the result to reset the session: it goes back to a pool.
     */
    static Reset pastTheGuard(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
        }
        trySet(c, "SET session_replication_role = replica");
        return () -> {
            boolean tx = !c.getAutoCommit();
            if (tx) {
                c.rollback(); // whatever the caller did not commit; then the resets, committed
            }
            try (Statement s = c.createStatement()) {
                s.execute("RESET shardring.bypass_guard");
                s.execute("RESET session_replication_role");
            }
            if (tx) {
                c.commit();
            }
        };
    }

    /** Undoes session settings before a connection goes back to its pool. */
    interface Reset extends AutoCloseable {
        @Override
        void close() throws SQLException;
    }

    /** Runs a SET the role may not be allowed; inside a transaction, under a savepoint. True when it took. */
    private static boolean trySet(Connection c, String sql) throws SQLException {
        boolean tx = !c.getAutoCommit();
        try (Statement s = c.createStatement()) {
            if (tx) {
                s.execute("SAVEPOINT try_set");
            }
            try {
                s.execute(sql);
                if (tx) {
                    s.execute("RELEASE SAVEPOINT try_set");
                }
                return true;
            } catch (SQLException notAllowed) {
                if (tx) {
                    s.execute("ROLLBACK TO SAVEPOINT try_set");
                }
                return false;
            }
        }
    }

    /**
     * Rows copied by the mover are not the application's writes: no guard, and no application triggers where the
     * role may skip them ({@code session_replication_role} needs superuser). For the caller's transaction only.
     * Returns false when the application's triggers will fire (the planner warns of it; the caller journals it).
     */
    public static boolean skipTriggers(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL shardring.bypass_guard = on"); // this transaction only: the connection is pooled
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

    /** Whether {@code sql}, with {@code arg} as its one parameter, returns a row. */
    public static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
