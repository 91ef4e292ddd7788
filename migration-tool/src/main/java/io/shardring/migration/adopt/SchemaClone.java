package io.shardring.migration.adopt;

import static io.shardring.router.Sql.literal;
import static io.shardring.router.Sql.quote;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

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
 */
public final class SchemaClone {

    private static final String TOOL_SCHEMA = "shardring";
    private static final String TOOL_PREFIX = "shardring_";
    /** Objects with smaller OIDs were made by initdb (built-in types, functions, plpgsql): the target has them. */
    private static final long FIRST_NORMAL_OID = 16384;
    /** A privilege keyword as aclexplode spells it; checked because it is put into a GRANT unquoted. */
    private static final Pattern PRIVILEGE = Pattern.compile("[A-Z]+( [A-Z]+)*");

    private final String sourceRole;
    private final List<String> body;
    private final List<Owner> owners;
    private final List<String> grants;
    private final List<String> tables;
    private final List<Named> created;
    private final Set<String> roles;
    private final List<Extension> extensions;
    private final List<Requirement> requirements;

    private SchemaClone(Reader r, List<String> body) {
        this.sourceRole = r.role;
        this.body = List.copyOf(body);
        this.owners = List.copyOf(r.owners);
        this.grants = List.copyOf(r.grants);
        this.tables = List.copyOf(r.tables);
        this.created = List.copyOf(r.created);
        this.roles = Set.copyOf(r.roles);
        this.extensions = List.copyOf(r.extensions);
        this.requirements = List.copyOf(r.requirements.values());
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
        return new Reader(source, schemas).read();
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
        if (target.getAutoCommit()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "SchemaClone.applyTo needs a connection"
                    + " in a transaction (autoCommit off), so that a failure leaves nothing half-made");
        }
        String database = string(target, "SELECT pg_catalog.current_database()");
        refuseExisting(target, database);
        refuseMissingRoles(target, database);
        refuseMissingExtensions(target, database);
        refuseMissingToolObjects(target, database);
        List<String> all = statementsFor(string(target, "SELECT current_user"));
        // an empty search_path: the statements name every object with its schema, and nothing of the caller's
        // path may shadow a built-in; function bodies may refer to objects made later in the same run
        String path = setLocal(target, "search_path", "");
        String checkBodies = setLocal(target, "check_function_bodies", "off");
        try (Statement s = target.createStatement()) {
            for (String sql : all) {
                run(s, sql, database);
            }
        }
        setLocal(target, "search_path", path);
        setLocal(target, "check_function_bodies", checkBodies);
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

