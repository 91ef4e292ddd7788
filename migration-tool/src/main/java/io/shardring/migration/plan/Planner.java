package io.shardring.migration.plan;

import io.shardring.migration.support.PerNode;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Plans a topology change: applies it to the current topology, diffs the rings, makes one {@link MoveJob}
 * per (source, target) pair, counts each job's rows on its source, and inspects the shards for what
 * would make moving slow or unsafe.
 *
 * <p>The shards are only read (in one read-only, repeatable-read transaction per shard, so that a
 * shard's counts are one snapshot); the nodes of the current topology are inspected in parallel. An added
 * node is read too: its wal_level, the tool's rights there, whether it belongs to another ring, its tables.
 *
 * <p>Warnings: application schema versions that differ between shards; {@code wal_level} other than
 * {@code logical} on a source or target; what the tool's role may not do; a unique constraint without the key column.
 * Errors (the plan is then not executable): a sharded table missing on a shard, without its key column, with a key
 * column of another type than the ring's, or whose primary key does not include the key column (logical replication
 * with a row filter on the key needs the key in the replica identity to publish UPDATE and DELETE); a foreign key
 * that a move would break ({@link TableRules}); a 32-bit column filled from a sequence; an added node that cannot be
 * reached, belongs to another ring, or has only some of the sharded tables.
 */
public final class Planner {
    static final String NO_HISTORY = "no Flyway history";
    static final String NO_MIGRATIONS = "no applied migrations";
    private static final String FLYWAY_TABLE = "flyway_schema_history";
    private static final int MAX_THREADS = 4;

    private Planner() {
    }

    /**
     * Plans {@code change} on {@code current}, counting each job's rows.
     *
     * @param nodes gives a data source for a node id; it is asked for every node of {@code current}, and for a
     *              node that the change adds (may return null or throw for that one)
     * @throws ShardringException        from the change itself (unknown node, duplicate node, last node...)
     * @throws ConfigurationException    when {@code nodes} has no data source for a current node
     * @throws ShardUnavailableException when a current node cannot be reached
     */
    public static Plan plan(Topology current, TopologyChange change, Function<String, DataSource> nodes) {
        return plan(current, change, nodes, true);
    }

