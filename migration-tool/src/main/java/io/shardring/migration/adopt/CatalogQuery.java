package io.shardring.migration.adopt;

import static io.shardring.router.Sql.quote;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The queries a schema clone runs on a database's catalogs: each row of a query to a handler, with its parameters
 * bound by their Java type (a list as text[], which is how the schemas to clone are passed).
 */
final class CatalogQuery {

    /** Not made by an extension (CREATE EXTENSION makes those); leading blank because text blocks trim theirs. */
    private static final String NOT_MEMBER = " NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid ="
            + " '%s'::regclass AND x.objid = %s AND x.deptype = 'e')";

    @FunctionalInterface
    interface RowHandler {
        void row(ResultSet r) throws SQLException;
    }

    private final Connection c;

    CatalogQuery(Connection c) {
        this.c = c;
    }

    void each(String sql, RowHandler handler, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                Object p = params[i];
                if (p instanceof List<?> list) {
                    ps.setArray(i + 1, c.createArrayOf("text", list.toArray()));
                } else if (p instanceof Long l) {
                    ps.setLong(i + 1, l);
                } else {
                    ps.setString(i + 1, (String) p);
                }
            }
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    handler.row(r);
                }
            }
        }
    }

    /** The first column of the one row sql returns. */
    static String string(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }

    static String[] strings(ResultSet r, int column) throws SQLException {
        Array a = r.getArray(column);
        return a == null ? null : (String[]) a.getArray();
    }

    /** A condition for a query's WHERE: the row {@code oidColumn} of {@code catalog} is not an extension's. */
    static String notExtensionMember(String catalog, String oidColumn) {
        return NOT_MEMBER.formatted(catalog, oidColumn);
    }

    /** A schema's object as the statements name it: schema-qualified and quoted. */
    static String qualified(String schema, String name) {
        return quote(schema) + "." + quote(name);
    }
}
