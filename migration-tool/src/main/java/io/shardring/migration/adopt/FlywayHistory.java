package io.shardring.migration.adopt;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The application's Flyway history in the connection's current schema, as adoption needs it: the highest applied
 * version, the baseline (if the database was baselined), how many migrations.
 */
record FlywayHistory(String table, String maxVersion, String baseline, int applied) {
    static final String TABLE = "flyway_schema_history";

    /** The history, or null when the current schema has none. */
    static FlywayHistory read(Connection c) throws SQLException {
        String table;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT quote_ident(current_schema())"
                + " || '." + TABLE + "', to_regclass(quote_ident(current_schema()) || '." + TABLE + "') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(2)) {
                return null;
            }
            table = rs.getString(1);
        }
        String max = null;
        String baseline = null;
        int applied = 0;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version, type FROM " + table
                + " WHERE success AND version IS NOT NULL")) {
            while (rs.next()) {
                applied++;
                String v = rs.getString(1);
                if (max == null || compare(v, max) > 0) {
                    max = v;
                }
                if ("BASELINE".equals(rs.getString(2))) {
                    baseline = v;
                }
            }
        }
        return new FlywayHistory(table, max, baseline, applied);
    }

    String describe() {
        return maxVersion == null ? "with no applied version" : "up to version " + maxVersion + " (" + applied
                + (applied == 1 ? " entry" : " entries") + (baseline == null ? "" : ", baseline " + baseline) + ")";
    }

    /** Flyway's order of versions: numeric parts compared as numbers, '.' and '_' alike. */
    static int compare(String a, String b) {
        return io.shardring.migration.plan.Planner.compareVersions(a, b);
    }
}
