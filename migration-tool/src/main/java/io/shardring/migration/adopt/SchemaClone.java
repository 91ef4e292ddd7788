package io.shardring.migration.adopt;

import static io.shardring.router.Sql.quote;

import io.shardring.migration.adopt.CloneParts.Extension;
import io.shardring.migration.adopt.CloneParts.Named;
import io.shardring.migration.adopt.CloneParts.Owner;
import io.shardring.migration.adopt.CloneParts.Requirement;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The definitions of an application's tables and of everything they need, read from the system catalogs of a live
 * database and replayed as DDL on another one: what a new node needs before rows move to it when the schema was not
 * made by Flyway migrations that could simply run there. pg_dump would do this, but the CLI is a plain jar that must
 * run where no PostgreSQL client tools are installed.
 *
 * <p>Definitions come from PostgreSQL's own deparsers (format_type, pg_get_expr, pg_get_constraintdef,
 * pg_get_indexdef, pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef, pg_get_statisticsobjdef), called with an
 * empty search_path so that every name they print is schema-qualified and means the same on the target. What is
 * cloned: schemas, extensions, enum, domain and composite types, functions and procedures, sequences (options, not
 * values), tables (columns with identity, generated columns, defaults, collations, storage options; UNLOGGED;
 * reloptions; replica identity; CLUSTER ON), constraints, indexes, views, materialized views (WITH NO DATA), extended
 * statistics, triggers (with their enabled state), row-level security and its policies, comments, owners, grants
 * (also on columns) and default privileges. The statements are ordered by the source's pg_depend, so an object always
 * follows what it refers to whatever the kinds.
 *
 * <p>Left out on purpose: the {@code shardring} schema and every trigger named {@code shardring_*} or calling a
 * function of that schema (the tool installs its own on each node; the clone refuses to apply where a shardring
 * function or type it uses is missing). Refused, naming the object, because the clone could not reproduce it
 * faithfully: partitioned tables, partitions, table inheritance, typed and foreign tables, rules, aggregates, range and
 * base types, user-defined collations, operators, operator classes, text search objects, casts and event triggers,
 * objects in non-default tablespaces, invalid indexes, tables with disabled foreign-key triggers, grants made by a role
 * other than the object's owner, and any reference to an object outside the cloned schemas that no extension owns.
 *
 * <p>The catalogs should not change while {@link #read} runs (the deparsers read the latest committed definitions,
 * not a snapshot): adopting happens before the application writes DDL again.
 *
 * <p>This class is the result and its use; {@code SourceReading} reads it (one reader per kind of object, ordered by
 * {@code CloneGraph}), {@code CloneTarget} checks a target and runs the statements there.
 */
public final class SchemaClone {

    private final String sourceRole;
    private final List<String> body;
    private final List<Owner> owners;
    private final List<String> grants;
    private final List<String> tables;
    private final List<Named> created;
    private final Set<String> roles;
    private final List<Extension> extensions;
    private final List<Requirement> requirements;

    private SchemaClone(SourceReading.Result r) {
        this.sourceRole = r.role();
        this.body = List.copyOf(r.body());
        this.owners = List.copyOf(r.parts().owners);
        this.grants = List.copyOf(r.parts().grants);
        this.tables = List.copyOf(r.parts().tables);
        this.created = List.copyOf(r.parts().created);
        this.roles = Set.copyOf(r.parts().roles);
        this.extensions = List.copyOf(r.parts().extensions);
        this.requirements = List.copyOf(r.parts().requirements.values());
    }

    /**
     * The schemas of a database that hold the application's tables: every schema with a user table or sequence,
     * except shardring, pg_catalog, information_schema, pg_toast and temp schemas. Also schemas that hold only
     * views, functions or types (not an extension's): a schema of views or helper functions is the application's too,
     * and leaving it out would make {@link #read} refuse the references into it.
     */
    public static List<String> applicationSchemas(Connection c) throws SQLException {
        String sql = """
                SELECT n.nspname FROM pg_catalog.pg_namespace n
                WHERE n.nspname NOT IN ('shardring', 'pg_catalog', 'information_schema', 'pg_toast')
                  AND n.nspname !~ '^pg_(toast_)?temp_'
                  AND (EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid
                                 AND c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f')
                                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
                                                   AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                                   AND d.objid = c.oid))
                       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid
                                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
                                                      AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                                      AND d.objid = p.oid))
                       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typnamespace = n.oid
                                    AND t.typtype IN ('e', 'd')
                                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
                                                      AND d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                                                      AND d.objid = t.oid)))
                ORDER BY n.nspname""";
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }

    /**
     * Reads the definitions of the objects in {@code schemas} (never the shardring schema) from a live database.
     * Changes nothing there (the session's search_path is set for the reading and put back).
     *
     * @throws ShardringException {@link ErrorCode#INVALID_CONFIGURATION}, naming every object the clone cannot
     *                            reproduce faithfully, a schema that does not exist, or the shardring schema
     */
    public static SchemaClone read(Connection source, List<String> schemas) throws SQLException {
        return new SchemaClone(SourceReading.read(source, schemas));
    }

    /** The DDL, in an order that applies on an empty database (owners relative to the source's connecting role). */
    public List<String> statements() {
        return statementsFor(sourceRole);
    }

    /** The cloned tables, schema-qualified as schema.table (unquoted). */
    public List<String> tables() {
        return tables;
    }

    /**
     * Runs statements() on target in the caller's transaction (the caller commits); expects none of the tables to
     * exist there (refuses, naming them, if any does). Also refuses, before changing anything, when a role the clone
     * names (owner or grantee) does not exist on the target's server, when an extension is missing there in the
     * source's version, or when a shardring function or type the clone uses is missing. Objects whose owner is the
     * target's connecting role get no ALTER ... OWNER.
     *
     * @throws ShardringException {@link ErrorCode#INVALID_CONFIGURATION} for those refusals;
     *                            {@link ErrorCode#SHARD_ERROR} naming the statement that failed (roll back then)
     */
    public void applyTo(Connection target) throws SQLException {
        CloneTarget t = CloneTarget.of(target);
        t.refuseExisting(created);
        t.refuseMissingRoles(roles);
        t.refuseMissingExtensions(extensions);
        t.refuseMissingToolObjects(requirements);
        t.run(statementsFor(t.connectingRole()));
    }

    private List<String> statementsFor(String connectingRole) {
        List<String> out = new ArrayList<>(body);
        for (Owner o : owners) {
            if (!o.role().equals(connectingRole)) {
                out.add(o.alter() + " OWNER TO " + quote(o.role()));
            }
        }
        out.addAll(grants);
        return out;
    }

    @Override
    public String toString() {
        return "SchemaClone" + tables + " (" + body.size() + " statements)";
    }
}
