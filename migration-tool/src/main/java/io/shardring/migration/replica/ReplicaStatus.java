package io.shardring.migration.replica;

import io.shardring.migration.move.NodePools;
import io.shardring.migration.support.PerNode;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
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

/**
 * What an operator sees of the replicas in {@code status}: every piece's link, state and lag (in milliseconds from the
 * heartbeats the store applied, in bytes from the primary's slot), every store's problems, and the placement's
 * warnings. Reads only.
 */
public final class ReplicaStatus {
    /** One piece: a publication on its primary and a subscription in its secondary's store. */
    public static final class Piece {
        public final String name;
        public final String primary;
        public final String secondary;
        public final String state;
        public final double share;
        /** Milliseconds since the last heartbeat the store applied from this piece; -1 when unknown. */
        public long lagMillis = -1;
        /** WAL bytes the slot has not confirmed; -1 when unknown. */
        public long lagBytes = -1;
        public String problem;

        Piece(String name, String primary, String secondary, String state, double share) {
            this.name = name;
            this.primary = primary;
            this.secondary = secondary;
            this.state = state;
            this.share = share;
        }
    }

    /** One node's secondary store. */
    public static final class Store {
        public final String node;
        /** The topology version it holds, or null while a sync changes it or before the first one. */
        public Long version;
        public String problem;

        Store(String node) {
            this.node = node;
        }
    }

    public final int replicationFactor;
    public final List<Piece> pieces = new ArrayList<>();
    public final Map<String, Store> stores = new LinkedHashMap<>();
    public final List<String> warnings = new ArrayList<>();

    private ReplicaStatus(int replicationFactor) {
        this.replicationFactor = replicationFactor;
    }

    /**
     * One line per secondary store of {@code t} that is missing, unreachable or not on {@code t}'s version (for
     * {@code plan}); empty when the ring keeps one copy.
     */
    public static List<String> storeProblems(Topology t, java.util.function.Function<String, String> env) {
        List<String> out = new ArrayList<>();
        if (t.ringSettings().replicationFactor() < 2) {
            return out;
        }
        try (NodePools stores = new NodePools(env)) {
            for (NodeConfig n : t.nodes().values()) {
                stores.add(n.secondaryStore());
                Store store = new Store(n.id());
                inspectStore(stores, n, store, t.version(), true);
                if (store.problem != null) {
                    out.add("secondary store of " + n.id() + ": " + store.problem);
                }
            }
        }
        return out;
    }

