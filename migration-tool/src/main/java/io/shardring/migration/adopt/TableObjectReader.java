package io.shardring.migration.adopt;

import static io.shardring.migration.adopt.CatalogQuery.qualified;
import static io.shardring.migration.adopt.CatalogQuery.strings;
import static io.shardring.migration.adopt.CloneGraph.CONSTRAINT;
import static io.shardring.migration.adopt.CloneGraph.FOREIGN_KEY;
import static io.shardring.migration.adopt.CloneGraph.INDEX;
import static io.shardring.migration.adopt.CloneGraph.POLICY;
import static io.shardring.migration.adopt.CloneGraph.TABLE_OPTIONS;
import static io.shardring.migration.adopt.CloneGraph.TRIGGER;
import static io.shardring.router.Sql.quote;

import io.shardring.migration.adopt.CloneGraph.Item;
import io.shardring.migration.adopt.CloneGraph.Obj;
import io.shardring.migration.adopt.CloneParts.Named;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What belongs to one table or materialized view besides its columns, as items of the {@link CloneGraph}:
 * constraints, indexes that back none, CLUSTER ON, replica identity, triggers with their enabled state, row-level
 * security policies and extended statistics.
 */
final class TableObjectReader {

    /** The tool's own triggers' names; the tool installs them on each node. */
    private static final String TOOL_PREFIX = "shardring_";

    private final CatalogQuery source;
    private final List<String> schemas;
    private final CloneGraph graph;
    private final CloneParts parts;

    TableObjectReader(CatalogQuery source, List<String> schemas, CloneGraph graph, CloneParts parts) {
        this.source = source;
        this.schemas = schemas;
        this.graph = graph;
        this.parts = parts;
    }

    void constraints(Relation rel) throws SQLException {
        source.each("""
                SELECT k.oid, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.conindid
                FROM pg_constraint k WHERE k.conrelid = ? AND k.contype IN ('p', 'u', 'c', 'x', 'f')
                ORDER BY k.conname""", r -> {
            boolean foreignKey = r.getString(3).equals("f");
            String name = r.getString(2);
            Item i = graph.item(foreignKey ? FOREIGN_KEY : CONSTRAINT, "constraint " + name + " of " + rel.label());
            graph.define(i, "pg_constraint", r.getLong(1));
            graph.source(i, "pg_constraint", r.getLong(1));
            if (!foreignKey) {
                graph.define(i, "pg_class", r.getLong(5)); // the index of a key or exclusion constraint
            }
            i.sql.add("ALTER TABLE " + rel.qualified() + " ADD CONSTRAINT " + quote(name) + " " + r.getString(4));
            parts.commentTarget("pg_constraint", r.getLong(1), 0, "COMMENT ON CONSTRAINT "
                    + quote(name) + " ON " + rel.qualified());
        }, rel.oid());
    }

    /** Indexes that back no constraint (those come with their constraint), and CLUSTER ON. */
    void indexes(Relation rel) throws SQLException {
        source.each("""
                SELECT i.indexrelid, c.relname, pg_get_indexdef(i.indexrelid), i.indisclustered,
                       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                               AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ?
                ORDER BY c.relname""", r -> {
            String q = qualified(rel.schema(), r.getString(2));
            parts.commentTarget("pg_class", r.getLong(1), 0, "COMMENT ON INDEX " + q);
            if (!r.getBoolean(5)) {
                Item i = graph.item(INDEX, "index " + rel.schema() + "." + r.getString(2));
                graph.define(i, "pg_class", r.getLong(1));
                graph.source(i, "pg_class", r.getLong(1));
                i.sql.add(r.getString(3));
                parts.created.add(new Named("index", rel.schema(), r.getString(2)));
            }
            if (r.getBoolean(4)) {
                Item cluster = graph.item(TABLE_OPTIONS, "CLUSTER ON of " + rel.label());
                cluster.needs.add(new Obj("pg_class", r.getLong(1)));
                cluster.sql.add("ALTER " + rel.keyword() + " " + rel.qualified() + " CLUSTER ON "
                        + quote(r.getString(2)));
            }
        }, rel.oid());
    }

    /**
     * REPLICA IDENTITY when not the default: logical replication, which moves rows between nodes, depends on it.
     */
    void replicaIdentity(Relation rel) throws SQLException {
        String alter = "ALTER TABLE " + rel.qualified() + " REPLICA IDENTITY ";
        switch (rel.replicaIdentity()) {
            case "d" -> { }
            case "n" -> graph.item(TABLE_OPTIONS, "replica identity of " + rel.label()).sql.add(alter + "NOTHING");
            case "f" -> graph.item(TABLE_OPTIONS, "replica identity of " + rel.label()).sql.add(alter + "FULL");
            default -> source.each("""
                    SELECT i.indexrelid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = ? AND i.indisreplident""", r -> {
                Item i = graph.item(TABLE_OPTIONS, "replica identity of " + rel.label());
                i.needs.add(new Obj("pg_class", r.getLong(1)));
                i.sql.add(alter + "USING INDEX " + quote(r.getString(2)));
            }, rel.oid());
        }
    }

