package io.shardring.migration.plan;

import io.shardring.router.Sql;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.ReferenceTable;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What sharding needs of a database's tables, checked against its catalog: a sharded table's key column is in its
 * primary key and in every unique constraint (else a key's rows could not live on one node, nor logical replication
 * publish its updates); a foreign key between sharded tables carries the key (else the referenced row may be on another
 * node); a sharded table references only sharded tables and reference tables; a reference table has a primary key and
 * references no per-tenant rows; a sequence that feeds a sharded table is 64 bits wide and feeds no table that is not
 * sharded (each node restricts it to its own id range). Every problem comes with the DDL that fixes it, printed for an
 * operator to run, never run here.
 *
 * <p>Used by {@code shardring adopt} on every table of the database, and by the planner on the configured tables.
 */
public final class TableRules {
    /** Flyway's history table is the tool's business, not the application's data. */
    static final String FLYWAY_HISTORY = "flyway_schema_history";

    /** What a table is to the ring. */
    public enum Kind {
        /** Listed in {@code tables}: its rows live on the owner of their key. */
        SHARDED,
        /** Listed in {@code reference.tables}: one writable copy, copied whole to every node. */
        REFERENCE,
        /** Not in the configuration: it must be listed as one or the other before the ring is made. */
        UNLISTED
    }

    /** What a problem is about, so that callers can weigh them. */
    public enum Topic {
        MISSING, KEY_COLUMN, NULL_KEYS, PRIMARY_KEY, UNIQUE, FOREIGN_KEY, SEQUENCE, UNLISTED
    }

    /**
     * One thing that keeps a table from being moved safely.
     *
     * @param fix the statements that fix it, for an operator to run (DDL, or configuration lines as comments)
     */
    public record Problem(Topic topic, String what, List<String> fix) {
        public Problem {
            fix = List.copyOf(fix);
        }
    }

    /**
     * One table as the rules see it.
     *
     * @param keyColumn the shard key column for a sharded table (or the proposed one for an unlisted table), else null
     * @param rows      the planner's estimate of its rows ({@code pg_class.reltuples}), -1 when never analysed
     * @param notes     facts worth knowing that need no change (ids from ranged sequences, new keys)
     */
    public record Report(String table, Kind kind, String keyColumn, long rows, List<Problem> problems,
            List<String> notes) {
        public Report {
            problems = List.copyOf(problems);
            notes = List.copyOf(notes);
        }

        /** Nothing keeps it from being sharded or copied as configured. */
        public boolean ready() {
            return problems.isEmpty();
        }

        /** "sharded by k", "reference", "unlisted: proposed ..." for a plan's table of tables. */
        public String describe() {
            return switch (kind) {
                case SHARDED -> "sharded by " + keyColumn;
                case REFERENCE -> "reference";
                case UNLISTED -> keyColumn == null ? "unlisted: proposed for reference.tables"
                        : "unlisted: proposed for tables, key " + keyColumn;
            };
        }
    }

    private TableRules() {
    }