    /**
     * Plans {@code change} on {@code current}; with {@code countRows} false the jobs' rows are not counted
     * (their {@link MoveJob#rowsPerTable()} is empty), which spares a scan of every sharded table.
     *
     * @see #plan(Topology, TopologyChange, Function)
     */
    public static Plan plan(Topology current, TopologyChange change, Function<String, DataSource> nodes,
            boolean countRows) {
        if (current == null) {
            throw new ConfigurationException("cannot plan without a current topology");
        }
        if (change == null) {
            throw new ConfigurationException("cannot plan without a change; give add-node, remove-node or set-weight");
        }
        if (nodes == null) {
            throw new ConfigurationException("cannot plan without data sources for the nodes of topology version "
                    + current.version());
        }
        Topology after = change.apply(current);
        RingDiff diff = HashRing.diff(current.ring(), after.ring());

        Map<String, Map<String, List<TokenRange>>> pairs = new TreeMap<>();
        for (RingDiff.Move m : diff.moves()) {
            pairs.computeIfAbsent(m.from().id(), k -> new TreeMap<>())
                    .computeIfAbsent(m.to().id(), k -> new ArrayList<>()).add(m.range());
        }
        Set<String> involved = new LinkedHashSet<>();
        pairs.forEach((from, tos) -> {
            involved.add(from);
            involved.addAll(tos.keySet());
        });

        Map<String, DataSource> sources = new LinkedHashMap<>();
        for (String id : current.nodes().keySet()) {
            sources.put(id, existingNode(nodes, id, current.version()));
        }
        Map<String, NodeFacts> facts = inspectAll(current, sources, pairs, involved, countRows);

        List<MoveJob> jobs = new ArrayList<>();
        pairs.forEach((from, tos) -> tos.forEach((to, ranges) -> jobs.add(new MoveJob(from, to, ranges,
                countRows ? facts.get(from).counts.getOrDefault(to, Map.of()) : Map.of()))));

        List<String> warnings = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        schemaVersionWarning(facts).ifPresent(warnings::add);
        tableFindings(current, facts, warnings, errors);
        for (NodeFacts f : facts.values()) {
            if (f.walLevel != null && !"logical".equals(f.walLevel)) {
                warnings.add(walWarning(f.node, f.walLevel));
            }
            warnings.addAll(f.roleWarnings);
        }
        for (String id : involved) {
            if (!current.nodes().containsKey(id)) {
                newNode(id, nodes, after, warnings, errors);
            }
        }
        int maxPins = after.ringSettings().maxPins();
        if (after.pins().size() > maxPins) {
            warnings.add(after.pins().size() + " keys are pinned, more than ring.maxPins (" + maxPins + "): pins are"
                    + " for a few large tenants; to place many keys by hand, give those tenants nodes of their own"
                    + " weight or keep a directory in the application");
        }
        int r = after.ringSettings().replicationFactor();
        if (r >= 2) {
            io.shardring.router.ring.ReplicaLayout before = io.shardring.router.ring.ReplicaLayout.of(current.ring(), r);
            io.shardring.router.ring.ReplicaLayout next = io.shardring.router.ring.ReplicaLayout.of(after.ring(), r);
            warnings.addAll(next.warnings());
            warnings.add(String.format(java.util.Locale.ROOT, "replicas: after the move, `replicas sync` copies %.1f%%"
                    + " of the keyspace to secondary stores that gain arcs (it runs at the end of --execute)",
                    100 * io.shardring.router.ring.ReplicaLayout.changes(before, next).seededShare()));
        }
        return new Plan(current, after, change.describe(), diff, jobs, warnings, errors);
    }

    private static DataSource existingNode(Function<String, DataSource> nodes, String id, long version) {
        DataSource ds;
        try {
            ds = nodes.apply(id);
        } catch (RuntimeException e) {
            throw new ConfigurationException("no data source for node '" + id + "' of topology version " + version
                    + ": " + e.getMessage(), e);
        }
        if (ds == null) {
            throw new ConfigurationException("no data source for node '" + id + "' of topology version " + version
                    + "; the planner reads every current node");
        }
        return ds;
    }

    private static String walWarning(String node, String level) {
        return "logical replication unavailable on " + node + ": moves will use the slower COPY fallback under a"
                + " fence (wal_level is " + level + "; set wal_level = logical and restart the server to avoid it)";
    }

