package io.shardring.migration.adopt;

import static io.shardring.migration.adopt.CatalogQuery.notExtensionMember;
import static io.shardring.migration.adopt.CatalogQuery.qualified;
import static io.shardring.migration.adopt.CloneGraph.EXTENSION;
import static io.shardring.migration.adopt.CloneGraph.FUNCTION;
import static io.shardring.migration.adopt.CloneGraph.SCHEMA;
import static io.shardring.migration.adopt.CloneGraph.TYPE;
import static io.shardring.router.Sql.literal;
import static io.shardring.router.Sql.quote;

import io.shardring.migration.adopt.CloneGraph.Item;
import io.shardring.migration.adopt.CloneParts.Extension;
import io.shardring.migration.adopt.CloneParts.Named;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The objects of the cloned schemas that are not relations, as items of the {@link CloneGraph}: the schemas
 * themselves, the database's extensions, enum, domain and composite types, and functions and procedures.
 */
final class SchemaObjectReader {

    private final CatalogQuery source;
    private final List<String> schemas;
    private final CloneGraph graph;
    private final CloneParts parts;
    private final PrivilegeReader privileges;
    private final Set<String> schemaItems = new HashSet<>();

    SchemaObjectReader(CatalogQuery source, List<String> schemas, CloneGraph graph, CloneParts parts,
                       PrivilegeReader privileges) {
        this.source = source;
        this.schemas = schemas;
        this.graph = graph;
        this.parts = parts;
        this.privileges = privileges;
    }

