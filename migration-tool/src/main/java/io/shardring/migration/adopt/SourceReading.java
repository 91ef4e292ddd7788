package io.shardring.migration.adopt;

import static io.shardring.router.Sql.literal;

import io.shardring.migration.adopt.CloneGraph.Obj;
import io.shardring.migration.adopt.CloneParts.Requirement;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * One reading of a source database for {@code SchemaClone.read}: reads each kind of object in turn, refuses what it
 * cannot clone all at once, and puts the statements in dependency order. The session's search_path is empty while it
 * reads, so that the deparsers qualify every name, and is put back afterwards.
 */
final class SourceReading {

    /** The statements in the order they apply, what else the reading collected, and as whom it read. */
    record Result(String role, List<String> body, CloneParts parts) {
    }

    private final Connection c;
    private final CatalogQuery source;
    private final List<String> schemas;
    private final CloneGraph graph = new CloneGraph();
    private final CloneParts parts = new CloneParts();

    private SourceReading(Connection c, List<String> schemas) {
        this.c = c;
        this.source = new CatalogQuery(c);
        this.schemas = List.copyOf(new LinkedHashSet<>(schemas));
    }

    /** Reads the schemas of the database c is connected to; refuses, naming each, what the clone cannot reproduce. */
    static Result read(Connection c, List<String> schemas) throws SQLException {
        return new SourceReading(c, schemas).read();
    }

    private Result read() throws SQLException {
        if (schemas.contains(CloneParts.TOOL_SCHEMA)) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "the shardring schema is the tool's own"
                    + " and is never cloned (init installs it on each node); leave it out of the schemas to clone");
        }
        boolean local = !c.getAutoCommit();
        String path = CatalogQuery.string(c, "SELECT pg_catalog.current_setting('search_path')");
        set("", local);
        try {
            Result result = readAll();
            set(path, local);
            return result;
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

    private Result readAll() throws SQLException {
        String role = CatalogQuery.string(c, "SELECT current_user");
        PrivilegeReader privileges = new PrivilegeReader(source, parts);
        SchemaObjectReader objects = new SchemaObjectReader(source, schemas, graph, parts, privileges);
        RelationReader relations = new RelationReader(source, schemas, graph, parts, privileges);
        objects.schemas(schemas, true);
        UnsupportedObjects.find(source, schemas, parts);
        objects.extensions();
        objects.types();
        objects.functions();
        relations.sequences();
        relations.relations();
        privileges.defaultPrivileges(schemas);
        graph.link(source, this::unresolved);
        if (!parts.problems.isEmpty()) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schemas " + schemas
                    + ": " + String.join("; ", parts.problems)
                    + ". Change or remove these objects first, or leave their schema out; nothing was cloned");
        }
        List<String> body = graph.statements(schemas);
        body.addAll(comments());
        return new Result(role, body, parts);
    }

    /**
     * A reference to an object no item makes and no extension owns is a problem, except to the shardring schema's
     * functions and types, which the target must have (checked when applying).
     */
    private void unresolved(Obj referenced, String dependent, String description, String schema, String identity) {
        boolean function = referenced.catalog().equals("pg_proc");
        if (CloneParts.TOOL_SCHEMA.equals(schema) && (function || referenced.catalog().equals("pg_type"))) {
            parts.requirements.putIfAbsent(identity, new Requirement(function, identity, dependent));
            return;
        }
        // an index is named by its table: a foreign key refers to both, and one line for the two is enough
        parts.problems.add(dependent + " refers to " + description + ", which is not cloned (it is outside the schemas "
                + schemas + "): add its schema to the clone, or drop the reference");
    }

    /** COMMENT ON for every comment on a cloned object (run before ownership moves away from the creator). */
    private List<String> comments() throws SQLException {
        List<String> out = new ArrayList<>();
        source.each("""
                SELECT classoid::regclass::text, objoid, objsubid, description FROM pg_description
                WHERE objoid >= 16384 ORDER BY 1, 2, 3""", r -> {
            String target = parts.commentOn(r.getString(1), r.getLong(2), r.getInt(3));
            if (target != null) {
                out.add(target + " IS " + literal(r.getString(4)));
            }
        });
        return out;
    }
}