    /**
     * Checks the topology's sharded and reference tables on one database; with {@code everyTable}, every other table
     * of its application schemas too (reported {@link Kind#UNLISTED} with a proposal).
     */
    public static List<Report> inspect(Connection c, Topology topology, boolean everyTable) throws SQLException {
        Catalog cat = Catalog.read(c);
        Map<String, ShardedTable> sharded = new LinkedHashMap<>();
        topology.tables().forEach(t -> sharded.put(t.displayName(), t));
        Set<String> reference = new LinkedHashSet<>();
        topology.referenceTables().forEach(t -> reference.add(t.displayName()));
        Rules rules = new Rules(c, cat, sharded, reference, topology.ring().keyType(),
                SequenceRanges.find(c, topology.tables()));
        List<Report> out = new ArrayList<>();
        for (ShardedTable t : topology.tables()) {
            out.add(rules.sharded(t));
        }
        for (ReferenceTable t : topology.referenceTables()) {
            out.add(rules.reference(t));
        }
        if (everyTable) {
            for (Table t : cat.tables.values()) {
                String name = t.displayName();
                if (!sharded.containsKey(name) && !reference.contains(name) && !t.name.equals(FLYWAY_HISTORY)) {
                    out.add(rules.unlisted(t));
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- the rules

    private static final class Rules {
        final Connection c;
        final Catalog cat;
        final Map<String, ShardedTable> sharded;
        final Set<String> reference;
        final KeyType keyType;
        final List<SequenceRanges.Fed> sequences;

        Rules(Connection c, Catalog cat, Map<String, ShardedTable> sharded, Set<String> reference, KeyType keyType,
                List<SequenceRanges.Fed> sequences) {
            this.c = c;
            this.cat = cat;
            this.sharded = sharded;
            this.reference = reference;
            this.keyType = keyType;
            this.sequences = sequences;
        }

        Report sharded(ShardedTable st) throws SQLException {
            String name = st.displayName();
            Table t = cat.tables.get(name);
            List<Problem> problems = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            if (t == null) {
                problems.add(new Problem(Topic.MISSING, "does not exist", List.of("-- create it, or remove "
                        + name + " from tables in the configuration")));
                return new Report(name, Kind.SHARDED, st.keyColumn(), -1, problems, notes);
            }
            Column key = t.column(st.keyColumn());
            if (key == null) {
                problems.add(new Problem(Topic.KEY_COLUMN, "has no key column " + st.keyColumn(), List.of(
                        "-- fix the keyColumn of " + name + " in the configuration, or add the column")));
                return new Report(name, Kind.SHARDED, st.keyColumn(), t.rows(), problems, notes);
            }
            if (!keyType.acceptsColumnType(key.typname)) {
                problems.add(new Problem(Topic.KEY_COLUMN, "key column " + key.name + " is " + key.type
                        + ", but the ring's key type is " + keyType.sqlType(), List.of("ALTER TABLE " + t.quoted()
                        + " ALTER COLUMN " + Sql.quote(key.name) + " TYPE " + keyType.sqlType() + ";")));
            }
            if (!key.notNull) {
                long nulls = countNulls(t, key);
                List<String> fix = new ArrayList<>();
                if (nulls > 0) {
                    fix.add(String.format(Locale.ROOT, "-- first give the %,d rows whose %s is NULL a key, or"
                            + " delete them", nulls, key.name));
                }
                fix.add("ALTER TABLE " + t.quoted() + " ALTER COLUMN " + Sql.quote(key.name) + " SET NOT NULL;");
                problems.add(new Problem(Topic.NULL_KEYS, "key column " + key.name + " is nullable"
                        + (nulls > 0 ? String.format(Locale.ROOT, " and %,d rows have no key", nulls) : ""), fix));
            }
            Constraint pk = t.primaryKey();
            if (pk == null) {
                problems.add(new Problem(Topic.PRIMARY_KEY, "has no primary key (moving its rows needs one with the"
                        + " key column: logical replication publishes updates and deletes by it)",
                        addPrimaryKey(t, key.name)));
            } else if (!pk.covers(key.num)) {
                problems.add(new Problem(Topic.PRIMARY_KEY, "primary key (" + String.join(", ", t.names(pk.key))
                        + ") does not include the key column " + key.name, withKey(t, pk, key)));
            }
            for (Constraint u : t.constraints) {
                if (u.type == 'u' && !u.covers(key.num)) {
                    problems.add(new Problem(Topic.UNIQUE, "unique constraint " + u.name + " ("
                            + String.join(", ", t.names(u.key)) + ") does not include the key column " + key.name
                            + ": one node cannot enforce it for keys on other nodes", withKey(t, u, key)));
                }
            }
            for (UniqueIndex i : t.uniqueIndexes) {
                if (!i.covers(key.num)) {
                    problems.add(new Problem(Topic.UNIQUE, "unique index " + i.name + " does not include the key column "
                            + key.name + ": one node cannot enforce it for keys on other nodes", indexWithKey(t, i, key)));
                }
            }
            for (Constraint fk : t.constraints) {
                if (fk.type == 'f') {
                    foreignKeyFromSharded(t, st, fk, problems);
                }
            }
            sequences(t, st, problems, notes);
            return new Report(name, Kind.SHARDED, st.keyColumn(), t.rows(), problems, notes);
        }

        Report reference(ReferenceTable rt) {
            String name = rt.displayName();
            Table t = cat.tables.get(name);
            List<Problem> problems = new ArrayList<>();
            if (t == null) {
                problems.add(new Problem(Topic.MISSING, "does not exist", List.of("-- create it, or remove " + name
                        + " from reference.tables in the configuration")));
                return new Report(name, Kind.REFERENCE, null, -1, problems, List.of());
            }
            if (t.primaryKey() == null) {
                problems.add(new Problem(Topic.PRIMARY_KEY, "has no primary key: logical replication applies updates"
                        + " and deletes to the copies by it", addPrimaryKey(t, null)));
            }
            for (Constraint fk : t.constraints) {
                if (fk.type != 'f') {
                    continue;
                }
                Table to = cat.byOid.get(fk.refRel);
                String target = to == null ? "a table outside the application's schemas" : to.displayName();
                if (to != null && sharded.containsKey(target)) {
                    problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name + " references sharded table "
                            + target + ": a reference table is copied to every node, the rows it references are on"
                            + " one", List.of("ALTER TABLE " + t.quoted() + " DROP CONSTRAINT " + Sql.quote(fk.name)
                            + ";", "-- or shard " + name + " by " + target + "'s key instead")));
                } else if (!reference.contains(target)) {
                    problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name + " references " + target
                            + ", which is not a reference table: the copies on other nodes would reference nothing",
                            List.of("-- add " + target + " to reference.tables in the configuration")));
                }
            }
            return new Report(name, Kind.REFERENCE, null, t.rows(), problems, List.of());
        }

        Report unlisted(Table t) {
            String proposed = proposeKey(t);
            String yaml = proposed == null ? "reference: { tables: [" + t.displayName() + "] }"
                    : "tables: [{ name: " + t.displayName() + ", keyColumn: " + proposed + " }]";
            String why = proposed == null ? "no column of a shard key and no foreign key to a sharded table"
                    : "column " + proposed + " holds the shard key";
            return new Report(t.displayName(), Kind.UNLISTED, proposed, t.rows(), List.of(new Problem(Topic.UNLISTED,
                    "is in neither tables nor reference.tables (" + why + ")", List.of("# in the configuration: "
                    + yaml))), List.of());
        }

        /** The column that carries a shard key: one a foreign key maps to a sharded table's key, or one named so. */
        private String proposeKey(Table t) {
            for (Constraint fk : t.constraints) {
                Table to = fk.type == 'f' ? cat.byOid.get(fk.refRel) : null;
                ShardedTable st = to == null ? null : sharded.get(to.displayName());
                if (st != null) {
                    Column key = to.column(st.keyColumn());
                    for (int i = 0; key != null && i < fk.refKey.length; i++) {
                        if (fk.refKey[i] == key.num) {
                            return t.columns.get(fk.key[i]).name;
                        }
                    }
                }
            }
            for (ShardedTable st : sharded.values()) {
                Table owner = cat.tables.get(st.displayName());
                Constraint pk = owner == null ? null : owner.primaryKey();
                boolean ownId = pk != null && pk.key.length == 1 && owner.column(st.keyColumn()) != null
                        && pk.key[0] == owner.column(st.keyColumn()).num;
                // "id" is every table's own column name: only a key column that names the tenant counts
                if (!ownId && t.column(st.keyColumn()) != null) {
                    return st.keyColumn();
                }
            }
            return null;
        }

        private void foreignKeyFromSharded(Table t, ShardedTable st, Constraint fk, List<Problem> problems) {
            Table to = cat.byOid.get(fk.refRel);
            String target = to == null ? "a table outside the application's schemas" : to.displayName();
            if (to != null && reference.contains(target)) {
                return;
            }
            ShardedTable parent = to == null ? null : sharded.get(target);
            if (parent == null) {
                problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name + " (" + String.join(", ",
                        t.names(fk.key)) + ") references " + target + ", which is neither sharded nor a reference"
                        + " table: a node that takes these rows would not have the rows they reference",
                        List.of("# in the configuration: reference: { tables: [" + target + "] }   (copied whole to"
                                + " every node)", "# or: tables: [{ name: " + target + ", keyColumn: ... }]")));
                return;
            }
            Column key = t.column(st.keyColumn());
            Column parentKey = to.column(parent.keyColumn());
            boolean carries = false;
            for (int i = 0; key != null && parentKey != null && i < fk.key.length; i++) {
                carries |= fk.key[i] == key.num && fk.refKey[i] == parentKey.num;
            }
            if (!carries && key != null && parentKey != null) {
                List<String> cols = new ArrayList<>(List.of(key.name));
                List<String> refs = new ArrayList<>(List.of(parentKey.name));
                for (int i = 0; i < fk.key.length; i++) {
                    if (fk.key[i] != key.num) {
                        cols.add(t.columns.get(fk.key[i]).name);
                        refs.add(to.columns.get(fk.refKey[i]).name);
                    }
                }
                problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name + " (" + String.join(", ",
                        t.names(fk.key)) + ") references " + target + " without its key column "
                        + parentKey.name + ": the referenced row may live on another node", List.of(
                        "ALTER TABLE " + t.quoted() + " DROP CONSTRAINT " + Sql.quote(fk.name) + ";",
                        "ALTER TABLE " + t.quoted() + " ADD CONSTRAINT " + Sql.quote(fk.name) + " FOREIGN KEY ("
                                + quoteAll(cols) + ") REFERENCES " + to.quoted() + " (" + quoteAll(refs) + ")"
                                + fk.actions() + ";")));
            }
        }

        private void sequences(Table t, ShardedTable st, List<Problem> problems, List<String> notes) {
            for (SequenceRanges.Fed f : sequences) {
                boolean feedsThis = false;
                for (SequenceRanges.Column col : f.columns()) {
                    feedsThis |= col.schema().equals(t.schema) && col.table().equals(t.name);
                }
                if (!feedsThis) {
                    continue;
                }
                for (SequenceRanges.Column col : f.columns()) {
                    if (!col.schema().equals(t.schema) || !col.table().equals(t.name)) {
                        continue;
                    }
                    if (col.narrow()) {
                        problems.add(new Problem(Topic.SEQUENCE, "column " + col.column() + " is " + col.type()
                                + " and filled from sequence " + f.displayName() + ": each node draws ids from its own"
                                + " range of 2^" + SequenceRanges.BITS + " values, which needs bigint", widen(t, col, f)));
                    } else if (col.column().equals(st.keyColumn())) {
                        notes.add("new keys: ShardedDataSource.newKey() draws them from " + f.displayName()
                                + ", which clients not yet on the router keep using");
                    } else {
                        notes.add(col.column() + " from " + f.displayName() + ": each node draws from its own range");
                    }
                }
                for (SequenceRanges.Column other : f.columns()) {
                    if (!other.sharded()) {
                        problems.add(new Problem(Topic.SEQUENCE, "sequence " + f.displayName() + " also fills "
                                + other.displayName() + ", which is not sharded: each node restricts it to its own id"
                                + " range", List.of("CREATE SEQUENCE " + Sql.quote(other.schema()) + "."
                                + Sql.quote(other.table() + "_" + other.column() + "_seq") + " AS bigint START WITH "
                                + (f.next() + 1) + ";", "ALTER TABLE " + Sql.quote(other.schema()) + "."
                                + Sql.quote(other.table()) + " ALTER COLUMN " + Sql.quote(other.column())
                                + " SET DEFAULT nextval('" + Sql.quote(other.schema()).replace("'", "''") + "."
                                + Sql.quote(other.table() + "_" + other.column() + "_seq").replace("'", "''")
                                + "');")));
                        break;
                    }
                }
            }
        }

        /** Widening a column fed by a sequence: the column, every column that references it, the sequence. */
        private List<String> widen(Table t, SequenceRanges.Column col, SequenceRanges.Fed f) {
            List<String> fix = new ArrayList<>();
            Column column = t.column(col.column());
            for (Table other : cat.tables.values()) {
                for (Constraint fk : other.constraints) {
                    if (fk.type != 'f' || fk.refRel != t.oid) {
                        continue;
                    }
                    for (int i = 0; i < fk.refKey.length; i++) {
                        Column referencing = other.columns.get(fk.key[i]);
                        if (fk.refKey[i] == column.num && referencing != null && !"bigint".equals(referencing.type)) {
                            fix.add("ALTER TABLE " + other.quoted() + " ALTER COLUMN " + Sql.quote(referencing.name)
                                    + " TYPE bigint;");
                        }
                    }
                }
            }
            fix.add(0, "ALTER TABLE " + t.quoted() + " ALTER COLUMN " + Sql.quote(col.column()) + " TYPE bigint;");
            fix.add("ALTER SEQUENCE " + f.quotedName() + " AS bigint;");
            return fix;
        }

        private List<String> addPrimaryKey(Table t, String keyColumn) {
            for (UniqueIndex i : t.uniqueIndexes) {
                if (!i.expression && i.predicate == null && t.allNotNull(i.key)) {
                    return List.of("ALTER TABLE " + t.quoted() + " ADD PRIMARY KEY (" + quoteAll(keyFirst(
                            t.names(i.key), keyColumn)) + ");");
                }
            }
            for (Constraint u : t.constraints) {
                if (u.type == 'u' && t.allNotNull(u.key)) {
                    return List.of("ALTER TABLE " + t.quoted() + " ADD PRIMARY KEY (" + quoteAll(keyFirst(
                            t.names(u.key), keyColumn)) + ");");
                }
            }
            String id = t.column("id") == null ? "id" : "row_id";
            List<String> pk = keyColumn == null ? List.of(id) : List.of(keyColumn, id);
            return List.of("ALTER TABLE " + t.quoted() + " ADD COLUMN " + Sql.quote(id) + " bigserial;",
                    "ALTER TABLE " + t.quoted() + " ADD PRIMARY KEY (" + quoteAll(pk) + ");");
        }

        /**
         * A primary key or unique constraint with the key column added in front, and the foreign keys that reference
         * it dropped first and added back with the key column on both sides.
         */
        private List<String> withKey(Table t, Constraint con, Column key) {
            List<String> fix = new ArrayList<>();
            List<String> add = new ArrayList<>();
            List<String> cols = keyFirst(t.names(con.key), key.name);
            for (Table child : cat.tables.values()) {
                for (Constraint fk : child.constraints) {
                    if (fk.type != 'f' || fk.refRel != t.oid || !sameColumns(fk.refKey, con.key)) {
                        continue;
                    }
                    fix.add("ALTER TABLE " + child.quoted() + " DROP CONSTRAINT " + Sql.quote(fk.name) + ";");
                    ShardedTable childSharded = sharded.get(child.displayName());
                    String childKey = childSharded == null ? key.name : childSharded.keyColumn();
                    List<String> childCols = new ArrayList<>(List.of(childKey));
                    for (short k : fk.key) {
                        String n = child.columns.get(k).name;
                        if (!n.equals(childKey)) {
                            childCols.add(n);
                        }
                    }
                    add.add("ALTER TABLE " + child.quoted() + " ADD CONSTRAINT " + Sql.quote(fk.name) + " FOREIGN KEY ("
                            + quoteAll(childCols) + ") REFERENCES " + t.quoted() + " (" + quoteAll(cols) + ")"
                            + fk.actions() + ";");
                }
            }
            fix.add("ALTER TABLE " + t.quoted() + " DROP CONSTRAINT " + Sql.quote(con.name) + ", ADD CONSTRAINT "
                    + Sql.quote(con.name) + (con.type == 'p' ? " PRIMARY KEY (" : " UNIQUE (") + quoteAll(cols) + ");");
            fix.addAll(add);
            return fix;
        }

        private List<String> indexWithKey(Table t, UniqueIndex i, Column key) {
            if (i.expression) {
                return List.of("DROP INDEX " + Sql.quote(t.schema) + "." + Sql.quote(i.name) + ";",
                        "-- then create it again with " + key.name + " as its first column: " + i.definition);
            }
            return List.of("DROP INDEX " + Sql.quote(t.schema) + "." + Sql.quote(i.name) + ";",
                    "CREATE UNIQUE INDEX " + Sql.quote(i.name) + " ON " + t.quoted() + " (" + quoteAll(keyFirst(
                            t.names(i.key), key.name)) + ")" + (i.predicate == null ? "" : " WHERE " + i.predicate)
                            + ";");
        }

        private long countNulls(Table t, Column key) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t.quoted()
                    + " WHERE " + Sql.quote(key.name) + " IS NULL")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean sameColumns(short[] a, short[] b) {
        if (a.length != b.length) {
            return false;
        }
        Set<Short> x = new LinkedHashSet<>();
        for (short s : a) {
            x.add(s);
        }
        for (short s : b) {
            if (!x.contains(s)) {
                return false;
            }
        }
        return true;
    }

    private static List<String> keyFirst(List<String> columns, String key) {
        List<String> out = new ArrayList<>();
        if (key != null) {
            out.add(key);
        }
        for (String col : columns) {
            if (!col.equals(key)) {
                out.add(col);
            }
        }
        return out;
    }

    private static String quoteAll(List<String> names) {
        List<String> q = new ArrayList<>();
        names.forEach(n -> q.add(Sql.quote(n)));
        return String.join(", ", q);
    }

    // ---------------------------------------------------------------- what the database's catalog says

    private record Column(short num, String name, String type, String typname, boolean notNull) {
    }

    private record Constraint(String name, char type, short[] key, long refRel, short[] refKey, char onDelete,
            char onUpdate) {
        boolean covers(short column) {
            for (short k : key) {
                if (k == column) {
                    return true;
                }
            }
            return false;
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

    private record UniqueIndex(String name, short[] key, boolean expression, String predicate, String definition) {
        boolean covers(short column) {
            for (short k : key) {
                if (k == column) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class Table {
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

    /** The application's tables with their columns, keys, foreign keys and unique indexes, in four queries. */
    private static final class Catalog {
        final Map<String, Table> tables = new LinkedHashMap<>();
        final Map<Long, Table> byOid = new LinkedHashMap<>();

        static Catalog read(Connection c) throws SQLException {
            Catalog cat = new Catalog();
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
    }
}