    /** CREATE SCHEMA IF NOT EXISTS (public is there already), owner and explicit privileges. */
    void schemas(List<String> names, boolean mustExist) throws SQLException {
        Set<String> found = new HashSet<>();
        source.each("""
                SELECT n.oid, n.nspname, pg_get_userbyid(n.nspowner)::text,
                       coalesce(n.nspacl, acldefault('n', n.nspowner))::text
                FROM pg_namespace n WHERE n.nspname = ANY(?) ORDER BY n.nspname""", r -> {
            String name = r.getString(2);
            found.add(name);
            if (!schemaItems.add(name) || name.equals("pg_catalog")) {
                return;
            }
            Item i = graph.item(SCHEMA, "schema " + name);
            graph.define(i, "pg_namespace", r.getLong(1));
            i.sql.add("CREATE SCHEMA IF NOT EXISTS " + quote(name));
            parts.owner("ALTER SCHEMA " + quote(name), r.getString(3));
            // always explicit: a schema that already exists on the target (public) keeps the target's
            // privileges otherwise
            privileges.acl("SCHEMA " + quote(name), "schema " + name, r.getString(3), r.getString(4));
            parts.commentTarget("pg_namespace", r.getLong(1), 0, "COMMENT ON SCHEMA " + quote(name));
        }, names);
        if (mustExist) {
            List<String> missing = new ArrayList<>(names);
            missing.removeAll(found);
            if (!missing.isEmpty()) {
                throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schemas " + names
                        + ": " + missing + " do not exist in the source database (schema names are case-sensitive)");
            }
        }
    }

    /**
     * Every extension of the database but plpgsql, in its schema and version: whether or not the cloned objects
     * use one, the database has it and code may call it.
     */
    void extensions() throws SQLException {
        List<String> extensionSchemas = new ArrayList<>();
        source.each("""
                SELECT e.oid, e.extname, n.nspname, e.extversion FROM pg_extension e
                JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.extname""",
                r -> {
                    String name = r.getString(2);
                    String schema = r.getString(3);
                    if (schema.equals(CloneParts.TOOL_SCHEMA)) {
                        parts.problems.add("extension " + name + " is installed in the shardring schema, which is"
                                + " the tool's own (ALTER EXTENSION " + name + " SET SCHEMA another one)");
                        return;
                    }
                    Item i = graph.item(EXTENSION, "extension " + name);
                    graph.define(i, "pg_extension", r.getLong(1));
                    graph.source(i, "pg_extension", r.getLong(1));
                    i.sql.add("CREATE EXTENSION IF NOT EXISTS " + quote(name) + " WITH SCHEMA " + quote(schema)
                            + " VERSION " + literal(r.getString(4)));
                    parts.extensions.add(new Extension(name, schema, r.getString(4)));
                    extensionSchemas.add(schema);
                });
        schemas(extensionSchemas, false);
    }

    void types() throws SQLException {
        source.each("""
                SELECT t.oid, n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner)::text, t.typacl::text,
                       t.typrelid, t.typarray, format_type(t.typbasetype, t.typtypmod),
                       pg_get_expr(t.typdefaultbin, 0), t.typnotnull, cn.nspname, co.collname
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                LEFT JOIN pg_type b ON b.oid = t.typbasetype
                LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> b.typcollation
                LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE n.nspname = ANY(?) AND (t.typtype IN ('e', 'd')
                      OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
                  AND """ + notExtensionMember("pg_type", "t.oid") + " ORDER BY n.nspname, t.typname", r -> {
            long oid = r.getLong(1);
            String schema = r.getString(2);
            String name = r.getString(3);
            String kind = r.getString(4);
            String q = qualified(schema, name);
            boolean domain = kind.equals("d");
            Item i = graph.item(TYPE, (domain ? "domain " : "type ") + schema + "." + name);
            graph.define(i, "pg_type", oid);
            graph.define(i, "pg_type", r.getLong(8));
            graph.define(i, "pg_class", r.getLong(7));
            graph.source(i, "pg_type", oid);
            parts.created.add(new Named(domain ? "domain" : "type", schema, name));
            String keyword = domain ? "DOMAIN " : "TYPE ";
            parts.owner("ALTER " + keyword + q, r.getString(5));
            if (r.getString(6) != null) {
                privileges.acl(keyword + q, "type " + schema + "." + name, r.getString(5), r.getString(6));
            }
            parts.commentTarget("pg_type", oid, 0, "COMMENT ON " + keyword + q);
            switch (kind) {
                case "e" -> i.sql.add("CREATE TYPE " + q + " AS ENUM (" + String.join(", ", enumLabels(oid)) + ")");
                case "c" -> {
                    graph.source(i, "pg_class", r.getLong(7));
                    i.sql.add("CREATE TYPE " + q + " AS ("
                            + String.join(", ", compositeAttributes(q, r.getLong(7))) + ")");
                }
                default -> domain(i, oid, q, r);
            }
        }, schemas);
    }

    private List<String> enumLabels(long type) throws SQLException {
        List<String> labels = new ArrayList<>();
        source.each("SELECT enumlabel FROM pg_enum WHERE enumtypid = ? ORDER BY enumsortorder",
                r -> labels.add(literal(r.getString(1))), type);
        return labels;
    }

    private List<String> compositeAttributes(String type, long relation) throws SQLException {
        List<String> out = new ArrayList<>();
        for (Column col : Column.of(source, relation)) {
            out.add(quote(col.name()) + " " + col.type() + col.collate());
            parts.commentTarget("pg_class", relation, col.num(), "COMMENT ON COLUMN " + type + "."
                    + quote(col.name()));
        }
        return out;
    }

    /**
     * CREATE DOMAIN with its default and NOT NULL; each CHECK is its own item (ALTER DOMAIN ADD CONSTRAINT), so
     * that a check calling a function that takes the domain can follow that function, and NOT VALID survives.
     */
    private void domain(Item i, long oid, String q, ResultSet type) throws SQLException {
        StringBuilder sql = new StringBuilder("CREATE DOMAIN ").append(q).append(" AS ").append(type.getString(9));
        if (type.getString(13) != null) {
            sql.append(" COLLATE ").append(qualified(type.getString(12), type.getString(13)));
        }
        if (type.getString(10) != null) {
            sql.append(" DEFAULT ").append(type.getString(10));
        }
        boolean[] namedNotNull = {false};
        source.each("""
                SELECT k.oid, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k
                WHERE k.contypid = ? ORDER BY k.conname""", r -> {
            if (r.getString(3).equals("n")) { // PostgreSQL 17 catalogs a domain's NOT NULL with a name
                namedNotNull[0] = true;
                sql.append(" CONSTRAINT ").append(quote(r.getString(2))).append(" NOT NULL");
                return;
            }
            Item check = graph.item(TYPE, "constraint " + r.getString(2) + " of domain " + q);
            graph.define(check, "pg_constraint", r.getLong(1));
            graph.source(check, "pg_constraint", r.getLong(1));
            check.needs.add(new CloneGraph.Obj("pg_type", oid));
            check.sql.add("ALTER DOMAIN " + q + " ADD CONSTRAINT " + quote(r.getString(2)) + " "
                    + r.getString(4));
            parts.commentTarget("pg_constraint", r.getLong(1), 0, "COMMENT ON CONSTRAINT " + quote(r.getString(2))
                    + " ON DOMAIN " + q);
        }, oid);
        if (type.getBoolean(11) && !namedNotNull[0]) {
            sql.append(" NOT NULL");
        }
        i.sql.add(sql.toString());
    }

    void functions() throws SQLException {
        source.each("""
                SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                       pg_get_userbyid(p.proowner)::text, p.proacl::text, pg_get_functiondef(p.oid)
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = ANY(?) AND p.prokind <> 'a' AND """ + notExtensionMember("pg_proc", "p.oid")
                + " ORDER BY n.nspname, p.proname, p.oid", r -> {
            String label = "function " + r.getString(2) + "." + r.getString(3) + "(" + r.getString(4) + ")";
            String routine = "ROUTINE " + qualified(r.getString(2), r.getString(3)) + "(" + r.getString(4) + ")";
            Item i = graph.item(FUNCTION, label);
            graph.define(i, "pg_proc", r.getLong(1));
            graph.source(i, "pg_proc", r.getLong(1));
            i.sql.add(createOnly(r.getString(7)));
            parts.created.add(new Named("function", r.getString(2), r.getString(3)));
            parts.owner("ALTER " + routine, r.getString(5));
            if (r.getString(6) != null) {
                privileges.acl(routine, label, r.getString(5), r.getString(6));
            }
            parts.commentTarget("pg_proc", r.getLong(1), 0, "COMMENT ON " + routine);
        }, schemas);
    }

    /** pg_get_functiondef says CREATE OR REPLACE; on the target, replacing a function silently is wrong. */
    private static String createOnly(String definition) {
        String prefix = "CREATE OR REPLACE ";
        return definition.startsWith(prefix) ? "CREATE " + definition.substring(prefix.length()) : definition;
    }
}
