package io.shardring.migration.plan;

import io.shardring.migration.plan.TableCatalog.Column;
import io.shardring.migration.plan.TableCatalog.Constraint;
import io.shardring.migration.plan.TableCatalog.Table;
import io.shardring.migration.plan.TableCatalog.UniqueIndex;
import io.shardring.router.Sql;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.ReferenceTable;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
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
        TableCatalog cat = TableCatalog.read(c);
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
        final TableCatalog cat;
        final Map<String, ShardedTable> sharded;
        final Set<String> reference;
        final KeyType keyType;
        final List<SequenceRanges.Fed> sequences;

        Rules(Connection c, TableCatalog cat, Map<String, ShardedTable> sharded, Set<String> reference, KeyType keyType,
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
            if (!keyType.acceptsColumnType(key.typname())) {
                problems.add(new Problem(Topic.KEY_COLUMN, "key column " + key.name() + " is " + key.type()
                        + ", but the ring's key type is " + keyType.sqlType(), List.of("ALTER TABLE " + t.quoted()
                        + " ALTER COLUMN " + Sql.quote(key.name()) + " TYPE " + keyType.sqlType() + ";")));
            }
            if (!key.notNull()) {
                long nulls = countNulls(t, key);
                List<String> fix = new ArrayList<>();
                if (nulls > 0) {
                    fix.add(String.format(Locale.ROOT, "-- first give the %,d rows whose %s is NULL a key, or"
                            + " delete them", nulls, key.name()));
                }
                fix.add("ALTER TABLE " + t.quoted() + " ALTER COLUMN " + Sql.quote(key.name()) + " SET NOT NULL;");
                problems.add(new Problem(Topic.NULL_KEYS, "key column " + key.name() + " is nullable"
                        + (nulls > 0 ? String.format(Locale.ROOT, " and %,d rows have no key", nulls) : ""), fix));
            }
            Constraint pk = t.primaryKey();
            if (pk == null) {
                problems.add(new Problem(Topic.PRIMARY_KEY, "has no primary key (moving its rows needs one with the"
                        + " key column: logical replication publishes updates and deletes by it)",
                        addPrimaryKey(t, key.name())));
            } else if (!pk.covers(key.num())) {
                problems.add(new Problem(Topic.PRIMARY_KEY, "primary key (" + String.join(", ", t.names(pk.key()))
                        + ") does not include the key column " + key.name(), withKey(t, pk, key)));
            }
            for (Constraint u : t.constraints) {
                if (u.type() == 'u' && !u.covers(key.num())) {
                    problems.add(new Problem(Topic.UNIQUE, "unique constraint " + u.name() + " ("
                            + String.join(", ", t.names(u.key())) + ") does not include the key column " + key.name()
                            + ": one node cannot enforce it for keys on other nodes", withKey(t, u, key)));
                }
            }
            for (UniqueIndex i : t.uniqueIndexes) {
                if (!i.covers(key.num())) {
                    problems.add(new Problem(Topic.UNIQUE, "unique index " + i.name()
                            + " does not include the key column " + key.name()
                            + ": one node cannot enforce it for keys on other nodes", indexWithKey(t, i, key)));
                }
            }
            for (Constraint fk : t.constraints) {
                if (fk.type() == 'f') {
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
                if (fk.type() != 'f') {
                    continue;
                }
                Table to = cat.byOid.get(fk.refRel());
                String target = to == null ? "a table outside the application's schemas" : to.displayName();
                if (to != null && sharded.containsKey(target)) {
                    problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name()
                            + " references sharded table " + target + ": a reference table is copied to every node,"
                            + " the rows it references are on one", List.of("ALTER TABLE " + t.quoted()
                            + " DROP CONSTRAINT " + Sql.quote(fk.name()) + ";", "-- or shard " + name + " by " + target
                            + "'s key instead")));
                } else if (!reference.contains(target)) {
                    problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name() + " references " + target
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
                Table to = fk.type() == 'f' ? cat.byOid.get(fk.refRel()) : null;
                ShardedTable st = to == null ? null : sharded.get(to.displayName());
                if (st != null) {
                    Column key = to.column(st.keyColumn());
                    for (int i = 0; key != null && i < fk.refKey().length; i++) {
                        if (fk.refKey()[i] == key.num()) {
                            return t.columns.get(fk.key()[i]).name();
                        }
                    }
                }
            }
            for (ShardedTable st : sharded.values()) {
                Table owner = cat.tables.get(st.displayName());
                Constraint pk = owner == null ? null : owner.primaryKey();
                boolean ownId = pk != null && pk.key().length == 1 && owner.column(st.keyColumn()) != null
                        && pk.key()[0] == owner.column(st.keyColumn()).num();
                // "id" is every table's own column name: only a key column that names the tenant counts
                if (!ownId && t.column(st.keyColumn()) != null) {
                    return st.keyColumn();
                }
            }
            return null;
        }

        private void foreignKeyFromSharded(Table t, ShardedTable st, Constraint fk, List<Problem> problems) {
            Table to = cat.byOid.get(fk.refRel());
            String target = to == null ? "a table outside the application's schemas" : to.displayName();
            if (to != null && reference.contains(target)) {
                return;
            }
            ShardedTable parent = to == null ? null : sharded.get(target);
            if (parent == null) {
                problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name() + " (" + String.join(", ",
                        t.names(fk.key())) + ") references " + target + ", which is neither sharded nor a reference"
                        + " table: a node that takes these rows would not have the rows they reference",
                        List.of("# in the configuration: reference: { tables: [" + target + "] }   (copied whole to"
                                + " every node)", "# or: tables: [{ name: " + target + ", keyColumn: ... }]")));
                return;
            }
            Column key = t.column(st.keyColumn());
            Column parentKey = to.column(parent.keyColumn());
            boolean carries = false;
            for (int i = 0; key != null && parentKey != null && i < fk.key().length; i++) {
                carries |= fk.key()[i] == key.num() && fk.refKey()[i] == parentKey.num();
            }
            if (!carries && key != null && parentKey != null) {
                List<String> cols = new ArrayList<>(List.of(key.name()));
                List<String> refs = new ArrayList<>(List.of(parentKey.name()));
                for (int i = 0; i < fk.key().length; i++) {
                    if (fk.key()[i] != key.num()) {
                        cols.add(t.columns.get(fk.key()[i]).name());
                        refs.add(to.columns.get(fk.refKey()[i]).name());
                    }
                }
                problems.add(new Problem(Topic.FOREIGN_KEY, "foreign key " + fk.name() + " (" + String.join(", ",
                        t.names(fk.key())) + ") references " + target + " without its key column "
                        + parentKey.name() + ": the referenced row may live on another node", List.of(
                        "ALTER TABLE " + t.quoted() + " DROP CONSTRAINT " + Sql.quote(fk.name()) + ";",
                        "ALTER TABLE " + t.quoted() + " ADD CONSTRAINT " + Sql.quote(fk.name()) + " FOREIGN KEY ("
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
                    if (fk.type() != 'f' || fk.refRel() != t.oid) {
                        continue;
                    }
                    for (int i = 0; i < fk.refKey().length; i++) {
                        Column referencing = other.columns.get(fk.key()[i]);
                        if (fk.refKey()[i] == column.num() && referencing != null
                                && !"bigint".equals(referencing.type())) {
                            fix.add("ALTER TABLE " + other.quoted() + " ALTER COLUMN " + Sql.quote(referencing.name())
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
                if (!i.expression() && i.predicate() == null && t.allNotNull(i.key())) {
                    return List.of("ALTER TABLE " + t.quoted() + " ADD PRIMARY KEY (" + quoteAll(keyFirst(
                            t.names(i.key()), keyColumn)) + ");");
                }
            }
            for (Constraint u : t.constraints) {
                if (u.type() == 'u' && t.allNotNull(u.key())) {
                    return List.of("ALTER TABLE " + t.quoted() + " ADD PRIMARY KEY (" + quoteAll(keyFirst(
                            t.names(u.key()), keyColumn)) + ");");
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
            List<String> cols = keyFirst(t.names(con.key()), key.name());
            for (Table child : cat.tables.values()) {
                for (Constraint fk : child.constraints) {
                    if (fk.type() != 'f' || fk.refRel() != t.oid || !sameColumns(fk.refKey(), con.key())) {
                        continue;
                    }
                    fix.add("ALTER TABLE " + child.quoted() + " DROP CONSTRAINT " + Sql.quote(fk.name()) + ";");
                    ShardedTable childSharded = sharded.get(child.displayName());
                    String childKey = childSharded == null ? key.name() : childSharded.keyColumn();
                    List<String> childCols = new ArrayList<>(List.of(childKey));
                    for (short k : fk.key()) {
                        String n = child.columns.get(k).name();
                        if (!n.equals(childKey)) {
                            childCols.add(n);
                        }
                    }
                    add.add("ALTER TABLE " + child.quoted() + " ADD CONSTRAINT " + Sql.quote(fk.name())
                            + " FOREIGN KEY (" + quoteAll(childCols) + ") REFERENCES " + t.quoted() + " ("
                            + quoteAll(cols) + ")" + fk.actions() + ";");
                }
            }
            fix.add("ALTER TABLE " + t.quoted() + " DROP CONSTRAINT " + Sql.quote(con.name()) + ", ADD CONSTRAINT "
                    + Sql.quote(con.name()) + (con.type() == 'p' ? " PRIMARY KEY (" : " UNIQUE (") + quoteAll(cols)
                    + ");");
            fix.addAll(add);
            return fix;
        }

        private List<String> indexWithKey(Table t, UniqueIndex i, Column key) {
            if (i.expression()) {
                return List.of("DROP INDEX " + Sql.quote(t.schema) + "." + Sql.quote(i.name()) + ";",
                        "-- then create it again with " + key.name() + " as its first column: " + i.definition());
            }
            return List.of("DROP INDEX " + Sql.quote(t.schema) + "." + Sql.quote(i.name()) + ";",
                    "CREATE UNIQUE INDEX " + Sql.quote(i.name()) + " ON " + t.quoted() + " (" + quoteAll(keyFirst(
                            t.names(i.key()), key.name())) + ")"
                            + (i.predicate() == null ? "" : " WHERE " + i.predicate()) + ";");
        }

        private long countNulls(Table t, Column key) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t.quoted()
                    + " WHERE " + Sql.quote(key.name()) + " IS NULL")) {
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

}
