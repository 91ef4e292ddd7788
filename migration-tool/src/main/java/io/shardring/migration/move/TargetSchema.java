package io.shardring.migration.move;

import io.shardring.migration.adopt.SchemaClone;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.ShardedTable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * A node new to the ring gets the application's tables before rows move there, never assumed: from the configured
 * migrations when they build the whole schema, otherwise (no {@code schema.locations}, or a database that Flyway
 * took over with a baseline, whose earlier versions exist only in that database) from the source's own definitions
 * ({@link SchemaClone}), with the Flyway history copied too, so that Flyway finds the same versions applied there.
 */
final class TargetSchema {
    private TargetSchema() {
    }

    /** Creates the schema on the job's target if it has none of the sharded tables; what was done, or null. */
    static String createIfMissing(MoveRun run, JobState job) throws SQLException {
        try (Connection t = run.node(job.target).getConnection()) {
            for (ShardedTable table : run.tables) {
                if (exists(t, table.quotedName())) {
                    return null; // the planner refuses a node with only some of them
                }
            }
        }
        try (Connection s = run.node(job.source).getConnection()) {
            String history = historyTable(s);
            if (run.options.appLocations().length > 0 && !baselined(s, history)) {
                return null; // the migrations build every table
            }
            SchemaClone clone = SchemaClone.read(s, SchemaClone.applicationSchemas(s));
            long historyRows = 0;
            try (Connection t = run.node(job.target).getConnection()) {
                t.setAutoCommit(false);
                try {
                    clone.applyTo(t);
                    // guarded, owning nothing, from the moment the tables exist: no write lands here before its cutover
                    OwnershipGuard.install(t, job.target, run.keyType, run.tables);
                    if (history != null) {
                        historyRows = copyRows(s, t, history);
                    }
                    t.commit();
                } catch (SQLException | RuntimeException e) {
                    t.rollback();
                    throw e;
                }
            }
            return "schema created on " + job.target + " from " + job.source + "'s definitions: "
                    + clone.tables().size() + " tables, " + clone.statements().size() + " statements"
                    + (history == null ? "" : ", and Flyway's history (" + historyRows + " rows)");
        }
    }

    /** The application's Flyway history in the connection's current schema, quoted, or null. */
    private static String historyTable(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT quote_ident(current_schema()) || '.'"
                + " || quote_ident('flyway_schema_history') WHERE to_regclass(quote_ident(current_schema()) || '.'"
                + " || quote_ident('flyway_schema_history')) IS NOT NULL"); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Whether Flyway took the database over with a baseline: the versions before it exist in no migration file. */
    private static boolean baselined(Connection c, String history) throws SQLException {
        if (history == null) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + history + " WHERE type = 'BASELINE'");
                ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    private static boolean exists(Connection c, String quotedName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, quotedName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** A small table's rows, source to target, in the target's open transaction. */
    private static long copyRows(Connection source, Connection target, String table) throws SQLException {
        CopyManager out = source.unwrap(PGConnection.class).getCopyAPI();
        CopyManager in = target.unwrap(PGConnection.class).getCopyAPI();
        ByteArrayOutputStream rows = new ByteArrayOutputStream();
        try {
            out.copyOut("COPY " + table + " TO STDOUT (FORMAT binary)", rows);
            return in.copyIn("COPY " + table + " FROM STDIN (FORMAT binary)", new ByteArrayInputStream(
                    rows.toByteArray()));
        } catch (IOException e) {
            throw new SQLException("cannot copy " + table + ": " + e.getMessage(), e);
        }
    }
}
