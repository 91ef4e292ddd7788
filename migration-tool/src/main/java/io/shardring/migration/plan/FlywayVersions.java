package io.shardring.migration.plan;

import io.shardring.router.Sql;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A node's application schema version as its Flyway history says it, and Flyway's order of versions: the planner
 * warns when the shards are not all at one version.
 */
final class FlywayVersions {
    static final String NO_HISTORY = "no Flyway history";
    static final String NO_MIGRATIONS = "no applied migrations";
    private static final String TABLE = "flyway_schema_history";

    private FlywayVersions() {
    }

    /** The highest successfully applied version in the default schema's Flyway history. */
    static String highestApplied(Connection c) throws SQLException {
        String schema;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schema(),"
                + " to_regclass(quote_ident(current_schema()) || '." + TABLE + "') IS NOT NULL")) {
            rs.next();
            schema = rs.getString(1);
            if (schema == null || !rs.getBoolean(2)) {
                return NO_HISTORY;
            }
        }
        String max = null;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version FROM "
                + Sql.quote(schema) + "." + Sql.quote(TABLE) + " WHERE success AND version IS NOT NULL")) {
            while (rs.next()) {
                String v = rs.getString(1);
                if (max == null || compare(v, max) > 0) {
                    max = v;
                }
            }
        }
        return max == null ? NO_MIGRATIONS : max;
    }

    /** Two versions that Flyway orders as one, or the same absence of a version. */
    static boolean same(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        boolean aVersion = !NO_HISTORY.equals(a) && !NO_MIGRATIONS.equals(a);
        boolean bVersion = !NO_HISTORY.equals(b) && !NO_MIGRATIONS.equals(b);
        return aVersion && bVersion && compare(a, b) == 0;
    }

    /**
     * Compares Flyway version strings by their numeric parts ({@code 1.10 > 1.9}, {@code 1.0 == 1}); parts are
     * separated by '.' or '_'; a part that is not a number compares as text, after numbers.
     */
    static int compare(String a, String b) {
        String[] pa = a.trim().split("[._]");
        String[] pb = b.trim().split("[._]");
        for (int i = 0; i < Math.max(pa.length, pb.length); i++) {
            String x = i < pa.length ? pa[i] : "0";
            String y = i < pb.length ? pb[i] : "0";
            boolean nx = x.matches("\\d+");
            boolean ny = y.matches("\\d+");
            int c;
            if (nx && ny) {
                c = new BigInteger(x).compareTo(new BigInteger(y));
            } else if (nx != ny) {
                c = nx ? -1 : 1;
            } else {
                c = x.compareTo(y);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
