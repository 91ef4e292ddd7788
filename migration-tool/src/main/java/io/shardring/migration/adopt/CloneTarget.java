package io.shardring.migration.adopt;

import static io.shardring.router.Sql.literal;

import io.shardring.migration.adopt.CloneParts.Extension;
import io.shardring.migration.adopt.CloneParts.Named;
import io.shardring.migration.adopt.CloneParts.Requirement;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A database a clone is applied to, in the caller's transaction: the checks that refuse it before anything changes
 * there (each naming all it found), and the run of the statements, which fails at the first statement that fails or
 * warns.
 */
final class CloneTarget {

    private final Connection target;
    private final String database;

    private CloneTarget(Connection target, String database) {
        this.target = target;
        this.database = database;
    }

    /** The target, which must be in a transaction, so that a failure leaves nothing half-made. */
    static CloneTarget of(Connection target) throws SQLException {
        if (target.getAutoCommit()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "SchemaClone.applyTo needs a connection"
                    + " in a transaction (autoCommit off), so that a failure leaves nothing half-made");
        }
        return new CloneTarget(target, CatalogQuery.string(target, "SELECT pg_catalog.current_database()"));
    }

    /** The role the statements run as: it gets no ALTER ... OWNER for what it owns in the source. */
    String connectingRole() throws SQLException {
        return CatalogQuery.string(target, "SELECT current_user");
    }

    void refuseExisting(List<Named> created) throws SQLException {
        List<String> existing = new ArrayList<>();
        try (PreparedStatement ps = target.prepareStatement("""
                SELECT w.s, w.n, w.kind FROM unnest(?::text[], ?::text[], ?::text[]) AS w(s, n, kind)
                WHERE CASE WHEN w.kind = 'function' THEN
                        EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace ns
                                ON ns.oid = p.pronamespace WHERE ns.nspname = w.s AND p.proname = w.n)
                      ELSE
                        EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns
                                ON ns.oid = c.relnamespace WHERE ns.nspname = w.s AND c.relname = w.n)
                        OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace ns
                                   ON ns.oid = t.typnamespace WHERE ns.nspname = w.s AND t.typname = w.n)
                      END""")) {
            ps.setArray(1, target.createArrayOf("text", created.stream().map(Named::schema).toArray()));
            ps.setArray(2, target.createArrayOf("text", created.stream().map(Named::name).toArray()));
            ps.setArray(3, target.createArrayOf("text", created.stream().map(Named::kind).toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    existing.add(r.getString(3) + " " + r.getString(1) + "." + r.getString(2));
                }
            }
        }
        if (!existing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": " + String.join(", ", existing) + " already exist there (names the clone's"
                    + " tables, views, sequences, indexes, types or functions would take); the target must be a new,"
                    + " empty database: nothing was changed");
        }
    }

    void refuseMissingRoles(Set<String> roles) throws SQLException {
        List<String> missing = new ArrayList<>();
        try (PreparedStatement ps = target.prepareStatement("SELECT r FROM unnest(?::text[]) r WHERE NOT EXISTS"
                + " (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) ORDER BY r")) {
            ps.setArray(1, target.createArrayOf("text", roles.toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    missing.add(r.getString(1));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": the roles " + missing + " own objects or hold grants in the source but do not"
                    + " exist on the target's server (roles belong to a server, not a database); create them there"
                    + " first (CREATE ROLE ...): nothing was changed");
        }
    }

    void refuseMissingExtensions(List<Extension> extensions) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Extension e : extensions) {
            try (PreparedStatement ps = target.prepareStatement("""
                    SELECT (SELECT x.extversion || ' in schema ' || n.nspname FROM pg_catalog.pg_extension x
                            JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = ?),
                           EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions v
                                   WHERE v.name = ? AND v.version = ?)""")) {
                ps.setString(1, e.name());
                ps.setString(2, e.name());
                ps.setString(3, e.version());
                try (ResultSet r = ps.executeQuery()) {
                    r.next();
                    String installed = r.getString(1);
                    String wanted = e.version() + " in schema " + e.schema();
                    if (installed != null && !installed.equals(wanted)) {
                        problems.add("extension " + e.name() + " is installed there as " + installed + ", the source"
                                + " has " + wanted + " (ALTER EXTENSION ... UPDATE / SET SCHEMA on one of them)");
                    } else if (installed == null && !r.getBoolean(2)) {
                        problems.add("extension " + e.name() + " " + e.version() + " is not available on the"
                                + " target's server (install its files there, e.g. the server's contrib package)");
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": " + String.join("; ", problems) + ": nothing was changed");
        }
    }

    void refuseMissingToolObjects(List<Requirement> requirements) throws SQLException {
        List<String> missing = new ArrayList<>();
        for (Requirement q : requirements) {
            String check = q.function() ? "SELECT pg_catalog.to_regprocedure(?) IS NOT NULL"
                    : "SELECT pg_catalog.to_regtype(?) IS NOT NULL";
            try (PreparedStatement ps = target.prepareStatement(check)) {
                ps.setString(1, q.identity());
                try (ResultSet r = ps.executeQuery()) {
                    r.next();
                    if (!r.getBoolean(1)) {
                        missing.add(q.identity() + " (used by " + q.usedBy() + ")");
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": it uses " + String.join(", ", missing) + " of the shardring schema, which the"
                    + " target lacks; install the shardring schema there first: nothing was changed");
        }
    }

    /** Runs the statements in order; the caller commits, or rolls back after a failure. */
    void run(List<String> statements) throws SQLException {
        // an empty search_path: the statements name every object with its schema, and nothing of the caller's
        // path may shadow a built-in; function bodies may refer to objects made later in the same run
        String path = setLocal("search_path", "");
        String checkBodies = setLocal("check_function_bodies", "off");
        try (Statement s = target.createStatement()) {
            for (String sql : statements) {
                run(s, sql);
            }
        }
        setLocal("search_path", path);
        setLocal("check_function_bodies", checkBodies);
    }

    /** Runs one statement; a WARNING (SQLSTATE class 01, e.g. "no privileges were granted") fails it too. */
    private void run(Statement s, String sql) throws SQLException {
        try {
            s.execute(sql);
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                if (w.getSQLState() != null && w.getSQLState().startsWith("01")) {
                    throw w;
                }
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "creating the cloned schema in database "
                    + database + " failed at: " + abbreviate(sql) + ": " + e.getMessage()
                    + "; roll the transaction back", e);
        }
    }

    private String setLocal(String setting, String value) throws SQLException {
        String old = CatalogQuery.string(target, "SELECT pg_catalog.current_setting(" + literal(setting) + ")");
        try (PreparedStatement ps = target.prepareStatement("SELECT pg_catalog.set_config(?, ?, true)")) {
            ps.setString(1, setting);
            ps.setString(2, value);
            ps.execute();
        }
        return old;
    }

    private static String abbreviate(String sql) {
        String flat = sql.replaceAll("\\s+", " ").trim();
        return flat.length() <= 300 ? flat : flat.substring(0, 300) + "...";
    }
}
