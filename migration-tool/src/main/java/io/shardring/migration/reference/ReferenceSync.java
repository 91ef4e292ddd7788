package io.shardring.migration.reference;

import static io.shardring.migration.move.Sessions.exists;


import io.shardring.migration.move.Locks;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.move.Sessions;
import io.shardring.migration.support.Poll;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.schema.ReferenceGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.ReferenceTable;
import io.shardring.router.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.CRC32;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the reference tables' copies: one publication of all their rows ({@value #PUBLICATION}) on the topology's
 * reference node, one subscription on every other node, seeded from the writable copy (the copy's own rows, e.g.
 * from a seed migration, are removed first: the writable copy is the truth), and the reference guard on every node.
 * Checks every table on every node before it changes anything: a missing table or one without a primary key is
 * refused, naming both. Replication slots of nodes that left the topology are dropped.
 */
public final class ReferenceSync {
    private static final Logger LOG = LoggerFactory.getLogger(ReferenceSync.class);
    public static final String PUBLICATION = "shardring_reference";
    private static final String PREFIX = "shardring_ref_";
    private static final Duration GUARD_LOCK_TIMEOUT = Duration.ofMillis(200);
    private static final Duration GUARD_LOCK_PATIENCE = Duration.ofSeconds(30);

    private final Topology topology;
    private final NodePools nodes;
    private final Duration seedTimeout;

    public ReferenceSync(Topology topology, NodePools nodes, Duration seedTimeout) {
        this.topology = topology;
        this.nodes = nodes;
        this.seedTimeout = seedTimeout;
    }

    /** One copy's state, as {@code status} shows it. */
    public record CopyLag(String node, boolean streaming, long bytesBehind, Long lagMillis) {
    }

    /** The subscription and slot name of a node's copy: a valid slot name, distinct for distinct node ids. */
    public static String subscriptionName(String nodeId) {
        String clean = nodeId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (clean.equals(nodeId) && clean.length() <= 40) {
            return PREFIX + clean;
        }
        CRC32 crc = new CRC32();
        crc.update(nodeId.getBytes(StandardCharsets.UTF_8));
        return PREFIX + clean.substring(0, Math.min(clean.length(), 32)) + "_" + Long.toHexString(crc.getValue());
    }

    /** Brings every node's copy in line with the topology; returns what it did, one line per step. */
    public List<String> sync() throws SQLException {
        List<String> done = new ArrayList<>();
        if (topology.referenceTables().isEmpty()) {
            return done;
        }
        for (String node : topology.nodes().keySet()) {
            checkTables(node);
        }
        String ref = topology.referenceNode();
        publication(ref, done);
        for (String node : topology.nodes().keySet()) {
            guard(node);
            if (!node.equals(ref)) {
                subscribe(node, done);
            }
        }
        dropLeftSlots(ref, done);
        for (String node : topology.nodes().keySet()) {
            if (!node.equals(ref)) {
                awaitCopied(node);
            }
        }
        return done;
    }

    /** Seeds one node's copy (a node a move adds): the guard, the subscription, its initial copy. */
    public void attach(String node) throws SQLException {
        if (topology.referenceTables().isEmpty() || node.equals(topology.referenceNode())) {
            return;
        }
        checkTables(node);
        List<String> done = new ArrayList<>();
        publication(topology.referenceNode(), done);
        guard(node);
        subscribe(node, done);
        awaitCopied(node);
        done.forEach(d -> LOG.info("reference tables: {}", d));
    }

    /** Refuses a reference table that is missing on the node or has no primary key, before anything changes. */
    private void checkTables(String node) throws SQLException {
        try (Connection c = nodes.apply(node).getConnection()) {
            for (ReferenceTable t : topology.referenceTables()) {
                ReferenceGuard.check(c, node, t);
            }
        }
    }