    /**
     * Application triggers with their enabled state. Internal ones come with their constraints, and the tool's
     * own ({@code shardring_*}, or calling a function of the shardring schema) are installed by the tool.
     */
    void triggers(Relation rel) throws SQLException {
        source.each("""
                SELECT t.oid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text, pn.nspname
                FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                JOIN pg_namespace pn ON pn.oid = p.pronamespace
                WHERE t.tgrelid = ? AND NOT t.tgisinternal ORDER BY t.tgname""", r -> {
            String name = r.getString(2);
            if (name.startsWith(TOOL_PREFIX) || r.getString(5).equals(CloneParts.TOOL_SCHEMA)) {
                return;
            }
            Item i = graph.item(TRIGGER, "trigger " + name + " on " + rel.label());
            graph.define(i, "pg_trigger", r.getLong(1));
            graph.source(i, "pg_trigger", r.getLong(1));
            i.sql.add(r.getString(3));
            String state = switch (r.getString(4)) {
                case "D" -> "DISABLE TRIGGER ";
                case "R" -> "ENABLE REPLICA TRIGGER ";
                case "A" -> "ENABLE ALWAYS TRIGGER ";
                default -> null;
            };
            if (state != null) {
                i.sql.add("ALTER TABLE " + rel.qualified() + " " + state + quote(name));
            }
            parts.commentTarget("pg_trigger", r.getLong(1), 0, "COMMENT ON TRIGGER "
                    + quote(name) + " ON " + rel.qualified());
        }, rel.oid());
    }

    /** Row-level security policies: their expressions deparsed by pg_get_expr, their roles by name. */
    void policies(Relation rel) throws SQLException {
        source.each("""
                SELECT p.oid, p.polname, p.polcmd::text, p.polpermissive,
                       ARRAY(SELECT CASE WHEN u.r = 0 THEN NULL ELSE pg_get_userbyid(u.r)::text END
                             FROM unnest(p.polroles) WITH ORDINALITY AS u(r, n) ORDER BY u.n),
                       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
                FROM pg_policy p WHERE p.polrelid = ? ORDER BY p.polname""", r -> {
            String name = r.getString(2);
            Item i = graph.item(POLICY, "policy " + name + " on " + rel.label());
            graph.define(i, "pg_policy", r.getLong(1));
            graph.source(i, "pg_policy", r.getLong(1));
            List<String> to = new ArrayList<>();
            for (String role : strings(r, 5)) {
                to.add(role == null ? "PUBLIC" : quote(role));
                if (role != null) {
                    parts.roles.add(role);
                }
            }
            String command = switch (r.getString(3)) {
                case "r" -> "SELECT";
                case "a" -> "INSERT";
                case "w" -> "UPDATE";
                case "d" -> "DELETE";
                default -> "ALL";
            };
            StringBuilder sql = new StringBuilder("CREATE POLICY ").append(quote(name)).append(" ON ")
                    .append(rel.qualified()).append(" AS ").append(r.getBoolean(4) ? "PERMISSIVE" : "RESTRICTIVE")
                    .append(" FOR ").append(command).append(" TO ").append(String.join(", ", to));
            if (r.getString(6) != null) {
                sql.append(" USING (").append(r.getString(6)).append(')');
            }
            if (r.getString(7) != null) {
                sql.append(" WITH CHECK (").append(r.getString(7)).append(')');
            }
            i.sql.add(sql.toString());
            parts.commentTarget("pg_policy", r.getLong(1), 0, "COMMENT ON POLICY " + quote(name)
                    + " ON " + rel.qualified());
        }, rel.oid());
    }

    /** Extended statistics (CREATE STATISTICS), which the planner's estimates on the new node depend on. */
    void statistics(Relation rel) throws SQLException {
        source.each("""
                SELECT s.oid, n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid),
                       pg_get_userbyid(s.stxowner)::text, nullif(s.stxstattarget, -1)
                FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE s.stxrelid = ?
                ORDER BY s.stxname""", r -> {
            String label = "statistics object " + r.getString(2) + "." + r.getString(3);
            if (!schemas.contains(r.getString(2))) {
                parts.problems.add(label + " on " + rel.label() + " is in schema " + r.getString(2) + ", which is not"
                        + " cloned (ALTER STATISTICS ... SET SCHEMA " + rel.schema() + ")");
                return;
            }
            String q = qualified(r.getString(2), r.getString(3));
            Item i = graph.item(INDEX, label);
            graph.define(i, "pg_statistic_ext", r.getLong(1));
            graph.source(i, "pg_statistic_ext", r.getLong(1));
            i.sql.add(r.getString(4));
            if (r.getObject(6) != null) {
                i.sql.add("ALTER STATISTICS " + q + " SET STATISTICS " + r.getInt(6));
            }
            parts.owner("ALTER STATISTICS " + q, r.getString(5));
            parts.commentTarget("pg_statistic_ext", r.getLong(1), 0, "COMMENT ON STATISTICS " + q);
        }, rel.oid());
    }
}
