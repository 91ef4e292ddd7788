package io.shardring.migration.adopt;

import static io.shardring.migration.adopt.CatalogQuery.notExtensionMember;
import static io.shardring.migration.adopt.CatalogQuery.qualified;
import static io.shardring.migration.adopt.CatalogQuery.strings;
import static io.shardring.migration.adopt.CloneGraph.OWNED_BY;
import static io.shardring.migration.adopt.CloneGraph.SEQUENCE;
import static io.shardring.migration.adopt.CloneGraph.TABLE;
import static io.shardring.migration.adopt.CloneGraph.VIEW;
import static io.shardring.router.Sql.literal;
import static io.shardring.router.Sql.quote;

import io.shardring.migration.adopt.CloneGraph.Item;
import io.shardring.migration.adopt.CloneGraph.Obj;
import io.shardring.migration.adopt.CloneParts.Named;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The relations of the cloned schemas as items of the {@link CloneGraph}: sequences (options, not values), tables
 * (columns with identity, generated columns, defaults, collations, storage options; UNLOGGED; reloptions; row-level
 * security), views and materialized views; what belongs to a table besides its columns is
 * {@link TableObjectReader}'s.
 */
final class RelationReader {

    /** One sequence's options and the column that owns it ('a' for OWNED BY, 'i' for an identity), if any. */
    private record Sequence(long oid, String schema, String name, String type, long start, long increment, long min,
                            long max, long cache, boolean cycle, boolean unlogged, String ownedBy,
                            long table, String tableSchema, String tableName, String column) {
        String options(boolean withType) {
            return (withType ? "AS " + type + " " : "") + "INCREMENT BY " + increment + " MINVALUE " + min
                    + " MAXVALUE " + max + " START WITH " + start + " CACHE " + cache
                    + (cycle ? " CYCLE" : " NO CYCLE");
        }

        String qualified() {
            return CatalogQuery.qualified(schema, name);
        }
    }

    private final CatalogQuery source;
    private final List<String> schemas;
    private final CloneGraph graph;
    private final CloneParts parts;
    private final PrivilegeReader privileges;
    private final TableObjectReader tableObjects;
    private final Map<Long, Sequence> sequences = new LinkedHashMap<>();

    RelationReader(CatalogQuery source, List<String> schemas, CloneGraph graph, CloneParts parts,
                   PrivilegeReader privileges) {
        this.source = source;
        this.schemas = schemas;
        this.graph = graph;
        this.parts = parts;
        this.privileges = privileges;
        this.tableObjects = new TableObjectReader(source, schemas, graph, parts);
    }

    /**
     * Every sequence of the schemas with its options and owning column. Not its current value: a new node's
     * sequences are set to the node's own id range afterwards.
     */
    void sequences() throws SQLException {
        source.each("""
                SELECT s.seqrelid, n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart,
                       s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, c.relpersistence = 'u',
                       d.deptype::text, d.refobjid, tn.nspname, tc.relname, a.attname
                FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                     AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
                LEFT JOIN pg_class tc ON tc.oid = d.refobjid
                LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE n.nspname = ANY(?) AND """ + notExtensionMember("pg_class", "c.oid")
                + " ORDER BY n.nspname, c.relname", r -> sequences.put(r.getLong(1), new Sequence(r.getLong(1),
                r.getString(2), r.getString(3), r.getString(4), r.getLong(5), r.getLong(6), r.getLong(7),
                r.getLong(8), r.getLong(9), r.getBoolean(10), r.getBoolean(11), r.getString(12), r.getLong(13),
                r.getString(14), r.getString(15), r.getString(16))), schemas);
    }

    /** A sequence of its own (serial's, or free): CREATE SEQUENCE, and OWNED BY once its table exists. */
    private void sequence(Sequence s, String owner, String relAcl) throws SQLException {
        String q = s.qualified();
        parts.created.add(new Named("sequence", s.schema(), s.name()));
        parts.commentTarget("pg_class", s.oid(), 0, "COMMENT ON SEQUENCE " + q);
        if (relAcl != null) {
            privileges.acl("SEQUENCE " + q, "sequence " + s.schema() + "." + s.name(), owner, relAcl);
        }
        if ("i".equals(s.ownedBy())) {
            return; // an identity's: its column makes it
        }
        Item i = graph.item(SEQUENCE, "sequence " + s.schema() + "." + s.name());
        graph.define(i, "pg_class", s.oid());
        i.sql.add("CREATE " + (s.unlogged() ? "UNLOGGED " : "") + "SEQUENCE " + q + " " + s.options(true));
        if (s.ownedBy() == null) {
            parts.owner("ALTER SEQUENCE " + q, owner); // an owned one follows its table's owner
            return;
        }
        Item ownedBy = graph.item(OWNED_BY, "ownership of sequence " + s.schema() + "." + s.name());
        graph.source(ownedBy, "pg_class", s.oid()); // its pg_depend rows name the owning table
        ownedBy.needs.add(new Obj("pg_class", s.oid()));
        ownedBy.sql.add("ALTER SEQUENCE " + q + " OWNED BY " + qualified(s.tableSchema(), s.tableName()) + "."
                + quote(s.column()));
    }