    /**
     * What an added node says: an unreachable node, a database of another ring, or one with only some of the sharded
     * tables make the plan not executable; its wal_level and role rights are warnings.
     */
    private static void newNode(String id, Function<String, DataSource> nodes, Topology after, List<String> warnings,
            List<String> errors) {
        DataSource ds;
        try {
            ds = nodes.apply(id);
        } catch (RuntimeException e) {
            errors.add("cannot reach new node " + id + ": " + e.getMessage() + "; start it (or fix its jdbcUrl) and"
                    + " plan again");
            return;
        }
        if (ds == null) {
            warnings.add("new node " + id + " not checked: no data source given for it; make sure it runs with"
                    + " wal_level = logical and holds no other ring's data");
            return;
        }
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException | RuntimeException e) {
            errors.add("cannot reach new node " + id + ": " + e.getMessage() + "; start it (or fix its jdbcUrl) and"
                    + " plan again");
            return;
        }
        try (c) {
            String level = walLevel(c);
            if (!"logical".equals(level)) {
                warnings.add(walWarning(id, level));
            }
            warnings.addAll(roleWarnings(c, id, "target"));
            Optional<io.shardring.router.schema.Membership> member = io.shardring.router.schema.Membership.read(c);
            if (member.isPresent() && !member.get().nodeId().equals(id)) {
                errors.add("new node " + id + ": its database is recorded as node '" + member.get().nodeId()
                        + "' (catalog " + member.get().catalogId() + "); give it an empty database");
            }
            List<String> present = new ArrayList<>();
            List<String> absent = new ArrayList<>();
            for (ShardedTable t : after.tables()) {
                (exists(c, t) ? present : absent).add(t.displayName());
            }
            if (!present.isEmpty() && !absent.isEmpty()) {
                errors.add("new node " + id + " has some of the sharded tables (" + String.join(", ", present)
                        + ") but not " + String.join(", ", absent) + ": give it an empty database (the move creates"
                        + " the tables) or the whole schema");
            }
            List<String> holding = new ArrayList<>();
            for (ShardedTable t : after.tables()) {
                if (present.contains(t.displayName()) && hasRows(c, t)) {
                    holding.add(t.displayName());
                }
            }
            if (!holding.isEmpty()) {
                errors.add("new node " + id + " holds rows in sharded tables (" + String.join(", ", holding) + "): a"
                        + " node joins the ring empty (rows written there around the ring, or left by another use of"
                        + " the database, would be deleted or mixed with the moved ones); give it an empty database");
            }
        } catch (SQLException | RuntimeException e) {
            errors.add("cannot inspect new node " + id + ": " + e.getMessage());
        }
    }

    private static boolean hasRows(Connection c, ShardedTable t) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM "
                + t.quotedName() + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static boolean exists(Connection c, ShardedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, t.quotedName());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * What a move cannot do, or does less well, with the tool's role on a node that is a source or a target, said
     * here rather than discovered halfway through a move. A superuser can do everything. Otherwise a source's role
     * needs REPLICATION for the slot, and a target's role needs the right to create subscriptions (superuser on
     * PostgreSQL 15, membership in pg_create_subscription from 16); and without superuser the mover cannot keep the
     * application's own triggers from firing on copied rows, nor keep the subscription's connection string (which
     * holds the source's password) out of the target's server log.
     */
    static List<String> roleWarnings(Connection c, String node, String as) throws SQLException {
        boolean source = as.contains("source");
        boolean target = as.contains("target");
        boolean superuser;
        boolean replication;
        String role;
        int version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user, rolsuper,"
                + " rolreplication, current_setting('server_version_num')::int FROM pg_roles"
                + " WHERE rolname = current_user")) {
            if (!rs.next()) {
                return List.of();
            }
            role = rs.getString(1);
            superuser = rs.getBoolean(2);
            replication = rs.getBoolean(3);
            version = rs.getInt(4);
        }
        if (superuser) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (source && !replication) {
            out.add("role " + role + " on " + node + " has no REPLICATION attribute: the move cannot create its"
                    + " replication slot there and will stop at the copy; ALTER ROLE " + role + " REPLICATION");
        }
        if (target) {
            boolean canSubscribe = false;
            if (version >= 160000) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT pg_has_role(current_user, 'pg_create_subscription', 'MEMBER')")) {
                    canSubscribe = rs.next() && rs.getBoolean(1);
                }
            }
            if (!canSubscribe) {
                out.add("role " + role + " on " + node + " may not create subscriptions: the move will stop at the"
                        + " copy; " + (version >= 160000 ? "GRANT pg_create_subscription TO " + role
                                + " (and CREATE on the database)" : "PostgreSQL 15 allows it to superusers only"));
            }
            out.add("role " + role + " on " + node + " is not a superuser: the application's own triggers will fire"
                    + " on rows the mover copies there (session_replication_role needs superuser), and the"
                    + " subscription's connection string, which holds the source's password, may reach " + node
                    + "'s server log (log_statement cannot be switched off for it)");
        }
        return out;
    }

    private static String walLevel(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            return rs.getString(1);
        }
    }

    // ---------------------------------------------------------------- inspection of the current nodes

    /** What one node said. */
    static final class NodeFacts {
        final String node;
        /** Highest applied application version, {@link #NO_HISTORY} or {@link #NO_MIGRATIONS}. */
        String schemaVersion;
        /** Null when the node is neither a source nor a target. */
        String walLevel;
        /** What the tool's role on this node cannot do for a move; empty when it can do everything. */
        final List<String> roleWarnings = new ArrayList<>();
        final Map<ShardedTable, TableFacts> tables = new LinkedHashMap<>();
        /** Foreign keys, unique constraints, sequences and reference tables, as {@link TableRules} sees them. */
        final List<TableRules.Report> rules = new ArrayList<>();
        /** Target node id to (table display name to rows). */
        final Map<String, Map<String, Long>> counts = new TreeMap<>();

        NodeFacts(String node) {
            this.node = node;
        }
    }

    /** What one node said about one sharded table. */
    static final class TableFacts {
        boolean exists;
        /** The key column's type as shown, and its pg_type name; null when the column is missing. */
        String keyTypeShown;
        String keyTypname;
        /** Primary key columns in order; null when there is no primary key. */
        List<String> primaryKey;
        boolean countable(KeyType keyType) {
            return exists && keyTypname != null && keyType.acceptsColumnType(keyTypname);
        }
    }

    private static Map<String, NodeFacts> inspectAll(Topology current, Map<String, DataSource> sources,
            Map<String, Map<String, List<TokenRange>>> pairs, Set<String> involved, boolean countRows) {
        try {
            return PerNode.run("shardring-planner", MAX_THREADS, sources.keySet(), id -> inspect(current, id,
                    sources.get(id), countRows ? pairs.getOrDefault(id, Map.of()) : Map.of(), involved.contains(id),
                    moveRole(id, pairs)));
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "planning failed: " + e.getMessage(), e);
        }
    }

    /** "source", "target" or "source and target": what a node is in a change's moves. */
    private static String moveRole(String id, Map<String, Map<String, List<TokenRange>>> pairs) {
        boolean source = pairs.containsKey(id);
        boolean target = pairs.values().stream().anyMatch(tos -> tos.containsKey(id));
        return source && target ? "source and target" : source ? "source" : "target";
    }

    private static NodeFacts inspect(Topology topology, String node, DataSource ds,
            Map<String, List<TokenRange>> jobsFromHere, boolean checkWal, String role) {
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException | RuntimeException e) {
            throw new ShardUnavailableException(node, "cannot reach node '" + node + "' to plan the change: "
                    + e.getMessage(), e);
        }
        NodeFacts f = new NodeFacts(node);
        KeyType keyType = topology.ring().keyType();
        String step = "starting a read-only transaction";
        try (c) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                step = "reading the Flyway history";
                f.schemaVersion = schemaVersion(c);
                if (checkWal) {
                    step = "reading wal_level";
                    f.walLevel = walLevel(c);
                    step = "reading the role's rights";
                    f.roleWarnings.addAll(roleWarnings(c, node, role));
                }
                for (ShardedTable t : topology.tables()) {
                    step = "inspecting table " + t.displayName();
                    f.tables.put(t, inspectTable(c, t));
                }
                step = "checking foreign keys, unique constraints and sequences";
                f.rules.addAll(TableRules.inspect(c, topology, false));
                for (Map.Entry<String, List<TokenRange>> job : jobsFromHere.entrySet()) {
                    Map<String, Long> rows = new LinkedHashMap<>();
                    for (ShardedTable t : topology.tables()) {
                        if (!f.tables.get(t).countable(keyType)) {
                            continue;
                        }
                        step = "counting rows of " + t.displayName() + " that move to " + job.getKey();
                        rows.put(t.displayName(), count(c, t, TokenRange.toSql(job.getValue(), keyType,
                                t.keyColumn())));
                    }
                    f.counts.put(job.getKey(), rows);
                }
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "node '" + node + "': " + step + " failed: "
                    + e.getMessage(), e);
        }
        return f;
    }

    private static long count(Connection c, ShardedTable t, String predicate) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t.quotedName() + " WHERE " + predicate)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The highest successfully applied version in the default schema's Flyway history. */
    private static String schemaVersion(Connection c) throws SQLException {
        String schema;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schema(),"
                + " to_regclass(quote_ident(current_schema()) || '." + FLYWAY_TABLE + "') IS NOT NULL")) {
            rs.next();
            schema = rs.getString(1);
            if (schema == null || !rs.getBoolean(2)) {
                return NO_HISTORY;
            }
        }
        String max = null;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version FROM "
                + Sql.quote(schema) + "." + Sql.quote(FLYWAY_TABLE) + " WHERE success AND version IS NOT NULL")) {
            while (rs.next()) {
                String v = rs.getString(1);
                if (max == null || compareVersions(v, max) > 0) {
                    max = v;
                }
            }
        }
        return max == null ? NO_MIGRATIONS : max;
    }

    private static TableFacts inspectTable(Connection c, ShardedTable t) throws SQLException {
        TableFacts tf = new TableFacts();
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_class r JOIN pg_namespace n"
                + " ON n.oid = r.relnamespace WHERE n.nspname = ? AND r.relname = ? AND r.relkind IN ('r', 'p')")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                tf.exists = rs.next();
            }
        }
        if (!tf.exists) {
            return tf;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT format_type(a.atttypid, a.atttypmod), ty.typname"
                + " FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid"
                + " JOIN pg_namespace n ON n.oid = r.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid"
                + " WHERE n.nspname = ? AND r.relname = ? AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            ps.setString(3, t.keyColumn());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    tf.keyTypeShown = rs.getString(1);
                    tf.keyTypname = rs.getString(2);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_index i"
                + " JOIN pg_class r ON r.oid = i.indrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
                + " JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum"
                + " WHERE n.nspname = ? AND r.relname = ? AND i.indisprimary ORDER BY k.ord")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                List<String> pk = new ArrayList<>();
                while (rs.next()) {
                    pk.add(rs.getString(1));
                }
                tf.primaryKey = pk.isEmpty() ? null : pk;
            }
        }
        return tf;
    }

    // ---------------------------------------------------------------- findings

    private static Optional<String> schemaVersionWarning(Map<String, NodeFacts> facts) {
        List<String> distinct = new ArrayList<>();
        for (NodeFacts f : facts.values()) {
            if (distinct.stream().noneMatch(v -> sameVersion(v, f.schemaVersion))) {
                distinct.add(f.schemaVersion);
            }
        }
        if (distinct.size() <= 1) {
            return Optional.empty();
        }
        List<String> each = new ArrayList<>();
        for (NodeFacts f : facts.values()) {
            each.add(f.node + " " + f.schemaVersion);
        }
        return Optional.of("application schema versions differ between shards: " + String.join(", ", each)
                + "; migrate every shard to the same version (ShardedFlyway) before moving rows");
    }

    private static boolean sameVersion(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        boolean aVersion = !NO_HISTORY.equals(a) && !NO_MIGRATIONS.equals(a);
        boolean bVersion = !NO_HISTORY.equals(b) && !NO_MIGRATIONS.equals(b);
        return aVersion && bVersion && compareVersions(a, b) == 0;
    }

    private static void tableFindings(Topology topology, Map<String, NodeFacts> facts, List<String> warnings,
            List<String> errors) {
        KeyType keyType = topology.ring().keyType();
        for (ShardedTable t : topology.tables()) {
            String name = t.displayName();
            List<String> missing = new ArrayList<>();
            Map<String, List<String>> byProblem = new LinkedHashMap<>();
            for (NodeFacts f : facts.values()) {
                TableFacts tf = f.tables.get(t);
                if (!tf.exists) {
                    missing.add(f.node);
                    continue;
                }
                if (tf.keyTypname == null) {
                    byProblem.computeIfAbsent("sharded table " + name + " has no key column " + t.keyColumn(),
                            k -> new ArrayList<>()).add(f.node);
                } else if (!keyType.acceptsColumnType(tf.keyTypname)) {
                    byProblem.computeIfAbsent("key column " + t.keyColumn() + " of sharded table " + name + " is "
                            + tf.keyTypeShown + ", but the ring's key type is " + keyType.sqlType(),
                            k -> new ArrayList<>()).add(f.node);
                }
                if (tf.primaryKey == null) {
                    byProblem.computeIfAbsent("sharded table " + name + " has no primary key; moving its rows"
                            + " needs one that includes the key column " + t.keyColumn()
                            + " (publishing UPDATE and DELETE with a row filter needs the key in the replica"
                            + " identity)", k -> new ArrayList<>()).add(f.node);
                } else if (!tf.primaryKey.contains(t.keyColumn())) {
                    byProblem.computeIfAbsent("the primary key (" + String.join(", ", tf.primaryKey)
                            + ") of sharded table " + name + " does not include its key column " + t.keyColumn()
                            + " (publishing UPDATE and DELETE with a row filter needs the key in the replica"
                            + " identity); add " + t.keyColumn() + " to the primary key",
                            k -> new ArrayList<>()).add(f.node);
                }
            }
            if (!missing.isEmpty()) {
                errors.add("sharded table " + name + " does not exist on " + String.join(", ", missing)
                        + "; create it there with a migration or remove it from the topology's tables");
            }
            byProblem.forEach((problem, nodes) -> errors.add(problem + " (on " + String.join(", ", nodes) + ")"));
        }
        ruleFindings(facts, warnings, errors);
    }

    /**
     * What {@link TableRules} finds beyond the checks above: foreign keys that a move would break (an error: the copy
     * runs with triggers off), sequences that cannot be ranged, reference tables without a primary key or with
     * foreign keys to per-tenant rows (errors); unique constraints without the key column (a warning: each node still
     * enforces them for its own keys). Each names its nodes and the DDL that fixes it.
     */
    private static void ruleFindings(Map<String, NodeFacts> facts, List<String> warnings, List<String> errors) {
        Map<String, List<String>> found = new LinkedHashMap<>();
        Map<String, Boolean> isError = new LinkedHashMap<>();
        for (NodeFacts f : facts.values()) {
            for (TableRules.Report r : f.rules) {
                for (TableRules.Problem p : r.problems()) {
                    boolean error;
                    switch (p.topic()) {
                        case FOREIGN_KEY, SEQUENCE -> error = true;
                        case PRIMARY_KEY -> error = r.kind() == TableRules.Kind.REFERENCE;
                        case UNIQUE -> error = false;
                        default -> {
                            continue; // missing tables and key columns are reported above
                        }
                    }
                    String text = (r.kind() == TableRules.Kind.REFERENCE ? "reference table " : "sharded table ")
                            + r.table() + ": " + p.what() + "; fix: " + String.join(" ", p.fix());
                    found.computeIfAbsent(text, k -> new ArrayList<>()).add(f.node);
                    isError.put(text, error);
                }
            }
        }
        found.forEach((text, nodes) -> (isError.get(text) ? errors : warnings).add(text + " (on "
                + String.join(", ", nodes) + ")"));
    }

    /**
     * Compares Flyway version strings by their numeric parts ({@code 1.10 > 1.9}, {@code 1.0 == 1}); parts are
     * separated by '.' or '_'; a part that is not a number compares as text, after numbers.
     */
    public static int compareVersions(String a, String b) {
        String[] pa = a.trim().split("[._]");
        String[] pb = b.trim().split("[._]");
        for (int i = 0; i < Math.max(pa.length, pb.length); i++) {
            String x = i < pa.length ? pa[i] : "0";
            String y = i < pb.length ? pb[i] : "0";
            boolean nx = x.matches("\\d+");
            boolean ny = y.matches("\\d+");
            int c;
            if (nx && ny) {
                c = new BigInteger(x).compareTo(new BigInteger(y));
            } else if (nx != ny) {
                c = nx ? -1 : 1;
            } else {
                c = x.compareTo(y);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