    /** Runs one statement; a WARNING (SQLSTATE class 01, e.g. "no privileges were granted") fails it too. */
    private static void run(Statement s, String sql, String database) throws SQLException {
        try {
            s.execute(sql);
            for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                if (w.getSQLState() != null && w.getSQLState().startsWith("01")) {
                    throw w;
                }
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "creating the cloned schema in database "
                    + database + " failed at: " + abbreviate(sql) + ": " + e.getMessage()
                    + "; roll the transaction back", e);
        }
    }

    private void refuseExisting(Connection target, String database) throws SQLException {
        List<String> existing = new ArrayList<>();
        try (PreparedStatement ps = target.prepareStatement("""
                SELECT w.s, w.n, w.kind FROM unnest(?::text[], ?::text[], ?::text[]) AS w(s, n, kind)
                WHERE CASE WHEN w.kind = 'function' THEN
                        EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace ns
                                ON ns.oid = p.pronamespace WHERE ns.nspname = w.s AND p.proname = w.n)
                      ELSE
                        EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns
                                ON ns.oid = c.relnamespace WHERE ns.nspname = w.s AND c.relname = w.n)
                        OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace ns
                                   ON ns.oid = t.typnamespace WHERE ns.nspname = w.s AND t.typname = w.n)
                      END""")) {
            ps.setArray(1, target.createArrayOf("text", created.stream().map(Named::schema).toArray()));
            ps.setArray(2, target.createArrayOf("text", created.stream().map(Named::name).toArray()));
            ps.setArray(3, target.createArrayOf("text", created.stream().map(Named::kind).toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    existing.add(r.getString(3) + " " + r.getString(1) + "." + r.getString(2));
                }
            }
        }
        if (!existing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": " + String.join(", ", existing) + " already exist there (names the clone's"
                    + " tables, views, sequences, indexes, types or functions would take); the target must be a new,"
                    + " empty database: nothing was changed");
        }
    }

    private void refuseMissingRoles(Connection target, String database) throws SQLException {
        List<String> missing = new ArrayList<>();
        try (PreparedStatement ps = target.prepareStatement("SELECT r FROM unnest(?::text[]) r WHERE NOT EXISTS"
                + " (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) ORDER BY r")) {
            ps.setArray(1, target.createArrayOf("text", roles.toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    missing.add(r.getString(1));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": the roles " + missing + " own objects or hold grants in the source but do not"
                    + " exist on the target's server (roles belong to a server, not a database); create them there"
                    + " first (CREATE ROLE ...): nothing was changed");
        }
    }

    private void refuseMissingExtensions(Connection target, String database) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Extension e : extensions) {
            try (PreparedStatement ps = target.prepareStatement("""
                    SELECT (SELECT x.extversion || ' in schema ' || n.nspname FROM pg_catalog.pg_extension x
                            JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = ?),
                           EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions v
                                   WHERE v.name = ? AND v.version = ?)""")) {
                ps.setString(1, e.name());
                ps.setString(2, e.name());
                ps.setString(3, e.version());
                try (ResultSet r = ps.executeQuery()) {
                    r.next();
                    String installed = r.getString(1);
                    String wanted = e.version() + " in schema " + e.schema();
                    if (installed != null && !installed.equals(wanted)) {
                        problems.add("extension " + e.name() + " is installed there as " + installed + ", the source"
                                + " has " + wanted + " (ALTER EXTENSION ... UPDATE / SET SCHEMA on one of them)");
                    } else if (installed == null && !r.getBoolean(2)) {
                        problems.add("extension " + e.name() + " " + e.version() + " is not available on the"
                                + " target's server (install its files there, e.g. the server's contrib package)");
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": " + String.join("; ", problems) + ": nothing was changed");
        }
    }

    private void refuseMissingToolObjects(Connection target, String database) throws SQLException {
        List<String> missing = new ArrayList<>();
        for (Requirement q : requirements) {
            String check = q.function() ? "SELECT pg_catalog.to_regprocedure(?) IS NOT NULL"
                    : "SELECT pg_catalog.to_regtype(?) IS NOT NULL";
            try (PreparedStatement ps = target.prepareStatement(check)) {
                ps.setString(1, q.identity());
                try (ResultSet r = ps.executeQuery()) {
                    r.next();
                    if (!r.getBoolean(1)) {
                        missing.add(q.identity() + " (used by " + q.usedBy() + ")");
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schema into database "
                    + database + ": it uses " + String.join(", ", missing) + " of the shardring schema, which the"
                    + " target lacks; install the shardring schema there first: nothing was changed");
        }
    }

    private static String setLocal(Connection c, String setting, String value) throws SQLException {
        String old = string(c, "SELECT pg_catalog.current_setting(" + literal(setting) + ")");
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.set_config(?, ?, true)")) {
            ps.setString(1, setting);
            ps.setString(2, value);
            ps.execute();
        }
        return old;
    }

    private static String string(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }

    private static String abbreviate(String sql) {
        String flat = sql.replaceAll("\\s+", " ").trim();
        return flat.length() <= 300 ? flat : flat.substring(0, 300) + "...";
    }

    private static ShardringException refused(String what) {
        return new ShardringException(ErrorCode.INVALID_CONFIGURATION, what);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** A catalog row: the catalog's name (pg_class, pg_type, ...) and the row's OID, as pg_depend names objects. */
    private record Obj(String catalog, long oid) {
    }

    /** A catalog row or one of its columns, as pg_description names what a comment is on. */
    private record Described(String catalog, long oid, int subId) {
    }

    /** ALTER ... OWNER TO role, rendered only when role is not the connecting role. */
    private record Owner(String alter, String role) {
    }

    /** A name the clone takes on the target, for the check that the target does not have it yet. */
    private record Named(String kind, String schema, String name) {
    }

    private record Extension(String name, String schema, String version) {
    }

    /** A function or type of the shardring schema the clone uses (a default calling shardring.uuid_v7()). */
    private record Requirement(boolean function, String identity, String usedBy) {
    }

    /** One aclexplode row; null grantor or grantee is PUBLIC. */
    private record AclEntry(String grantor, String grantee, String privilege, boolean grantable) {
    }

    /** One column as pg_attribute and pg_attrdef describe it; collate is " COLLATE ..." when not the type's. */
    private record Column(int num, String name, String type, boolean notNull, String identity, String generated,
                          String expression, long defaultOid, String collate, String storage, String compression,
                          Integer statistics, String[] options, String acl) {
    }

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
            return quote(schema) + "." + quote(name);
        }
    }

    /**
     * One or a few statements that make some catalog rows (see {@code Reader.define}); they must run after the
     * statements that make what its source rows depend on in the source's pg_depend ({@code Reader.source}), and
     * after the items that make {@code needs}.
     * {@code phase} orders items that do not depend on each other the way a reader expects (types, functions,
     * tables, constraints, ...).
     */
    private static final class Item {
        final int phase;
        final int seq;
        final String label;
        final List<String> sql = new ArrayList<>();
        final Set<Obj> needs = new HashSet<>();
        final Set<Item> after = new HashSet<>();

        Item(int phase, int seq, String label) {
            this.phase = phase;
            this.seq = seq;
            this.label = label;
        }
    }

    private static final int SCHEMA = 0;
    private static final int EXTENSION = 1;
    private static final int TYPE = 2;
    private static final int FUNCTION = 3;
    private static final int SEQUENCE = 4;
    private static final int TABLE = 5;
    private static final int VIEW = 6;
    private static final int OWNED_BY = 7;
    private static final int CONSTRAINT = 8;
    private static final int INDEX = 9;
    private static final int FOREIGN_KEY = 10;
    private static final int TRIGGER = 11;
    private static final int POLICY = 12;
    private static final int TABLE_OPTIONS = 13;

    @FunctionalInterface
    private interface RowHandler {
        void row(ResultSet r) throws SQLException;
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** One reading of a source database; collects items, owners, grants and what it cannot clone. */
    private static final class Reader {
        private final Connection c;
        private final List<String> schemas;
        private final List<Item> items = new ArrayList<>();
        private final Map<Obj, Item> definedBy = new HashMap<>();
        private final Map<Obj, Item> sourcedBy = new HashMap<>();
        private final Map<Described, String> commentTargets = new HashMap<>();
        private final Map<Long, Sequence> sequences = new LinkedHashMap<>();
        private final Set<String> schemaItems = new HashSet<>();
        private final Set<String> problems = new LinkedHashSet<>();
        private final List<Owner> owners = new ArrayList<>();
        private final List<String> grants = new ArrayList<>();
        private final List<String> tables = new ArrayList<>();
        private final List<Named> created = new ArrayList<>();
        private final Set<String> roles = new TreeSet<>();
        private final List<Extension> extensions = new ArrayList<>();
        private final Map<String, Requirement> requirements = new LinkedHashMap<>();
        private String role;

        Reader(Connection c, List<String> schemas) {
            this.c = c;
            this.schemas = List.copyOf(new LinkedHashSet<>(schemas));
        }

        SchemaClone read() throws SQLException {
            if (schemas.contains(TOOL_SCHEMA)) {
                throw refused("the shardring schema is the tool's own and is never cloned (init installs it on each"
                        + " node); leave it out of the schemas to clone");
            }
            boolean local = !c.getAutoCommit();
            String path = string(c, "SELECT pg_catalog.current_setting('search_path')");
            set("", local);
            try {
                SchemaClone clone = readAll();
                set(path, local);
                return clone;
            } catch (SQLException | RuntimeException e) {
                try {
                    set(path, local);
                } catch (SQLException restore) {
                    e.addSuppressed(restore); // an aborted transaction reverts its local settings anyway
                }
                throw e;
            }
        }

        /**
         * search_path = '' makes the deparsers qualify every name; pg_catalog is still searched implicitly. Local to
         * the caller's transaction if there is one, so that an error there cannot leave it behind.
         */
        private void set(String path, boolean local) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.set_config('search_path', ?, ?)")) {
                ps.setString(1, path);
                ps.setBoolean(2, local);
                ps.execute();
            }
        }

        private SchemaClone readAll() throws SQLException {
            role = string(c, "SELECT current_user");
            schemas(schemas, true);
            unsupported();
            extensions();
            types();
            functions();
            sequences();
            relations();
            defaultPrivileges();
            dependencies();
            if (!problems.isEmpty()) {
                throw refused("cannot clone the schemas " + schemas + ": " + String.join("; ", problems)
                        + ". Change or remove these objects first, or leave their schema out; nothing was cloned");
            }
            List<String> body = new ArrayList<>();
            for (Item i : order()) {
                body.addAll(i.sql);
            }
            body.addAll(comments());
            return new SchemaClone(this, body);
        }

        // --- queries -----------------------------------------------------------------------------------------------

        private void each(String sql, RowHandler handler, Object... params) throws SQLException {
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

        private static String[] strings(ResultSet r, int column) throws SQLException {
            Array a = r.getArray(column);
            return a == null ? null : (String[]) a.getArray();
        }

        private Item item(int phase, String label) {
            Item i = new Item(phase, items.size(), label);
            items.add(i);
            return i;
        }

        private void define(Item item, String catalog, long oid) {
            if (oid != 0) {
                definedBy.put(new Obj(catalog, oid), item);
            }
        }

        private void source(Item item, String catalog, long oid) {
            sourcedBy.put(new Obj(catalog, oid), item);
        }

        private static String qualified(String schema, String name) {
            return quote(schema) + "." + quote(name);
        }

        // --- schemas and extensions --------------------------------------------------------------------------------

        /** CREATE SCHEMA IF NOT EXISTS (public is there already), owner and explicit privileges. */
        private void schemas(List<String> names, boolean mustExist) throws SQLException {
            Set<String> found = new HashSet<>();
            each("""
                    SELECT n.oid, n.nspname, pg_get_userbyid(n.nspowner)::text,
                           coalesce(n.nspacl, acldefault('n', n.nspowner))::text
                    FROM pg_namespace n WHERE n.nspname = ANY(?) ORDER BY n.nspname""", r -> {
                String name = r.getString(2);
                found.add(name);
                if (!schemaItems.add(name) || name.equals("pg_catalog")) {
                    return;
                }
                Item i = item(SCHEMA, "schema " + name);
                define(i, "pg_namespace", r.getLong(1));
                i.sql.add("CREATE SCHEMA IF NOT EXISTS " + quote(name));
                owners.add(new Owner("ALTER SCHEMA " + quote(name), r.getString(3)));
                roles.add(r.getString(3));
                // always explicit: a schema that already exists on the target (public) keeps the target's
                // privileges otherwise
                acl("SCHEMA " + quote(name), "schema " + name, r.getString(3), r.getString(4));
                commentTargets.put(new Described("pg_namespace", r.getLong(1), 0), "COMMENT ON SCHEMA " + quote(name));
            }, names);
            if (mustExist) {
                List<String> missing = new ArrayList<>(names);
                missing.removeAll(found);
                if (!missing.isEmpty()) {
                    throw refused("cannot clone the schemas " + names + ": " + missing + " do not exist in the source"
                            + " database (schema names are case-sensitive)");
                }
            }
        }

        /**
         * Every extension of the database but plpgsql, in its schema and version: whether or not the cloned objects
         * use one, the database has it and code may call it.
         */
        private void extensions() throws SQLException {
            List<String> extensionSchemas = new ArrayList<>();
            each("""
                    SELECT e.oid, e.extname, n.nspname, e.extversion FROM pg_extension e
                    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.extname""",
                    r -> {
                        String name = r.getString(2);
                        String schema = r.getString(3);
                        if (schema.equals(TOOL_SCHEMA)) {
                            problems.add("extension " + name + " is installed in the shardring schema, which is the"
                                    + " tool's own (ALTER EXTENSION " + name + " SET SCHEMA another one)");
                            return;
                        }
                        Item i = item(EXTENSION, "extension " + name);
                        define(i, "pg_extension", r.getLong(1));
                        source(i, "pg_extension", r.getLong(1));
                        i.sql.add("CREATE EXTENSION IF NOT EXISTS " + quote(name) + " WITH SCHEMA " + quote(schema)
                                + " VERSION " + literal(r.getString(4)));
                        extensions.add(new Extension(name, schema, r.getString(4)));
                        extensionSchemas.add(schema);
                    });
            schemas(extensionSchemas, false);
        }

        // --- what cannot be cloned ---------------------------------------------------------------------------------

        /** Every object of the schemas (or of the database) the clone cannot reproduce, with why. */
        private void unsupported() throws SQLException {
            each("""
                    WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ANY(?)),
                    o(classid, objid, why) AS (
                      SELECT 'pg_class'::regclass, c.oid, 'a partitioned table: not supported by adopt yet'
                        FROM pg_class c WHERE c.relkind = 'p' AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a partition: partitioning is not supported by'
                        || ' adopt yet' FROM pg_class c WHERE c.relispartition
                        AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_class'::regclass, c.oid, 'table inheritance (INHERITS) is not supported'
                        FROM pg_class c WHERE c.relkind = 'r' AND NOT c.relispartition
                        AND c.relnamespace IN (SELECT oid FROM ns) AND EXISTS (SELECT 1 FROM pg_inherits i
                        WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
                      UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a typed table (OF type) is not supported'
                        FROM pg_class c WHERE c.reloftype <> 0 AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a foreign table is not supported'
                        FROM pg_class c WHERE c.relkind = 'f' AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_class'::regclass, c.oid, 'stored in a tablespace other than the'
                        || ' database''s default; tablespaces belong to one server (ALTER ... SET TABLESPACE'
                        || ' pg_default)' FROM pg_class c WHERE c.reltablespace <> 0 AND c.relkind IN ('r', 'm', 'i')
                        AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_class'::regclass, i.indexrelid, 'an invalid index, e.g. left by a failed'
                        || ' CREATE INDEX CONCURRENTLY (drop it or REINDEX it)' FROM pg_index i JOIN pg_class c
                        ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT DISTINCT 'pg_class'::regclass, t.tgrelid, 'its foreign-key triggers are'
                        || ' disabled (ALTER TABLE ... DISABLE TRIGGER ALL): its rows may break its foreign keys'
                        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgisinternal
                        AND t.tgenabled <> 'O' AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_rewrite'::regclass, r.oid, 'rules are not supported' FROM pg_rewrite r
                        JOIN pg_class c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
                        AND c.relnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_proc'::regclass, p.oid, 'aggregates are not supported' FROM pg_proc p
                        WHERE p.prokind = 'a' AND p.pronamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_type'::regclass, t.oid, 'only enum, domain and composite types are'
                        || ' supported' FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns)
                        AND (t.typtype NOT IN ('e', 'd', 'c', 'b') OR (t.typtype = 'b' AND NOT EXISTS
                        (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)))
                      UNION ALL SELECT 'pg_collation'::regclass, oid, 'not supported' FROM pg_collation
                        WHERE collnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_conversion'::regclass, oid, 'not supported' FROM pg_conversion
                        WHERE connamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_operator'::regclass, oid, 'not supported' FROM pg_operator
                        WHERE oprnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_opclass'::regclass, oid, 'not supported' FROM pg_opclass
                        WHERE opcnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_opfamily'::regclass, oid, 'not supported' FROM pg_opfamily
                        WHERE opfnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_ts_config'::regclass, oid, 'not supported' FROM pg_ts_config
                        WHERE cfgnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_ts_dict'::regclass, oid, 'not supported' FROM pg_ts_dict
                        WHERE dictnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_ts_parser'::regclass, oid, 'not supported' FROM pg_ts_parser
                        WHERE prsnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_ts_template'::regclass, oid, 'not supported' FROM pg_ts_template
                        WHERE tmplnamespace IN (SELECT oid FROM ns)
                      UNION ALL SELECT 'pg_cast'::regclass, oid, 'user-defined casts are not supported'
                        FROM pg_cast WHERE oid >= 16384
                      UNION ALL SELECT 'pg_event_trigger'::regclass, oid, 'event triggers (database-wide) are not'
                        || ' supported' FROM pg_event_trigger)
                    SELECT pg_describe_object(o.classid, o.objid, 0), o.why FROM o
                    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid
                                      AND d.deptype = 'e')
                    ORDER BY 1""", r -> problems.add(r.getString(1) + ": " + r.getString(2)), schemas);
        }

        // --- types -------------------------------------------------------------------------------------------------

        /** Not made by an extension (CREATE EXTENSION makes those); leading blank because text blocks trim theirs. */
        private static final String NOT_MEMBER = " NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid ="
                + " '%s'::regclass AND x.objid = %s AND x.deptype = 'e')";

        private void types() throws SQLException {
            each("""
                    SELECT t.oid, n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner)::text, t.typacl::text,
                           t.typrelid, t.typarray, format_type(t.typbasetype, t.typtypmod),
                           pg_get_expr(t.typdefaultbin, 0), t.typnotnull, cn.nspname, co.collname
                    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                    LEFT JOIN pg_type b ON b.oid = t.typbasetype
                    LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> b.typcollation
                    LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                    WHERE n.nspname = ANY(?) AND (t.typtype IN ('e', 'd')
                          OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
                      AND """ + NOT_MEMBER.formatted("pg_type", "t.oid") + " ORDER BY n.nspname, t.typname", r -> {
                long oid = r.getLong(1);
                String schema = r.getString(2);
                String name = r.getString(3);
                String kind = r.getString(4);
                String q = qualified(schema, name);
                boolean domain = kind.equals("d");
                Item i = item(TYPE, (domain ? "domain " : "type ") + schema + "." + name);
                define(i, "pg_type", oid);
                define(i, "pg_type", r.getLong(8));
                define(i, "pg_class", r.getLong(7));
                source(i, "pg_type", oid);
                created.add(new Named(domain ? "domain" : "type", schema, name));
                String keyword = domain ? "DOMAIN " : "TYPE ";
                owners.add(new Owner("ALTER " + keyword + q, r.getString(5)));
                roles.add(r.getString(5));
                if (r.getString(6) != null) {
                    acl(keyword + q, "type " + schema + "." + name, r.getString(5), r.getString(6));
                }
                commentTargets.put(new Described("pg_type", oid, 0), "COMMENT ON " + keyword + q);
                switch (kind) {
                    case "e" -> i.sql.add("CREATE TYPE " + q + " AS ENUM (" + String.join(", ", enumLabels(oid)) + ")");
                    case "c" -> {
                        source(i, "pg_class", r.getLong(7));
                        i.sql.add("CREATE TYPE " + q + " AS ("
                                + String.join(", ", compositeAttributes(q, r.getLong(7))) + ")");
                    }
                    default -> domain(i, oid, q, r);
                }
            }, schemas);
        }

        private List<String> enumLabels(long type) throws SQLException {
            List<String> labels = new ArrayList<>();
            each("SELECT enumlabel FROM pg_enum WHERE enumtypid = ? ORDER BY enumsortorder",
                    r -> labels.add(literal(r.getString(1))), type);
            return labels;
        }

        private List<String> compositeAttributes(String type, long relation) throws SQLException {
            List<String> out = new ArrayList<>();
            for (Column col : columns(relation)) {
                out.add(quote(col.name()) + " " + col.type() + col.collate());
                commentTargets.put(new Described("pg_class", relation, col.num()), "COMMENT ON COLUMN " + type + "."
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
            each("""
                    SELECT k.oid, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k
                    WHERE k.contypid = ? ORDER BY k.conname""", r -> {
                if (r.getString(3).equals("n")) { // PostgreSQL 17 catalogs a domain's NOT NULL with a name
                    namedNotNull[0] = true;
                    sql.append(" CONSTRAINT ").append(quote(r.getString(2))).append(" NOT NULL");
                    return;
                }
                Item check = item(TYPE, "constraint " + r.getString(2) + " of domain " + q);
                define(check, "pg_constraint", r.getLong(1));
                source(check, "pg_constraint", r.getLong(1));
                check.needs.add(new Obj("pg_type", oid));
                check.sql.add("ALTER DOMAIN " + q + " ADD CONSTRAINT " + quote(r.getString(2)) + " "
                        + r.getString(4));
                commentTargets.put(new Described("pg_constraint", r.getLong(1), 0),
                        "COMMENT ON CONSTRAINT " + quote(r.getString(2)) + " ON DOMAIN " + q);
            }, oid);
            if (type.getBoolean(11) && !namedNotNull[0]) {
                sql.append(" NOT NULL");
            }
            i.sql.add(sql.toString());
        }

        // --- functions ---------------------------------------------------------------------------------------------

        private void functions() throws SQLException {
            each("""
                    SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                           pg_get_userbyid(p.proowner)::text, p.proacl::text, pg_get_functiondef(p.oid)
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = ANY(?) AND p.prokind <> 'a' AND """ + NOT_MEMBER.formatted("pg_proc", "p.oid")
                    + " ORDER BY n.nspname, p.proname, p.oid", r -> {
                String label = "function " + r.getString(2) + "." + r.getString(3) + "(" + r.getString(4) + ")";
                String routine = "ROUTINE " + qualified(r.getString(2), r.getString(3)) + "(" + r.getString(4) + ")";
                Item i = item(FUNCTION, label);
                define(i, "pg_proc", r.getLong(1));
                source(i, "pg_proc", r.getLong(1));
                i.sql.add(createOnly(r.getString(7)));
                created.add(new Named("function", r.getString(2), r.getString(3)));
                owners.add(new Owner("ALTER " + routine, r.getString(5)));
                roles.add(r.getString(5));
                if (r.getString(6) != null) {
                    acl(routine, label, r.getString(5), r.getString(6));
                }
                commentTargets.put(new Described("pg_proc", r.getLong(1), 0), "COMMENT ON " + routine);
            }, schemas);
        }

        /** pg_get_functiondef says CREATE OR REPLACE; on the target, replacing a function silently is wrong. */
        private static String createOnly(String definition) {
            String prefix = "CREATE OR REPLACE ";
            return definition.startsWith(prefix) ? "CREATE " + definition.substring(prefix.length()) : definition;
        }

        // --- sequences ---------------------------------------------------------------------------------------------

        /**
         * Every sequence of the schemas with its options and owning column. Not its current value: a new node's
         * sequences are set to the node's own id range afterwards.
         */
        private void sequences() throws SQLException {
            each("""
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
                    WHERE n.nspname = ANY(?) AND """ + NOT_MEMBER.formatted("pg_class", "c.oid")
                    + " ORDER BY n.nspname, c.relname", r -> sequences.put(r.getLong(1), new Sequence(r.getLong(1),
                    r.getString(2), r.getString(3), r.getString(4), r.getLong(5), r.getLong(6), r.getLong(7),
                    r.getLong(8), r.getLong(9), r.getBoolean(10), r.getBoolean(11), r.getString(12), r.getLong(13),
                    r.getString(14), r.getString(15), r.getString(16))), schemas);
        }

        /** A sequence of its own (serial's, or free): CREATE SEQUENCE, and OWNED BY once its table exists. */
        private void sequence(Sequence s, String owner, String relAcl) throws SQLException {
            String q = s.qualified();
            created.add(new Named("sequence", s.schema(), s.name()));
            commentTargets.put(new Described("pg_class", s.oid(), 0), "COMMENT ON SEQUENCE " + q);
            if (relAcl != null) {
                acl("SEQUENCE " + q, "sequence " + s.schema() + "." + s.name(), owner, relAcl);
            }
            if ("i".equals(s.ownedBy())) {
                return; // an identity's: its column makes it
            }
            Item i = item(SEQUENCE, "sequence " + s.schema() + "." + s.name());
            define(i, "pg_class", s.oid());
            i.sql.add("CREATE " + (s.unlogged() ? "UNLOGGED " : "") + "SEQUENCE " + q + " " + s.options(true));
            if (s.ownedBy() == null) {
                owners.add(new Owner("ALTER SEQUENCE " + q, owner)); // an owned one follows its table's owner
                roles.add(owner);
                return;
            }
            Item ownedBy = item(OWNED_BY, "ownership of sequence " + s.schema() + "." + s.name());
            source(ownedBy, "pg_class", s.oid()); // its pg_depend rows name the owning table
            ownedBy.needs.add(new Obj("pg_class", s.oid()));
            ownedBy.sql.add("ALTER SEQUENCE " + q + " OWNED BY " + qualified(s.tableSchema(), s.tableName()) + "."
                    + quote(s.column()));
        }

        // --- relations ---------------------------------------------------------------------------------------------

        private void relations() throws SQLException {
            each("""
                    SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relpersistence = 'u', c.relrowsecurity,
                           c.relforcerowsecurity, c.relreplident::text, c.reloptions::text[], am.amname,
                           pg_get_userbyid(c.relowner)::text, c.relacl::text, c.reltype, rt.typarray,
                           tc.reloptions::text[]
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    LEFT JOIN pg_am am ON am.oid = c.relam
                    LEFT JOIN pg_type rt ON rt.oid = c.reltype
                    LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
                    WHERE n.nspname = ANY(?) AND c.relkind IN ('r', 'v', 'm', 'S') AND NOT c.relispartition
                      AND """ + NOT_MEMBER.formatted("pg_class", "c.oid") + " ORDER BY n.nspname, c.relname", r -> {
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

        /** One table, view or materialized view as pg_class describes it. */
        private record Relation(long oid, String schema, String name, String kind, boolean unlogged,
                                boolean rowSecurity, boolean forceRowSecurity, String replicaIdentity,
                                String[] options, String accessMethod, String owner, String acl, long rowType,
                                long rowArrayType, String[] toastOptions) {
            String qualified() {
                return SchemaClone.Reader.qualified(schema, name);
            }

            String label() {
                return (kind.equals("r") ? "table " : kind.equals("v") ? "view " : "materialized view ")
                        + schema + "." + name;
            }

            String keyword() {
                return kind.equals("r") ? "TABLE" : kind.equals("v") ? "VIEW" : "MATERIALIZED VIEW";
            }
        }

        private void relation(Relation rel) throws SQLException {
            List<Column> columns = columns(rel.oid());
            Item i = item(rel.kind().equals("r") ? TABLE : VIEW, rel.label());
            define(i, "pg_class", rel.oid());
            define(i, "pg_type", rel.rowType());
            define(i, "pg_type", rel.rowArrayType());
            created.add(new Named(rel.keyword().toLowerCase(Locale.ROOT), rel.schema(), rel.name()));
            switch (rel.kind()) {
                case "r" -> table(i, rel, columns);
                case "v" -> view(i, rel, columns);
                default -> materializedView(i, rel);
            }
            owners.add(new Owner("ALTER " + rel.keyword() + " " + rel.qualified(), rel.owner()));
            roles.add(rel.owner());
            if (rel.acl() != null) {
                acl("TABLE " + rel.qualified(), rel.label(), rel.owner(), rel.acl());
            }
            commentTargets.put(new Described("pg_class", rel.oid(), 0), "COMMENT ON " + rel.keyword() + " "
                    + rel.qualified());
            for (Column col : columns) {
                String column = rel.qualified() + "." + quote(col.name());
                commentTargets.put(new Described("pg_class", rel.oid(), col.num()), "COMMENT ON COLUMN " + column);
                if (col.acl() != null) {
                    columnAcl(rel, col);
                }
            }
            if (!rel.kind().equals("v")) {
                indexes(rel);
            }
            triggers(rel);
        }

        private List<Column> columns(long relation) throws SQLException {
            List<Column> out = new ArrayList<>();
            each("""
                    SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END,
                           CASE WHEN a.attgenerated <> '' THEN a.attgenerated::text END,
                           pg_get_expr(d.adbin, d.adrelid), d.oid,
                           CASE WHEN a.attcollation <> t.typcollation THEN cn.nspname END,
                           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
                           CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN'
                                WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' WHEN 'x' THEN 'EXTENDED' END END,
                           CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
                           nullif(a.attstattarget, -1), a.attoptions::text[], a.attacl::text
                    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                    LEFT JOIN pg_collation co ON co.oid = a.attcollation
                    LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                    WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""",
                    r -> out.add(new Column(r.getInt(1), r.getString(2), r.getString(3), r.getBoolean(4),
                            r.getString(5), r.getString(6), r.getString(7), r.getLong(8),
                            r.getString(10) == null ? "" : " COLLATE " + qualified(r.getString(9), r.getString(10)),
                            r.getString(11), r.getString(12), r.getObject(13, Integer.class), strings(r, 14),
                            r.getString(15))), relation);
            return out;
        }

        private void table(Item i, Relation rel, List<Column> columns) throws SQLException {
            String q = rel.qualified();
            source(i, "pg_class", rel.oid());
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
            tables.add(rel.schema() + "." + rel.name());
            constraints(rel);
            policies(rel);
            statistics(rel);
            replicaIdentity(rel);
        }

        private String columnDefinition(Item table, Relation rel, Column col) {
            StringBuilder d = new StringBuilder(quote(col.name())).append(' ').append(col.type())
                    .append(col.collate());
            if (col.defaultOid() != 0) {
                source(table, "pg_attrdef", col.defaultOid());
            }
            if (col.identity() != null) {
                Sequence s = identitySequence(rel, col);
                define(table, "pg_class", s.oid());
                d.append(" GENERATED ").append(col.identity()).append(" AS IDENTITY (SEQUENCE NAME ")
                        .append(s.qualified()).append(' ').append(s.options(false)).append(')');
            } else if ("s".equals(col.generated())) {
                d.append(" GENERATED ALWAYS AS (").append(col.expression()).append(") STORED");
            } else if (col.generated() != null) {
                problems.add("column " + col.name() + " of " + rel.label() + ": generated columns of kind '"
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
            throw refused("cannot clone " + rel.label() + ": the sequence of identity column " + col.name()
                    + " was not found in the catalogs");
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
                    source(i, "pg_attrdef", col.defaultOid());
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
            each("""
                    SELECT r.oid, pg_get_viewdef(?::oid, false) FROM pg_rewrite r
                    WHERE r.ev_class = ? AND r.rulename = '_RETURN'""", r -> {
                define(i, "pg_rewrite", r.getLong(1));
                source(i, "pg_rewrite", r.getLong(1));
                definition[0] = r.getString(2).strip();
            }, rel.oid(), rel.oid());
            if (definition[0] == null) {
                throw refused("cannot clone " + rel.label() + ": its query (the _RETURN rule) was not found");
            }
            String d = definition[0];
            return d.endsWith(";") ? d.substring(0, d.length() - 1) : d;
        }

        private void constraints(Relation rel) throws SQLException {
            each("""
                    SELECT k.oid, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.conindid
                    FROM pg_constraint k WHERE k.conrelid = ? AND k.contype IN ('p', 'u', 'c', 'x', 'f')
                    ORDER BY k.conname""", r -> {
                boolean foreignKey = r.getString(3).equals("f");
                String name = r.getString(2);
                Item i = item(foreignKey ? FOREIGN_KEY : CONSTRAINT, "constraint " + name + " of " + rel.label());
                define(i, "pg_constraint", r.getLong(1));
                source(i, "pg_constraint", r.getLong(1));
                if (!foreignKey) {
                    define(i, "pg_class", r.getLong(5)); // the index of a key or exclusion constraint
                }
                i.sql.add("ALTER TABLE " + rel.qualified() + " ADD CONSTRAINT " + quote(name) + " " + r.getString(4));
                commentTargets.put(new Described("pg_constraint", r.getLong(1), 0), "COMMENT ON CONSTRAINT "
                        + quote(name) + " ON " + rel.qualified());
            }, rel.oid());
        }

        /** Indexes that back no constraint (those come with their constraint), and CLUSTER ON. */
        private void indexes(Relation rel) throws SQLException {
            each("""
                    SELECT i.indexrelid, c.relname, pg_get_indexdef(i.indexrelid), i.indisclustered,
                           EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                                   AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
                    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ?
                    ORDER BY c.relname""", r -> {
                String q = qualified(rel.schema(), r.getString(2));
                commentTargets.put(new Described("pg_class", r.getLong(1), 0), "COMMENT ON INDEX " + q);
                if (!r.getBoolean(5)) {
                    Item i = item(INDEX, "index " + rel.schema() + "." + r.getString(2));
                    define(i, "pg_class", r.getLong(1));
                    source(i, "pg_class", r.getLong(1));
                    i.sql.add(r.getString(3));
                    created.add(new Named("index", rel.schema(), r.getString(2)));
                }
                if (r.getBoolean(4)) {
                    Item cluster = item(TABLE_OPTIONS, "CLUSTER ON of " + rel.label());
                    cluster.needs.add(new Obj("pg_class", r.getLong(1)));
                    cluster.sql.add("ALTER " + rel.keyword() + " " + rel.qualified() + " CLUSTER ON "
                            + quote(r.getString(2)));
                }
            }, rel.oid());
        }

        /**
         * REPLICA IDENTITY when not the default: logical replication, which moves rows between nodes, depends on it.
         */
        private void replicaIdentity(Relation rel) throws SQLException {
            String alter = "ALTER TABLE " + rel.qualified() + " REPLICA IDENTITY ";
            switch (rel.replicaIdentity()) {
                case "d" -> { }
                case "n" -> item(TABLE_OPTIONS, "replica identity of " + rel.label()).sql.add(alter + "NOTHING");
                case "f" -> item(TABLE_OPTIONS, "replica identity of " + rel.label()).sql.add(alter + "FULL");
                default -> each("""
                        SELECT i.indexrelid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                        WHERE i.indrelid = ? AND i.indisreplident""", r -> {
                    Item i = item(TABLE_OPTIONS, "replica identity of " + rel.label());
                    i.needs.add(new Obj("pg_class", r.getLong(1)));
                    i.sql.add(alter + "USING INDEX " + quote(r.getString(2)));
                }, rel.oid());
            }
        }

        /**
         * Application triggers with their enabled state. Internal ones come with their constraints, and the tool's
         * own ({@code shardring_*}, or calling a function of the shardring schema) are installed by the tool.
         */
        private void triggers(Relation rel) throws SQLException {
            each("""
                    SELECT t.oid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text, pn.nspname
                    FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                    JOIN pg_namespace pn ON pn.oid = p.pronamespace
                    WHERE t.tgrelid = ? AND NOT t.tgisinternal ORDER BY t.tgname""", r -> {
                String name = r.getString(2);
                if (name.startsWith(TOOL_PREFIX) || r.getString(5).equals(TOOL_SCHEMA)) {
                    return;
                }
                Item i = item(TRIGGER, "trigger " + name + " on " + rel.label());
                define(i, "pg_trigger", r.getLong(1));
                source(i, "pg_trigger", r.getLong(1));
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
                commentTargets.put(new Described("pg_trigger", r.getLong(1), 0), "COMMENT ON TRIGGER "
                        + quote(name) + " ON " + rel.qualified());
            }, rel.oid());
        }

        /** Row-level security policies: their expressions deparsed by pg_get_expr, their roles by name. */
        private void policies(Relation rel) throws SQLException {
            each("""
                    SELECT p.oid, p.polname, p.polcmd::text, p.polpermissive,
                           ARRAY(SELECT CASE WHEN u.r = 0 THEN NULL ELSE pg_get_userbyid(u.r)::text END
                                 FROM unnest(p.polroles) WITH ORDINALITY AS u(r, n) ORDER BY u.n),
                           pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
                    FROM pg_policy p WHERE p.polrelid = ? ORDER BY p.polname""", r -> {
                String name = r.getString(2);
                Item i = item(POLICY, "policy " + name + " on " + rel.label());
                define(i, "pg_policy", r.getLong(1));
                source(i, "pg_policy", r.getLong(1));
                List<String> to = new ArrayList<>();
                for (String role : strings(r, 5)) {
                    to.add(role == null ? "PUBLIC" : quote(role));
                    if (role != null) {
                        roles.add(role);
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
                commentTargets.put(new Described("pg_policy", r.getLong(1), 0), "COMMENT ON POLICY " + quote(name)
                        + " ON " + rel.qualified());
            }, rel.oid());
        }

        /** Extended statistics (CREATE STATISTICS), which the planner's estimates on the new node depend on. */
        private void statistics(Relation rel) throws SQLException {
            each("""
                    SELECT s.oid, n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid),
                           pg_get_userbyid(s.stxowner)::text, nullif(s.stxstattarget, -1)
                    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE s.stxrelid = ?
                    ORDER BY s.stxname""", r -> {
                String label = "statistics object " + r.getString(2) + "." + r.getString(3);
                if (!schemas.contains(r.getString(2))) {
                    problems.add(label + " on " + rel.label() + " is in schema " + r.getString(2) + ", which is not"
                            + " cloned (ALTER STATISTICS ... SET SCHEMA " + rel.schema() + ")");
                    return;
                }
                String q = qualified(r.getString(2), r.getString(3));
                Item i = item(INDEX, label);
                define(i, "pg_statistic_ext", r.getLong(1));
                source(i, "pg_statistic_ext", r.getLong(1));
                i.sql.add(r.getString(4));
                if (r.getObject(6) != null) {
                    i.sql.add("ALTER STATISTICS " + q + " SET STATISTICS " + r.getInt(6));
                }
                owners.add(new Owner("ALTER STATISTICS " + q, r.getString(5)));
                roles.add(r.getString(5));
                commentTargets.put(new Described("pg_statistic_ext", r.getLong(1), 0), "COMMENT ON STATISTICS " + q);
            }, rel.oid());
        }

        // --- privileges --------------------------------------------------------------------------------------------

        /**
         * Makes the object's privileges exactly {@code aclText}: revoke what a new object has (PUBLIC's defaults and
         * the owner's), then grant each entry. Only grants the owner made can be replayed as they were: the clone
         * runs as the owner or a superuser, whose grants PostgreSQL records as the owner's.
         */
        private void acl(String object, String label, String owner, String aclText) throws SQLException {
            List<AclEntry> entries = explode(aclText, label, owner);
            grants.add("REVOKE ALL ON " + object + " FROM PUBLIC");
            grants.add("REVOKE ALL ON " + object + " FROM " + quote(owner));
            grants.addAll(grantStatements(entries, privilege -> privilege, " ON " + object));
        }

        private void columnAcl(Relation rel, Column col) throws SQLException {
            String label = "column " + col.name() + " of " + rel.label();
            List<AclEntry> entries = explode(col.acl(), label, rel.owner());
            grants.addAll(grantStatements(entries, privilege -> privilege + " (" + quote(col.name()) + ")",
                    " ON TABLE " + rel.qualified()));
        }

        /** One GRANT per grantee and grant option, privileges in aclexplode's order. */
        private List<String> grantStatements(List<AclEntry> entries, UnaryOperator<String> form,
                                             String on) {
            Map<String, List<String>> byGrantee = new LinkedHashMap<>();
            for (AclEntry e : entries) {
                String grantee = e.grantee() == null ? "PUBLIC" : quote(e.grantee());
                String key = grantee + (e.grantable() ? " WITH GRANT OPTION" : "");
                byGrantee.computeIfAbsent(key, k -> new ArrayList<>()).add(form.apply(e.privilege()));
            }
            List<String> out = new ArrayList<>();
            byGrantee.forEach((to, privileges) -> out.add("GRANT " + String.join(", ", privileges) + on + " TO " + to));
            return out;
        }

        private List<AclEntry> explode(String aclText, String label, String owner) throws SQLException {
            List<AclEntry> entries = new ArrayList<>();
            each("""
                    SELECT CASE WHEN a.grantor = 0 THEN NULL ELSE pg_get_userbyid(a.grantor)::text END,
                           CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END,
                           a.privilege_type, a.is_grantable
                    FROM aclexplode(?::aclitem[]) a""", r -> {
                AclEntry e = new AclEntry(r.getString(1), r.getString(2), r.getString(3), r.getBoolean(4));
                if (!PRIVILEGE.matcher(e.privilege()).matches()) {
                    throw refused("cannot clone the privileges on " + label + ": unexpected privilege '"
                            + e.privilege() + "'");
                }
                if (owner != null && !owner.equals(e.grantor())) {
                    problems.add("the grant of " + e.privilege() + " on " + label + " to "
                            + (e.grantee() == null ? "PUBLIC" : e.grantee()) + " was made by " + e.grantor()
                            + ", not by the owner " + owner + ", and cannot be replayed as it is (revoke it and"
                            + " let the owner grant it)");
                }
                if (e.grantee() != null) {
                    roles.add(e.grantee());
                }
                entries.add(e);
            }, aclText);
            return entries;
        }

        /**
         * ALTER DEFAULT PRIVILEGES of the database (global) and of the cloned schemas: the tables the application's
         * migrations create later on the new node must get the grants they get on the others. Run last, so that they
         * do not touch the cloned objects.
         */
        private void defaultPrivileges() throws SQLException {
            each("""
                    SELECT pg_get_userbyid(d.defaclrole)::text, n.nspname, d.defaclobjtype::text, d.defaclacl::text
                    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
                    WHERE d.defaclnamespace = 0 OR n.nspname = ANY(?) ORDER BY 1, 2, 3""", r -> {
                String kind = switch (r.getString(3)) {
                    case "r" -> "TABLES";
                    case "S" -> "SEQUENCES";
                    case "f" -> "ROUTINES";
                    case "T" -> "TYPES";
                    case "n" -> "SCHEMAS";
                    default -> null;
                };
                String schema = r.getString(2);
                String label = "default privileges of role " + r.getString(1) + (schema == null ? "" : " in schema "
                        + schema);
                if (kind == null) {
                    problems.add(label + " on objects of kind '" + r.getString(3) + "' are not supported");
                    return;
                }
                String owner = r.getString(1);
                roles.add(owner);
                String prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE " + quote(owner)
                        + (schema == null ? "" : " IN SCHEMA " + quote(schema));
                if (schema == null) { // a global entry replaces the built-in defaults rather than adding to them
                    grants.add(prefix + " REVOKE ALL ON " + kind + " FROM PUBLIC");
                    grants.add(prefix + " REVOKE ALL ON " + kind + " FROM " + quote(owner));
                }
                for (String grant : grantStatements(explode(r.getString(4), label, null), p -> p, " ON " + kind)) {
                    grants.add(prefix + " " + grant);
                }
            }, schemas);
        }

        // --- dependencies, order, comments -------------------------------------------------------------------------

        /**
         * Turns the source's pg_depend rows between user objects into "runs after" between items; a reference to an
         * object no item makes and no extension owns is a problem, except to the shardring schema's functions and
         * types, which the target must have (checked when applying).
         */
        private void dependencies() throws SQLException {
            Map<Obj, Obj> memberOf = new HashMap<>();
            each("""
                    SELECT classid::regclass::text, objid, refobjid FROM pg_depend
                    WHERE deptype = 'e' AND refclassid = 'pg_extension'::regclass""",
                    r -> memberOf.put(new Obj(r.getString(1), r.getLong(2)), new Obj("pg_extension", r.getLong(3))));
            Map<Long, Long> arrayOf = new HashMap<>();
            each("SELECT typarray, oid FROM pg_type WHERE typarray <> 0 AND oid >= 16384",
                    r -> arrayOf.put(r.getLong(1), r.getLong(2)));
            for (Item i : items) {
                for (Obj needed : i.needs) {
                    Item before = resolve(needed, memberOf, arrayOf);
                    if (before != null && before != i) {
                        i.after.add(before);
                    }
                }
            }
            each("""
                    SELECT d.classid::regclass::text, d.objid, d.refclassid::regclass::text, d.refobjid,
                           pg_describe_object(d.classid, d.objid, d.objsubid),
                           pg_describe_object(d.refclassid, coalesce((SELECT i.indrelid FROM pg_index i
                                  WHERE d.refclassid = 'pg_class'::regclass AND i.indexrelid = d.refobjid),
                                  d.refobjid), 0),
                           (pg_identify_object(d.refclassid, d.refobjid, 0)).schema,
                           (pg_identify_object(d.refclassid, d.refobjid, 0)).identity
                    FROM pg_depend d
                    WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384""", r -> {
                Item dependent = sourcedBy.get(new Obj(r.getString(1), r.getLong(2)));
                if (dependent == null) {
                    return;
                }
                Obj referenced = new Obj(r.getString(3), r.getLong(4));
                Item before = resolve(referenced, memberOf, arrayOf);
                if (before == null) {
                    unresolved(referenced, r.getString(5), r.getString(6), r.getString(7), r.getString(8));
                } else if (before != dependent) {
                    dependent.after.add(before);
                }
            });
        }

        private Item resolve(Obj o, Map<Obj, Obj> memberOf, Map<Long, Long> arrayOf) {
            if (o.oid() < FIRST_NORMAL_OID) {
                return null;
            }
            Item i = definedBy.get(o);
            if (i == null && o.catalog().equals("pg_type") && arrayOf.containsKey(o.oid())) {
                return resolve(new Obj("pg_type", arrayOf.get(o.oid())), memberOf, arrayOf);
            }
            if (i == null && memberOf.containsKey(o)) {
                i = definedBy.get(memberOf.get(o));
            }
            return i;
        }

        private void unresolved(Obj referenced, String dependent, String description, String schema,
                                String identity) {
            if (referenced.oid() < FIRST_NORMAL_OID) {
                return;
            }
            boolean function = referenced.catalog().equals("pg_proc");
            if (TOOL_SCHEMA.equals(schema) && (function || referenced.catalog().equals("pg_type"))) {
                requirements.putIfAbsent(identity, new Requirement(function, identity, dependent));
                return;
            }
            // an index is named by its table: a foreign key refers to both, and one line for the two is enough
            problems.add(dependent + " refers to " + description + ", which is not cloned (it is outside the schemas "
                    + schemas + "): add its schema to the clone, or drop the reference");
        }

        /** Kahn's algorithm; among items ready at once, the lower phase, then the reading order, goes first. */
        private List<Item> order() {
            Map<Item, List<Item>> followers = new HashMap<>();
            Map<Item, Integer> waiting = new HashMap<>();
            for (Item i : items) {
                waiting.put(i, i.after.size());
                for (Item before : i.after) {
                    followers.computeIfAbsent(before, k -> new ArrayList<>()).add(i);
                }
            }
            PriorityQueue<Item> ready = new PriorityQueue<>(
                    Comparator.comparingInt((Item i) -> i.phase).thenComparingInt(i -> i.seq));
            items.stream().filter(i -> i.after.isEmpty()).forEach(ready::add);
            List<Item> out = new ArrayList<>();
            while (!ready.isEmpty()) {
                Item i = ready.poll();
                out.add(i);
                for (Item f : followers.getOrDefault(i, List.of())) {
                    if (waiting.merge(f, -1, Integer::sum) == 0) {
                        ready.add(f);
                    }
                }
            }
            if (out.size() < items.size()) {
                List<String> stuck = items.stream().filter(i -> !out.contains(i)).map(i -> i.label).toList();
                throw refused("cannot clone the schemas " + schemas + ": these objects depend on each other in a"
                        + " circle that plain CREATE statements cannot make: " + stuck);
            }
            return out;
        }

        /** COMMENT ON for every comment on a cloned object (run before ownership moves away from the creator). */
        private List<String> comments() throws SQLException {
            List<String> out = new ArrayList<>();
            each("""
                    SELECT classoid::regclass::text, objoid, objsubid, description FROM pg_description
                    WHERE objoid >= 16384 ORDER BY 1, 2, 3""", r -> {
                String target = commentTargets.get(new Described(r.getString(1), r.getLong(2), r.getInt(3)));
                if (target != null) {
                    out.add(target + " IS " + literal(r.getString(4)));
                }
            });
            return out;
        }
    }

    @Override
    public String toString() {
        return "SchemaClone" + tables + " (" + body.size() + " statements)";
    }
}