    void relations() throws SQLException {
        source.each("""
                SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relpersistence = 'u', c.relrowsecurity,
                       c.relforcerowsecurity, c.relreplident::text, c.reloptions::text[], am.amname,
                       pg_get_userbyid(c.relowner)::text, c.relacl::text, c.reltype, rt.typarray,
                       tc.reloptions::text[]
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_am am ON am.oid = c.relam
                LEFT JOIN pg_type rt ON rt.oid = c.reltype
                LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
                WHERE n.nspname = ANY(?) AND c.relkind IN ('r', 'v', 'm', 'S') AND NOT c.relispartition
                  AND """ + notExtensionMember("pg_class", "c.oid") + " ORDER BY n.nspname, c.relname", r -> {
            String kind = r.getString(4);
            if (kind.equals("S")) {
                Sequence s = sequences.get(r.getLong(1));
                if (s != null) {
                    sequence(s, r.getString(11), r.getString(12));
                }
                return;
            }
            Relation rel = new Relation(r.getLong(1), r.getString(2), r.getString(3), kind, r.getBoolean(5),
                    r.getBoolean(6), r.getBoolean(7), r.getString(8), strings(r, 9), r.getString(10),
                    r.getString(11), r.getString(12), r.getLong(13), r.getLong(14), strings(r, 15));
            relation(rel);
        }, schemas);
    }

    private void relation(Relation rel) throws SQLException {
        List<Column> columns = Column.of(source, rel.oid());
        Item i = graph.item(rel.kind().equals("r") ? TABLE : VIEW, rel.label());
        graph.define(i, "pg_class", rel.oid());
        graph.define(i, "pg_type", rel.rowType());
        graph.define(i, "pg_type", rel.rowArrayType());
        parts.created.add(new Named(rel.keyword().toLowerCase(Locale.ROOT), rel.schema(), rel.name()));
        switch (rel.kind()) {
            case "r" -> table(i, rel, columns);
            case "v" -> view(i, rel, columns);
            default -> materializedView(i, rel);
        }
        parts.owner("ALTER " + rel.keyword() + " " + rel.qualified(), rel.owner());
        if (rel.acl() != null) {
            privileges.acl("TABLE " + rel.qualified(), rel.label(), rel.owner(), rel.acl());
        }
        parts.commentTarget("pg_class", rel.oid(), 0, "COMMENT ON " + rel.keyword() + " " + rel.qualified());
        for (Column col : columns) {
            String column = rel.qualified() + "." + quote(col.name());
            parts.commentTarget("pg_class", rel.oid(), col.num(), "COMMENT ON COLUMN " + column);
            if (col.acl() != null) {
                privileges.columnAcl(rel, col);
            }
        }
        if (!rel.kind().equals("v")) {
            tableObjects.indexes(rel);
        }
        tableObjects.triggers(rel);
    }

    private void table(Item i, Relation rel, List<Column> columns) throws SQLException {
        String q = rel.qualified();
        graph.source(i, "pg_class", rel.oid());
        List<String> definitions = new ArrayList<>();
        for (Column col : columns) {
            definitions.add(columnDefinition(i, rel, col));
        }
        i.sql.add("CREATE " + (rel.unlogged() ? "UNLOGGED " : "") + "TABLE " + q + " ("
                + String.join(", ", definitions) + ") USING " + quote(rel.accessMethod())
                + with(rel.options(), rel.toastOptions()));
        for (Column col : columns) {
            columnOptions(i, q, col);
        }
        if (rel.rowSecurity()) {
            i.sql.add("ALTER TABLE " + q + " ENABLE ROW LEVEL SECURITY");
        }
        if (rel.forceRowSecurity()) {
            i.sql.add("ALTER TABLE " + q + " FORCE ROW LEVEL SECURITY");
        }
        parts.tables.add(rel.schema() + "." + rel.name());
        tableObjects.constraints(rel);
        tableObjects.policies(rel);
        tableObjects.statistics(rel);
        tableObjects.replicaIdentity(rel);
    }