    /** Inspects every piece and store of {@code t}; unreachable servers become problems, never exceptions. */
    public static ReplicaStatus inspect(Catalog catalog, Topology t, NodePools nodes,
            java.util.function.Function<String, String> env) {
        ReplicaStatus s = new ReplicaStatus(t.ringSettings().replicationFactor());
        if (s.replicationFactor >= 2) {
            s.warnings.addAll(ReplicaLayout.of(t.ring(), s.replicationFactor).warnings());
        }
        try (Connection c = catalog.dataSource().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, primary_node, secondary_node, state, intervals FROM"
                        + " shardring.replica_pieces ORDER BY primary_node, secondary_node, id")) {
            while (rs.next()) {
                s.pieces.add(new Piece(ReplicaPlan.PREFIX + rs.getLong(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), HashIntervals.share(ReplicaJournal.parse(rs.getString(5)))));
            }
        } catch (SQLException e) {
            s.warnings.add("cannot read the replica pieces from the catalog: " + e.getMessage());
            return s;
        }
        for (NodeConfig n : t.nodes().values()) {
            for (int i = 0; i < n.standbys().size(); i++) {
                s.pieces.add(inspectStandby(nodes, n, i));
            }
        }
        if (s.replicationFactor < 2 && s.pieces.stream().noneMatch(p -> p.name.startsWith(ReplicaPlan.PREFIX))) {
            return s;
        }
        try (NodePools stores = new NodePools(env)) {
            for (NodeConfig n : t.nodes().values()) {
                stores.add(n.secondaryStore());
                Store store = new Store(n.id());
                s.stores.put(n.id(), store);
                inspectStore(stores, n, store, t.version(), s.replicationFactor >= 2);
            }
            // each piece in parallel: a fresh heartbeat of its own, timed to its arrival in the store (the lag now,
            // whether or not routers run; they write heartbeats too)
            List<Piece> measured = new ArrayList<>();
            for (Piece p : s.pieces) {
                if (p.name.startsWith(ReplicaPlan.PREFIX)) {
                    measured.add(p);
                }
            }
            try {
                PerNode.run("shardring-replica-status", 8, measured, p -> {
                    inspectPiece(nodes, stores, p, s.stores.get(p.secondary), writeHeartbeat(nodes, p));
                    return p;
                });
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        return s;
    }

    /**
     * A physical standby of a node, measured as a secondary store is: a heartbeat written on the primary (the node's
     * own row) timed to its arrival on the standby, and the WAL bytes the standby has not replayed.
     */
    private static Piece inspectStandby(NodePools nodes, NodeConfig n, int index) {
        Piece p = new Piece("standby-" + index, n.id(), NodeConfig.maskUrl(n.standbys().get(index)), "streaming", 1.0);
        String lsn;
        java.sql.Timestamp at;
        long written;
        try (Connection c = nodes.apply(n.id()).getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.heartbeat (pub, node, at) VALUES ('', ?, now()) ON CONFLICT (pub) DO UPDATE"
                        + " SET at = EXCLUDED.at RETURNING at, pg_current_wal_lsn()::text")) {
            ps.setString(1, n.id());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                at = rs.getTimestamp(1);
                lsn = rs.getString(2);
            }
            written = System.nanoTime();
        } catch (SQLException | RuntimeException e) {
            p.problem = "primary unreachable: " + e.getMessage();
            return p;
        }
        try (Connection c = nodes.connectAs(n.id(), n.standbys().get(index), 3, "shardring status");
                PreparedStatement ps = c.prepareStatement("SELECT pg_is_in_recovery(),"
                        + " coalesce((SELECT h.at >= ? FROM shardring.heartbeat h WHERE h.pub = ''), false),"
                        + " pg_wal_lsn_diff(?::pg_lsn, coalesce(pg_last_wal_replay_lsn(), ?::pg_lsn))::bigint")) {
            ps.setTimestamp(1, at);
            ps.setString(2, lsn);
            ps.setString(3, lsn);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        p.problem = "not a standby (pg_is_in_recovery() is false): routers do not read there; fix the"
                                + " standbys of node " + n.id();
                        return p;
                    }
                    p.lagBytes = Math.max(0, rs.getLong(3));
                    long waited = System.nanoTime() - written;
                    if (rs.getBoolean(2)) {
                        p.lagMillis = waited / 1_000_000;
                        return p;
                    }
                    if (waited >= WAIT_NANOS) {
                        p.problem = "the heartbeat written " + WAIT_NANOS / 1_000_000 + " ms ago has not been replayed";
                        return p;
                    }
                }
                Thread.sleep(2);
            }
        } catch (SQLException | RuntimeException e) {
            p.problem = "standby unreachable: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return p;
    }

    private static void inspectStore(NodePools stores, NodeConfig n, Store store, long version, boolean wanted) {
        try (Connection c = stores.apply(n.id()).getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT topology_version FROM shardring.secondary_store")) {
            if (rs.next()) {
                long v = rs.getLong(1);
                store.version = rs.wasNull() ? null : v;
            }
            if (store.version == null) {
                store.problem = "holds no topology version (a sync is changing it, or none finished): run `shardring"
                        + " replicas sync`";
            } else if (store.version != version) {
                store.problem = "holds topology version " + store.version + ", not " + version + ": run `shardring"
                        + " replicas sync`";
            }
        } catch (SQLException | RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            store.problem = m.contains("does not exist") ? "the store " + n.secondaryStoreDatabase() + " is missing"
                    + " or not migrated: run `shardring replicas sync`" : "unreachable: " + m.lines().findFirst()
                            .orElse(m);
            if (!wanted) {
                store.problem = null;
            }
        }
    }

    /**
     * Writes the piece's heartbeat on its primary; returns the time written (the primary's clock, as the store receives
     * it) and the JVM's nanoTime after the commit, or null when the primary cannot be written.
     */
    private static Object[] writeHeartbeat(NodePools nodes, Piece p) {
        try (Connection c = nodes.apply(p.primary).getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.heartbeat SET at = now() WHERE pub = ? RETURNING at")) {
            ps.setString(1, p.name);
            java.sql.Timestamp at = null;
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    at = rs.getTimestamp(1);
                }
            }
            return at == null ? null : new Object[] {at, System.nanoTime()};
        } catch (SQLException | RuntimeException e) {
            return null;
        }
    }

    private static final long WAIT_NANOS = 3_000_000_000L;

    private static void inspectPiece(NodePools nodes, NodePools stores, Piece p, Store store, Object[] written) {
        if (store != null && store.problem == null) {
            try (Connection c = stores.apply(p.secondary).getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT (extract(epoch FROM clock_timestamp() - at) * 1000)::bigint, at >= ? FROM"
                            + " shardring.heartbeat WHERE pub = ?")) {
                ps.setTimestamp(1, written == null ? new java.sql.Timestamp(Long.MAX_VALUE / 4)
                        : (java.sql.Timestamp) written[0]);
                ps.setString(2, p.name);
                while (true) {
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            p.problem = "no heartbeat applied yet";
                            break;
                        }
                        long sinceApplied = rs.getLong(1);
                        long waited = written == null ? Long.MAX_VALUE : System.nanoTime() - (Long) written[1];
                        if (rs.getBoolean(2)) {
                            p.lagMillis = waited / 1_000_000; // the fresh heartbeat arrived: this long it took
                            break;
                        }
                        if (waited >= WAIT_NANOS) {
                            p.lagMillis = sinceApplied;
                            if (written != null) {
                                p.problem = "the heartbeat written " + WAIT_NANOS / 1_000_000 + " ms ago has not"
                                        + " arrived; the copy is " + sinceApplied + " ms behind";
                            }
                            break;
                        }
                    }
                    Thread.sleep(2);
                }
            } catch (SQLException | RuntimeException e) {
                p.problem = "store unreachable: " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Connection c = nodes.apply(p.primary).getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, active FROM"
                        + " pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, p.name);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    p.lagBytes = rs.getLong(1);
                    if (!rs.getBoolean(2) && p.problem == null) {
                        p.problem = "slot inactive: the store's subscription is not streaming";
                    }
                } else if (p.problem == null) {
                    p.problem = "slot missing on " + p.primary + ": run `shardring replicas sync`";
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (p.problem == null) {
                p.problem = "primary unreachable: " + e.getMessage();
            }
        }
    }
}