    /** Each copy's replication state, read on the reference node. */
    public List<CopyLag> lag() throws SQLException {
        List<CopyLag> out = new ArrayList<>();
        if (topology.referenceTables().isEmpty()) {
            return out;
        }
        try (Connection c = nodes.apply(topology.referenceNode()).getConnection(); PreparedStatement ps =
                c.prepareStatement("SELECT s.active, pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn),"
                        + " (SELECT (extract(epoch FROM r.replay_lag) * 1000)::bigint FROM pg_stat_replication r"
                        + " WHERE r.pid = s.active_pid) FROM pg_replication_slots s WHERE s.slot_name = ?")) {
            for (String node : topology.nodes().keySet()) {
                if (node.equals(topology.referenceNode())) {
                    continue;
                }
                ps.setString(1, subscriptionName(node));
                try (ResultSet r = ps.executeQuery()) {
                    if (r.next()) {
                        boolean active = r.getBoolean(1);
                        long behind = Math.max(0, r.getLong(2));
                        long lagMs = r.getLong(3);
                        out.add(new CopyLag(node, active, behind, r.wasNull() ? null : lagMs));
                    } else {
                        out.add(new CopyLag(node, false, -1, null));
                    }
                }
            }
        }
        return out;
    }

    private void publication(String ref, List<String> done) throws SQLException {
        StringBuilder tables = new StringBuilder();
        for (ReferenceTable t : topology.referenceTables()) {
            tables.append(tables.length() == 0 ? "" : ", ").append(t.quotedName());
        }
        try (Connection c = nodes.apply(ref).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", PUBLICATION)) {
                s.execute("ALTER PUBLICATION " + PUBLICATION + " SET TABLE " + tables);
            } else {
                s.execute("CREATE PUBLICATION " + PUBLICATION + " FOR TABLE " + tables);
                done.add("publication " + PUBLICATION + " created on " + ref + " for " + topology.referenceTables());
            }
        }
    }

    private void guard(String node) throws SQLException {
        DataSource ds = nodes.apply(node);
        ShardedFlyway.shardringFlyway(ds).migrate(); // the guard's function
        // the node's application writes meanwhile (the reference node's, tenants' foreign keys to the tables)
        Locks.retry(ds, GUARD_LOCK_TIMEOUT, GUARD_LOCK_PATIENCE, "the reference tables on " + node,
                "Find it in pg_stat_activity on " + node + ", then run reference sync again",
                c -> ReferenceGuard.install(c, node, topology));
    }

    private void subscribe(String node, List<String> done) throws SQLException {
        String name = subscriptionName(node);
        try (Connection c = nodes.apply(node).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                refresh(node, c, name, done);
                return;
            }
        }
        // the slot first, on the reference node: the subscription below then needs no connection of its own to create
        // it, and can be created in the same transaction that clears the copy, so that a failure leaves the copy as
        // it was
        try (Connection r = nodes.apply(topology.referenceNode()).getConnection(); PreparedStatement ps =
                r.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput') WHERE NOT EXISTS"
                        + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, name);
            ps.setString(2, name);
            ps.executeQuery().close();
        }
        try (Connection c = nodes.apply(node).getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                quietLog(c, s, node, done);
                clear(c, s, topology.referenceTables());
                s.execute("CREATE SUBSCRIPTION " + Sql.quote(name) + " CONNECTION "
                        + Sql.literal(nodes.conninfo(topology.referenceNode(), name)) + " PUBLICATION "
                        + PUBLICATION + " WITH (copy_data = true, create_slot = false, slot_name = "
                        + Sql.literal(name) + ")");
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            done.add("copy on " + node + " subscribed (" + name + ")");
        }
    }

    /**
     * An existing copy: tables new to the publication start their initial copy, after their rows on the copy (a seed
     * migration's) are cleared; known tables go on streaming.
     */
    private void refresh(String node, Connection c, String name, List<String> done) throws SQLException {
        List<ReferenceTable> added = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_subscription_rel r JOIN pg_subscription s"
                + " ON s.oid = r.srsubid WHERE s.subname = ? AND r.srrelid = to_regclass(?)")) {
            for (ReferenceTable t : topology.referenceTables()) {
                ps.setString(1, name);
                ps.setString(2, t.quotedName());
                try (ResultSet r = ps.executeQuery()) {
                    if (!r.next()) {
                        added.add(t);
                    }
                }
            }
        }
        try (Statement s = c.createStatement()) {
            if (!added.isEmpty()) {
                c.setAutoCommit(false);
                try {
                    clear(c, s, added);
                    c.commit();
                } finally {
                    c.setAutoCommit(true);
                }
                done.add("copy on " + node + ": " + added + " added");
            }
            s.execute("ALTER SUBSCRIPTION " + Sql.quote(name) + " REFRESH PUBLICATION WITH (copy_data = true)");
        }
    }

    /**
     * Empties reference tables on a copy before the writable copy's rows arrive. With triggers off (replica role),
     * so that foreign keys from tenant tables to them do not stop it: the same rows come back by the initial copy.
     */
    private static void clear(Connection c, Statement s, List<ReferenceTable> tables) throws SQLException {
        s.execute("SET LOCAL shardring.migrating TO on");
        if (!Sessions.skipTriggers(c)) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "the tool's role may not set session_replication_role"
                    + " on this node, which emptying a reference table's copy needs (foreign keys point at it);"
                    + " run reference sync as a superuser");
        }
        for (ReferenceTable t : tables) {
            s.execute("DELETE FROM " + t.quotedName());
        }
    }

    /** Keeps the subscription's connection string, which holds the reference node's password, out of the log. */
    private static void quietLog(Connection c, Statement s, String node, List<String> done) throws SQLException {
        try {
            s.execute("SAVEPOINT quiet");
            s.execute("SET LOCAL log_statement = 'none'");
            s.execute("SET LOCAL log_min_error_statement = 'panic'");
            s.execute("RELEASE SAVEPOINT quiet");
        } catch (SQLException notAllowed) {
            s.execute("ROLLBACK TO SAVEPOINT quiet");
            done.add("warning: the role on " + node + " may not change log settings: the subscription's connection"
                    + " string, with the reference node's password, may reach its server log");
        }
    }

    /**
     * Drops the copy of a node that left the topology, on that node (which drops its slot on the reference node), if
     * the node still answers; false when it does not.
     */
    private boolean detach(String node, List<String> done) {
        try (Connection c = nodes.apply(node).getConnection(); Statement s = c.createStatement()) {
            String name = subscriptionName(node);
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                s.execute("DROP SUBSCRIPTION " + Sql.quote(name));
                done.add("copy on " + node + ", which left the topology, dropped");
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    private void dropLeftSlots(String ref, List<String> done) throws SQLException {
        Set<String> expected = new HashSet<>();
        topology.nodes().keySet().forEach(n -> expected.add(subscriptionName(n)));
        for (String known : nodes.known()) {
            if (!topology.nodes().containsKey(known)) {
                detach(known, done);
            }
        }
        try (Connection c = nodes.apply(ref).getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT slot_name, active FROM pg_replication_slots WHERE slot_name LIKE 'shardring\\_ref\\_%'")) {
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    String slot = r.getString(1);
                    if (expected.contains(slot)) {
                        continue;
                    }
                    if (r.getBoolean(2)) {
                        done.add("slot " + slot + " on " + ref + " belongs to a node no longer in the topology but is"
                                + " still in use: drop its subscription there (DROP SUBSCRIPTION " + slot + ")");
                        continue;
                    }
                    try (PreparedStatement drop = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                        drop.setString(1, slot);
                        drop.executeQuery().close();
                    }
                    done.add("slot " + slot + " of a node that left dropped on " + ref);
                }
            }
        }
    }

    private void awaitCopied(String node) throws SQLException {
        int tables = topology.referenceTables().size();
        try (Connection c = nodes.apply(node).getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FILTER (WHERE r.srsubstate IN ('r', 's')), count(*) FROM pg_subscription_rel r"
                        + " JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = ?")) {
            ps.setString(1, subscriptionName(node));
            Boolean copied = Poll.every(Duration.ofMillis(50), seedTimeout, () -> {
                try (ResultSet r = ps.executeQuery()) {
                    return r.next() && r.getInt(1) == tables && r.getInt(2) == tables ? Boolean.TRUE : null;
                }
            });
            if (copied == null) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "the reference tables' copy on " + node
                        + " did not finish its initial copy within " + seedTimeout + "; see the server log of "
                        + node + ", then run `shardring reference sync` again");
            }
        }
    }
}
