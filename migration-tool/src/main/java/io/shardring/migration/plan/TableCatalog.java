package io.shardring.migration.plan;

import io.shardring.router.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a database's catalog says of the application's tables, as the table rules check them: each table's
 * columns, primary key, unique constraints, foreign keys and unique indexes, read in four queries. Tables of the
 * system schemas, of the shardring schema and of extensions are not the application's and are left out.
 */
final class TableCatalog {
    /** By display name ({@code schema.table}), in schema and name order. */
    final Map<String, Table> tables = new LinkedHashMap<>();
    final Map<Long, Table> byOid = new LinkedHashMap<>();

    private TableCatalog() {
    }

    /** The application's tables with their columns, keys, foreign keys and unique indexes, in four queries. */
    static TableCatalog read(Connection c) throws SQLException {
        TableCatalog cat = new TableCatalog();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT r.oid, n.nspname, r.relname,"
                + " r.reltuples FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE r.relkind IN ('r', 'p') AND NOT r.relispartition"
                + " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'shardring')"
                + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
                // tables an extension owns are the extension's
                + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                + " AND d.objid = r.oid AND d.deptype = 'e') ORDER BY n.nspname, r.relname")) {
            while (rs.next()) {
                Table t = new Table(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getDouble(4));
                cat.tables.put(t.displayName(), t);
                cat.byOid.put(t.oid, t);
            }
        }
        if (cat.tables.isEmpty()) {
            return cat;
        }
        Long[] oids = cat.byOid.keySet().toArray(new Long[0]);
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attrelid, a.attnum, a.attname,"
                + " format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull FROM pg_attribute a"
                + " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = ANY (?::oid[]) AND a.attnum > 0"
                + " AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum")) {
            ps.setArray(1, c.createArrayOf("int8", oids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cat.byOid.get(rs.getLong(1)).columns.put(rs.getShort(2), new Column(rs.getShort(2),
                            rs.getString(3), rs.getString(4), rs.getString(5), rs.getBoolean(6)));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT conrelid, conname, contype, conkey, confrelid,"
                + " confkey, confdeltype, confupdtype FROM pg_constraint WHERE contype IN ('p', 'u', 'f')"
                + " AND conrelid = ANY (?::oid[]) ORDER BY conrelid, contype, conname")) {
            ps.setArray(1, c.createArrayOf("int8", oids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    char type = rs.getString(3).charAt(0);
                    cat.byOid.get(rs.getLong(1)).constraints.add(new Constraint(rs.getString(2), type,
                            shorts(rs.getArray(4)), rs.getLong(5), shorts(rs.getArray(6)),
                            type == 'f' ? rs.getString(7).charAt(0) : ' ',
                            type == 'f' ? rs.getString(8).charAt(0) : ' '));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT i.indrelid, x.relname, i.indkey::int2[],"
                + " i.indexprs IS NOT NULL, pg_get_expr(i.indpred, i.indrelid), pg_get_indexdef(i.indexrelid)"
                + " FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
                + " WHERE i.indisunique AND NOT i.indisprimary AND i.indrelid = ANY (?::oid[])"
                // unique constraints are checked as constraints
                + " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
                + " AND k.contype IN ('p', 'u', 'x')) ORDER BY i.indrelid, x.relname")) {
            ps.setArray(1, c.createArrayOf("int8", oids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    short[] key = shorts(rs.getArray(3));
                    List<Short> plain = new ArrayList<>();
                    for (short k : key) {
                        if (k != 0) {
                            plain.add(k);
                        }
                    }
                    short[] cols = new short[plain.size()];
                    for (int i = 0; i < cols.length; i++) {
                        cols[i] = plain.get(i);
                    }
                    cat.byOid.get(rs.getLong(1)).uniqueIndexes.add(new UniqueIndex(rs.getString(2), cols,
                            rs.getBoolean(4) || cols.length != key.length, rs.getString(5), rs.getString(6)));
                }
            }
        }
        return cat;
    }

    /** Whether a key (column numbers) has the column: a constraint or index covers it. */
    private static boolean contains(short[] key, short column) {
        for (short k : key) {
            if (k == column) {
                return true;
            }
        }
        return false;
    }

    private static short[] shorts(Array a) throws SQLException {
        if (a == null) {
            return new short[0];
        }
        Object o = a.getArray();
        if (o instanceof Short[] s) {
            short[] out = new short[s.length];
            for (int i = 0; i < s.length; i++) {
                out[i] = s[i];
            }
            return out;
        }
        Number[] n = (Number[]) o;
        short[] out = new short[n.length];
        for (int i = 0; i < n.length; i++) {
            out[i] = n[i].shortValue();
        }
        return out;
    }

    record Column(short num, String name, String type, String typname, boolean notNull) {
    }

    record Constraint(String name, char type, short[] key, long refRel, short[] refKey, char onDelete,
            char onUpdate) {
        boolean covers(short column) {
            return contains(key, column);
        }

        /** The foreign key's referential actions, as they are written after REFERENCES. */
        String actions() {
            return action(" ON UPDATE ", onUpdate) + action(" ON DELETE ", onDelete);
        }

        private static String action(String on, char a) {
            return switch (a) {
                case 'r' -> on + "RESTRICT";
                case 'c' -> on + "CASCADE";
                case 'n' -> on + "SET NULL";
                case 'd' -> on + "SET DEFAULT";
                default -> "";
            };
        }
    }

    record UniqueIndex(String name, short[] key, boolean expression, String predicate, String definition) {
        boolean covers(short column) {
            return contains(key, column);
        }
    }

    static final class Table {
        final long oid;
        final String schema;
        final String name;
        final double reltuples;
        final Map<Short, Column> columns = new LinkedHashMap<>();
        final List<Constraint> constraints = new ArrayList<>();
        final List<UniqueIndex> uniqueIndexes = new ArrayList<>();

        Table(long oid, String schema, String name, double reltuples) {
            this.oid = oid;
            this.schema = schema;
            this.name = name;
            this.reltuples = reltuples;
        }

        String displayName() {
            return schema + "." + name;
        }

        String quoted() {
            return Sql.quote(schema) + "." + Sql.quote(name);
        }

        long rows() {
            return reltuples < 0 ? -1 : (long) reltuples;
        }

        Column column(String name) {
            for (Column c : columns.values()) {
                if (c.name.equals(name)) {
                    return c;
                }
            }
            return null;
        }

        Constraint primaryKey() {
            for (Constraint c : constraints) {
                if (c.type == 'p') {
                    return c;
                }
            }
            return null;
        }

        List<String> names(short[] nums) {
            List<String> out = new ArrayList<>();
            for (short n : nums) {
                Column c = columns.get(n);
                out.add(c == null ? "#" + n : c.name);
            }
            return out;
        }

        boolean allNotNull(short[] nums) {
            for (short n : nums) {
                Column c = columns.get(n);
                if (c == null || !c.notNull) {
                    return false;
                }
            }
            return true;
        }
    }
}
