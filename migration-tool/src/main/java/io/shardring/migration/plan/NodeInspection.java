package io.shardring.migration.plan;

import io.shardring.migration.support.PerNode;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * What the nodes of the current topology say for a plan, read in parallel, each in one read-only, repeatable-read
 * transaction (so that a node's counts are one snapshot): its schema version, its sharded tables, what the table
 * rules find, the rows each of its jobs would move and, on a source or a target, what it allows a move.
 */
final class NodeInspection {
    private static final int MAX_THREADS = 4;

    private NodeInspection() {
    }

    /** What one node said. */
    static final class NodeFacts {
        final String node;
        /**
         * Highest applied application version, {@link FlywayVersions#NO_HISTORY} or
         * {@link FlywayVersions#NO_MIGRATIONS}.
         */
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

    static Map<String, NodeFacts> inspectAll(Topology current, Map<String, DataSource> sources,
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
                f.schemaVersion = FlywayVersions.highestApplied(c);
                if (checkWal) {
                    step = "reading wal_level";
                    f.walLevel = NodeReadiness.walLevel(c);
                    step = "reading the role's rights";
                    f.roleWarnings.addAll(NodeReadiness.roleWarnings(c, node, role));
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
}
