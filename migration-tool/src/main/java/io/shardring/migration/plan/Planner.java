package io.shardring.migration.plan;

import io.shardring.migration.plan.NodeInspection.NodeFacts;
import io.shardring.migration.plan.NodeInspection.TableFacts;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
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
 *
 * <p>The current nodes are read by {@link NodeInspection}, an added node by {@link AddedNode}; this class makes the
 * jobs and turns what the nodes said into the plan's warnings and errors.
 */
public final class Planner {
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
        Map<String, NodeFacts> facts = NodeInspection.inspectAll(current, sources, pairs, involved, countRows);

        List<MoveJob> jobs = new ArrayList<>();
        pairs.forEach((from, tos) -> tos.forEach((to, ranges) -> jobs.add(new MoveJob(from, to, ranges,
                countRows ? facts.get(from).counts.getOrDefault(to, Map.of()) : Map.of()))));

        List<String> warnings = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        schemaVersionWarning(facts).ifPresent(warnings::add);
        tableFindings(current, facts, warnings, errors);
        for (NodeFacts f : facts.values()) {
            if (f.walLevel != null && !"logical".equals(f.walLevel)) {
                warnings.add(NodeReadiness.walWarning(f.node, f.walLevel));
            }
            warnings.addAll(f.roleWarnings);
        }
        for (String id : involved) {
            if (!current.nodes().containsKey(id)) {
                AddedNode.check(id, nodes, after, warnings, errors);
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

    // ---------------------------------------------------------------- findings

    private static Optional<String> schemaVersionWarning(Map<String, NodeFacts> facts) {
        List<String> distinct = new ArrayList<>();
        for (NodeFacts f : facts.values()) {
            if (distinct.stream().noneMatch(v -> FlywayVersions.same(v, f.schemaVersion))) {
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
        return FlywayVersions.compare(a, b);
    }
}