    private String columnDefinition(Item table, Relation rel, Column col) {
        StringBuilder d = new StringBuilder(quote(col.name())).append(' ').append(col.type())
                .append(col.collate());
        if (col.defaultOid() != 0) {
            graph.source(table, "pg_attrdef", col.defaultOid());
        }
        if (col.identity() != null) {
            Sequence s = identitySequence(rel, col);
            graph.define(table, "pg_class", s.oid());
            d.append(" GENERATED ").append(col.identity()).append(" AS IDENTITY (SEQUENCE NAME ")
                    .append(s.qualified()).append(' ').append(s.options(false)).append(')');
        } else if ("s".equals(col.generated())) {
            d.append(" GENERATED ALWAYS AS (").append(col.expression()).append(") STORED");
        } else if (col.generated() != null) {
            parts.problems.add("column " + col.name() + " of " + rel.label() + ": generated columns of kind '"
                    + col.generated() + "' (not STORED) are not supported");
        } else if (col.expression() != null) {
            d.append(" DEFAULT ").append(col.expression());
        }
        if (col.notNull()) {
            d.append(" NOT NULL");
        }
        return d.toString();
    }

    private Sequence identitySequence(Relation rel, Column col) {
        for (Sequence s : sequences.values()) {
            if ("i".equals(s.ownedBy()) && s.table() == rel.oid() && col.name().equals(s.column())) {
                return s;
            }
        }
        throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone " + rel.label()
                + ": the sequence of identity column " + col.name() + " was not found in the catalogs");
    }

    /** Storage, compression, statistics target and attribute options that differ from the type's defaults. */
    private static void columnOptions(Item i, String table, Column col) {
        String alter = "ALTER TABLE " + table + " ALTER COLUMN " + quote(col.name());
        if (col.storage() != null) {
            i.sql.add(alter + " SET STORAGE " + col.storage());
        }
        if (col.compression() != null) {
            i.sql.add(alter + " SET COMPRESSION " + quote(col.compression()));
        }
        if (col.statistics() != null) {
            i.sql.add(alter + " SET STATISTICS " + col.statistics());
        }
        if (col.options() != null && col.options().length > 0) {
            i.sql.add(alter + " SET (" + options(col.options(), "") + ")");
        }
    }

    private static String with(String[] options, String[] toastOptions) {
        List<String> all = new ArrayList<>();
        if (options != null && options.length > 0) {
            all.add(options(options, ""));
        }
        if (toastOptions != null && toastOptions.length > 0) {
            all.add(options(toastOptions, "toast"));
        }
        return all.isEmpty() ? "" : " WITH (" + String.join(", ", all) + ")";
    }

    /** Storage parameters as pg_class keeps them (name=value), as a quoted list for WITH (...) or SET (...). */
    private static String options(String[] options, String namespace) {
        List<String> out = new ArrayList<>();
        for (String option : options) {
            int eq = option.indexOf('=');
            String prefix = namespace.isEmpty() ? "" : quote(namespace) + ".";
            out.add(prefix + quote(option.substring(0, eq)) + " = " + literal(option.substring(eq + 1)));
        }
        return String.join(", ", out);
    }

    private void view(Item i, Relation rel, List<Column> columns) throws SQLException {
        String q = rel.qualified();
        String definition = viewDefinition(i, rel);
        i.sql.add("CREATE VIEW " + q + with(rel.options(), null) + " AS " + definition);
        for (Column col : columns) { // ALTER VIEW ... SET DEFAULT, for inserts through the view
            if (col.expression() != null) {
                graph.source(i, "pg_attrdef", col.defaultOid());
                i.sql.add("ALTER VIEW " + q + " ALTER COLUMN " + quote(col.name()) + " SET DEFAULT "
                        + col.expression());
            }
        }
    }

    private void materializedView(Item i, Relation rel) throws SQLException {
        String definition = viewDefinition(i, rel);
        // WITH NO DATA: rows are the data's business, and a refresh on an empty node would only cost time
        i.sql.add("CREATE MATERIALIZED VIEW " + rel.qualified() + " USING " + quote(rel.accessMethod())
                + with(rel.options(), null) + " AS " + definition + " WITH NO DATA");
    }

    /** The view's query; its _RETURN rule's pg_depend rows say what it reads. */
    private String viewDefinition(Item i, Relation rel) throws SQLException {
        String[] definition = {null};
        source.each("""
                SELECT r.oid, pg_get_viewdef(?::oid, false) FROM pg_rewrite r
                WHERE r.ev_class = ? AND r.rulename = '_RETURN'""", r -> {
            graph.define(i, "pg_rewrite", r.getLong(1));
            graph.source(i, "pg_rewrite", r.getLong(1));
            definition[0] = r.getString(2).strip();
        }, rel.oid(), rel.oid());
        if (definition[0] == null) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone " + rel.label()
                    + ": its query (the _RETURN rule) was not found");
        }
        String d = definition[0];
        return d.endsWith(";") ? d.substring(0, d.length() - 1) : d;
    }
}
