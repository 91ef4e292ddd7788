package io.shardring.migration.replica;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.move.Sessions;
import io.shardring.migration.support.PerNode;
import io.shardring.migration.support.Poll;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings every secondary store in line with the catalog's topology (ring.replicationFactor >= 2): creates and
 * migrates the stores, and keeps one or more <em>pieces</em> per (primary, secondary) link, each a row-filtered
 * publication on the primary and a subscription in the secondary's store ({@code shardring_r_<id>}).
 *
 * <p>A change of topology touches only the arcs whose assignment changed: a piece that lost arcs gets a narrower row
 * filter (and is dropped when nothing is left), the store then deletes those arcs' rows; arcs a link gained are seeded
 * by a new piece, whose subscription copies exactly them (PostgreSQL's initial sync, from its own exported snapshot)
 * and then streams their changes. Stores that a change touches are marked as holding no version while it runs, so
 * routers read elsewhere; at the end every store is stamped with the topology version it holds. Every step is
 * journaled in the catalog and checks the servers' state first, so a sync that stopped is simply run again.
 */
public final class ReplicaSync {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaSync.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String PREFIX = "shardring_r_";

    /** Settings of a sync. */
    public static final class Options {
        private String[] appLocations = {};
        private Duration seedTimeout = Duration.ofMinutes(30);
        private Duration routerPause = Duration.ofSeconds(1);
        private java.util.function.Function<String, String> env = System::getenv;

        /** How {@code ${VAR}} password references resolve for the stores (default: the process environment). */
        public Options environment(java.util.function.Function<String, String> env) {
            this.env = env;
            return this;
        }

        /** The application's Flyway locations, applied to every secondary store (before its primaries). */
        public Options appLocations(String... locations) {
            this.appLocations = locations.clone();
            return this;
        }

        /** How long a new piece's initial copy may take (default 30 min). */
        public Options seedTimeout(Duration d) {
            this.seedTimeout = d;
            return this;
        }

        /**
         * How long to wait after marking a store as changing before deleting anything there (default 1 s): routers
         * sample stores every router.replicaInterval (100 ms), and stop reading from one they see changing.
         */
        public Options routerPause(Duration d) {
            this.routerPause = d;
            return this;
        }
    }

    /** What a sync did. */
    public static final class Report {
        public final long version;
        public final int created;
        public final int narrowed;
        public final int dropped;
        public final double seededShare;
        public final List<String> warnings;

        Report(long version, int created, int narrowed, int dropped, double seededShare, List<String> warnings) {
            this.version = version;
            this.created = created;
            this.narrowed = narrowed;
            this.dropped = dropped;
            this.seededShare = seededShare;
            this.warnings = warnings;
        }

        @Override
        public String toString() {
            return String.format("replicas in line with topology version %d: %d pieces created, %d narrowed, %d"
                    + " dropped; %.4f of the keyspace copied", version, created, narrowed, dropped, seededShare);
        }
    }

    /** One piece as the catalog records it. */
    static final class Piece {
        final long id;
        final String primary;
        final String secondary;
        List<long[]> intervals;

        Piece(long id, String primary, String secondary, List<long[]> intervals) {
            this.id = id;
            this.primary = primary;
            this.secondary = secondary;
            this.intervals = intervals;
        }

        String name() {
            return PREFIX + id;
        }

        ReplicaLayout.Link link() {
            return new ReplicaLayout.Link(primary, secondary);
        }
    }

    private final Catalog catalog;
    private final NodePools nodes;
    private final NodePools stores;
    private final Options options;
    private final Consumer<String> progress;
    private Topology topology;

    public ReplicaSync(Catalog catalog, NodePools nodes, Options options, Consumer<String> progress) {
        this.catalog = catalog;
        this.nodes = nodes;
        this.stores = new NodePools(options.env);
        this.options = options;
        this.progress = progress == null ? m -> { } : progress;
    }

    /** Syncs with the catalog's newest topology. */
    public Report sync() {
        topology = catalog.load();
        for (NodeConfig n : topology.nodes().values()) {
            nodes.add(n);
            stores.add(n.secondaryStore());
        }
        try {
            return run();
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "replicas sync stopped: " + e.getMessage()
                    + "; run `shardring replicas sync` again to go on", e);
        } finally {
            stores.close();
        }
    }

    private Report run() throws SQLException {
        long version = topology.version();
        int r = topology.ringSettings().replicationFactor();
        ReplicaLayout layout = r >= 2 ? ReplicaLayout.of(topology.ring(), r) : null;
        List<String> warnings = layout == null ? List.of() : layout.warnings();
        warnings.forEach(w -> progress.accept("warning: " + w));
        Map<ReplicaLayout.Link, List<long[]>> desired = new TreeMap<>();
        if (layout != null) {
            for (ReplicaLayout.Link link : layout.links()) {
                desired.put(link, layout.intervalsOf(link));
            }
            ensureStores();
        }
        // a sync that stopped while pieces were seeding: finish them first, as they are
        for (Piece p : loadPieces("seeding")) {
            if (desired.containsKey(p.link())) {
                progress.accept("resuming the copy of " + p.name() + " (" + p.link() + ")");
                startReplication(p);
                awaitReady(p, version);
            }
        }
        List<Piece> pieces = loadPieces();
        // which stores this change touches: they hold no version until it is done
        Set<String> touched = new LinkedHashSet<>();
        Map<ReplicaLayout.Link, List<long[]>> have = new TreeMap<>();
        for (Piece p : pieces) {
            have.merge(p.link(), p.intervals, HashIntervals::union);
        }
        for (Piece p : pieces) {
            List<long[]> keep = HashIntervals.intersect(p.intervals, desired.getOrDefault(p.link(), List.of()));
            if (!HashIntervals.same(keep, p.intervals)) {
                touched.add(p.secondary);
            }
        }
        desired.forEach((link, iv) -> {
            if (!HashIntervals.minus(iv, have.getOrDefault(link, List.of())).isEmpty()) {
                touched.add(link.secondary());
            }
        });
        for (NodeConfig n : topology.nodes().values()) {
            if (layout != null && !touched.contains(n.id())) {
                stamp(n.id(), version); // nothing changes there: routers on the new version may read it at once
            }
        }
        boolean paused = false;
        for (String s : touched) {
            if (topology.nodes().containsKey(s)) {
                paused |= stamp(s, null);
            }
        }
        if (paused) {
            journal(version, null, "pause", "stores " + touched + " marked as changing; waiting "
                    + options.routerPause.toMillis() + " ms for routers to read elsewhere");
            sleep(options.routerPause);
        }
        int narrowed = 0;
        int dropped = 0;
        // first every piece loses what it no longer carries: arcs it gives up may be gained by another link
        Map<Piece, List<long[]>> narrowing = new LinkedHashMap<>();
        for (Piece p : pieces) {
            List<long[]> keep = HashIntervals.intersect(p.intervals, desired.getOrDefault(p.link(), List.of()));
            if (HashIntervals.same(keep, p.intervals)) {
                continue;
            }
            List<long[]> lost = HashIntervals.minus(p.intervals, keep);
            if (keep.isEmpty()) {
                dropPiece(p, version);
                dropped++;
                if (topology.nodes().containsKey(p.secondary)) {
                    deleteRows(p.secondary, HashIntervals.minus(lost, secondaryIntervals(layout, p.secondary)), p,
                            version);
                }
            } else {
                narrowFilter(p, keep, version);
                narrowing.put(p, lost);
                narrowed++;
            }
        }
        if (!narrowing.isEmpty()) {
            settleNarrowed(narrowing.keySet());
            for (Map.Entry<Piece, List<long[]>> e : narrowing.entrySet()) {
                Piece p = e.getKey();
                if (topology.nodes().containsKey(p.secondary)) {
                    deleteRows(p.secondary, HashIntervals.minus(e.getValue(), secondaryIntervals(layout, p.secondary)),
                            p, version);
                }
                // recorded only now: a sync that stops before this narrows the piece (and deletes) again
                recordIntervals(p, version);
            }
        }
        int created = 0;
        double seeded = 0;
        Map<ReplicaLayout.Link, List<long[]>> now = new TreeMap<>();
        for (Piece p : loadPieces()) {
            now.merge(p.link(), p.intervals, HashIntervals::union);
        }
        // new pieces copy at once, each from its own snapshot: a store gains its arcs from all primaries in parallel
        List<Piece> seeding = new ArrayList<>();
        for (Map.Entry<ReplicaLayout.Link, List<long[]>> e : desired.entrySet()) {
            List<long[]> gained = HashIntervals.minus(e.getValue(), now.getOrDefault(e.getKey(), List.of()));
            if (gained.isEmpty()) {
                continue;
            }
            seeding.add(seedPiece(e.getKey(), gained, version));
            created++;
            seeded += HashIntervals.share(gained);
        }
        for (Piece p : seeding) {
            awaitReady(p, version);
        }
        if (layout != null) {
            for (String s : touched) {
                if (topology.nodes().containsKey(s)) {
                    stamp(s, version);
                }
            }
        }
        Report report = new Report(version, created, narrowed, dropped, seeded, warnings);
        journal(version, null, "done", report.toString());
        progress.accept(report.toString());
        return report;
    }

    private static List<long[]> secondaryIntervals(ReplicaLayout layout, String node) {
        return layout == null || !layout.ring().contains(node) ? List.of() : layout.secondaryIntervalsOf(node);
    }

    // ---- stores ----

    /** Every node's store, in parallel: creating a database takes about a second on a busy server. */
    private void ensureStores() throws SQLException {
        PerNode.run("shardring-stores", 8, topology.nodes().values(), n -> {
            ensureStore(n);
            return n;
        });
    }

    /** Creates the node's secondary store if it is missing, and migrates it and the primary's shardring schema. */
    private void ensureStore(NodeConfig n) throws SQLException {
        String db = n.secondaryStoreDatabase();
        try (Connection c = nodes.apply(n.id()).getConnection()) {
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                ps.setString(1, db);
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (!exists) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + Sql.quote(db));
                } catch (SQLException e) {
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot create the secondary store " + db
                            + " of node " + n.id() + ": " + e.getMessage() + "; create the database by hand (or grant"
                            + " CREATEDB to " + n.user() + ") and run `shardring replicas sync` again", e);
                }
                journal(topology.version(), null, "store", "created database " + db + " on node " + n.id());
                progress.accept("created secondary store " + db + " on " + n.id());
            }
        }
        ShardedFlyway.shardringFlyway(nodes.apply(n.id())).migrate(); // the heartbeat table on the primary
        MigrationReport report = ShardedFlyway.configure(topology, Map.of())
                .secondaryStores(Map.of(n.id(), stores.apply(n.id()))).locations(options.appLocations)
                .ownershipGuard(false).load().migrate();
        if (!report.isSuccess()) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "the secondary store of node " + n.id()
                    + " could not be migrated: " + report + "; fix it and run `shardring replicas sync` again");
        }
        try (Connection c = stores.apply(n.id()).getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.secondary_store (node, topology_version) VALUES (?, NULL)"
                        + " ON CONFLICT (one) DO NOTHING")) {
            ps.setString(1, n.id());
            ps.executeUpdate();
        }
    }

    /** Stamps a store with the version it holds (null: changing); true when a readable stamp was taken away. */
    private boolean stamp(String node, Long version) throws SQLException {
        try (Connection c = stores.apply(node).getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.secondary_store SET topology_version = ?, synced_at = now()"
                        + " WHERE topology_version IS DISTINCT FROM ? RETURNING 1")) {
            ps.setObject(1, version, java.sql.Types.BIGINT);
            ps.setObject(2, version, java.sql.Types.BIGINT);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && version == null;
            }
        }
    }

    // ---- pieces ----

    private List<Piece> loadPieces() throws SQLException {
        return loadPieces(null);
    }

    private List<Piece> loadPieces(String state) throws SQLException {
        List<Piece> out = new ArrayList<>();
        try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, primary_node, secondary_node, intervals FROM"
                        + " shardring.replica_pieces" + (state == null ? "" : " WHERE state = " + Sql.literal(state))
                        + " ORDER BY id")) {
            while (rs.next()) {
                out.add(new Piece(rs.getLong(1), rs.getString(2), rs.getString(3), parse(rs.getString(4))));
            }
        }
        return out;
    }

    /** Starts a new piece for the arcs a link gained; {@link #awaitReady} waits for its copy. */
    private Piece seedPiece(ReplicaLayout.Link link, List<long[]> gained, long version) throws SQLException {
        // leftovers of an earlier layout in the gained arcs would collide with the copy
        deleteRows(link.secondary(), gained, null, version);
        long id;
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.replica_pieces (primary_node, secondary_node, intervals, state,"
                        + " topology_version) VALUES (?, ?, ?, 'seeding', ?) RETURNING id")) {
            ps.setString(1, link.primary());
            ps.setString(2, link.secondary());
            ps.setString(3, json(gained));
            ps.setLong(4, version);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        Piece p = new Piece(id, link.primary(), link.secondary(), gained);
        journal(version, id, "seed", link + ": " + gained.size() + " intervals, "
                + String.format("%.4f", HashIntervals.share(gained)) + " of the keyspace");
        progress.accept("seeding " + p.name() + " (" + link + ", " + gained.size() + " intervals)");
        startReplication(p);
        return p;
    }

    /**
     * Creates what a piece needs that does not exist yet: the publication and its heartbeat row and the slot on the
     * primary, the subscription (which copies the piece's rows) in the store. Run again for a piece a stopped sync
     * left seeding.
     */
    private void startReplication(Piece p) throws SQLException {
        String name = p.name();
        try (Connection c = nodes.apply(p.primary).getConnection(); Statement s = c.createStatement()) {
            if (!Sessions.exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", name)) {
                s.execute("CREATE PUBLICATION " + Sql.quote(name) + " FOR TABLE " + tablesSql(name, p.intervals)
                        + " WITH (publish = 'insert, update, delete')");
            }
            heartbeat(c, name, p.primary);
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')"
                    + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, name);
                ps.setString(2, name);
                ps.executeQuery().close();
            }
        }
        try (Connection t = stores.apply(p.secondary).getConnection(); Statement s = t.createStatement()) {
            if (Sessions.exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                return;
            }
            t.setAutoCommit(false);
            // the statement carries the primary's password: keep it out of the store's server log
            s.execute("SET LOCAL log_statement = 'none'");
            s.execute("SET LOCAL log_min_error_statement = 'panic'");
            s.execute("CREATE SUBSCRIPTION " + Sql.quote(name) + " CONNECTION "
                    + Sql.literal(nodes.conninfo(p.primary, "shardring_replica")) + " PUBLICATION "
                    + Sql.quote(name) + " WITH (copy_data = true, create_slot = false, slot_name = "
                    + Sql.literal(name) + ")");
            t.commit();
            t.setAutoCommit(true);
        }
    }

    /** Waits until the piece's subscription copied every table and applies changes, and records it as ready. */
    private void awaitReady(Piece p, long version) throws SQLException {
        awaitCopied(p);
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.replica_pieces SET state = 'ready', updated_at = now() WHERE id = ?")) {
            ps.setLong(1, p.id);
            ps.executeUpdate();
        }
        journal(version, p.id, "ready", p.link() + " seeded");
    }

    private void awaitCopied(Piece p) throws SQLException {
        int tables = topology.tables().size() + 1;
        poll(stores.apply(p.secondary), "SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*) FROM"
                + " pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = ?",
                ps -> ps.setString(1, p.name()), rs -> rs.next() && rs.getInt(1) == tables && rs.getInt(2) == tables,
                50, "piece " + p.name() + " (" + p.link() + ") did not finish its initial copy within "
                        + options.seedTimeout + "; see the server log of " + p.secondary + ", then run `shardring"
                        + " replicas sync` again");
    }

    /** Gives the piece's publication the narrower row filter; {@link #settleNarrowed} makes it take effect. */
    private void narrowFilter(Piece p, List<long[]> keep, long version) throws SQLException {
        journal(version, p.id, "narrow", p.link() + ": keeps " + keep.size() + " intervals of " + p.intervals.size());
        try (Connection c = nodes.apply(p.primary).getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER PUBLICATION " + Sql.quote(p.name()) + " SET TABLE " + tablesSql(p.name(), keep));
        }
        p.intervals = keep;
    }

    /**
     * After the filters of {@code narrowed} changed: once this returns, nothing of the arcs they gave up arrives in
     * their stores any more, so the stores may delete those rows. A running WAL sender may keep deciding with the
     * filter it cached (PostgreSQL 15 did: a row inserted after the change reached a store that had deleted the arc,
     * and stayed there), so each piece's subscription is restarted after every transaction older than the change
     * has ended; a new WAL sender decodes what follows the change with the new filter. Then a heartbeat written after
     * all that must arrive in the store.
     */
    private void settleNarrowed(java.util.Collection<Piece> narrowed) throws SQLException {
        Set<String> primaries = new LinkedHashSet<>();
        narrowed.forEach(p -> primaries.add(p.primary));
        for (String primary : primaries) {
            awaitOlderTransactions(nodes.apply(primary));
        }
        for (Piece p : narrowed) {
            setEnabled(p, false);
        }
        for (Piece p : narrowed) {
            awaitSlotInactive(p);
        }
        for (Piece p : narrowed) {
            setEnabled(p, true);
        }
        Map<Piece, Timestamp> markers = new LinkedHashMap<>();
        for (Piece p : narrowed) {
            try (Connection c = nodes.apply(p.primary).getConnection()) {
                markers.put(p, heartbeat(c, p.name(), p.primary));
            }
        }
        for (Map.Entry<Piece, Timestamp> e : markers.entrySet()) {
            awaitHeartbeat(e.getKey(), e.getValue());
        }
    }

    private void setEnabled(Piece p, boolean enabled) throws SQLException {
        try (Connection t = stores.apply(p.secondary).getConnection(); Statement s = t.createStatement()) {
            s.execute("ALTER SUBSCRIPTION " + Sql.quote(p.name()) + (enabled ? " ENABLE" : " DISABLE"));
        }
    }

    private void awaitSlotInactive(Piece p) throws SQLException {
        poll(nodes.apply(p.primary), "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND active",
                ps -> ps.setString(1, p.name()), rs -> !rs.next(), 10, "the slot of " + p.name() + " on " + p.primary
                        + " is still in use after its subscription was disabled; run `shardring replicas sync` again");
    }

    private void recordIntervals(Piece p, long version) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.replica_pieces SET intervals = ?, topology_version = ?, updated_at = now()"
                        + " WHERE id = ?")) {
            ps.setString(1, json(p.intervals));
            ps.setLong(2, version);
            ps.setLong(3, p.id);
            ps.executeUpdate();
        }
    }

    private void dropPiece(Piece p, long version) throws SQLException {
        journal(version, p.id, "drop", p.link().toString());
        if (reachableStore(p.secondary)) {
            try (Connection t = stores.apply(p.secondary).getConnection(); Statement s = t.createStatement()) {
                if (Sessions.exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", p.name())) {
                    s.execute("DROP SUBSCRIPTION " + Sql.quote(p.name())); // drops the slot on the primary too
                }
                try (PreparedStatement ps = t.prepareStatement("DELETE FROM shardring.heartbeat WHERE pub = ?")) {
                    ps.setString(1, p.name());
                    ps.executeUpdate();
                }
            }
        } else {
            journal(version, p.id, "drop", "the store of " + p.secondary + ", which left the topology, is unknown here:"
                    + " drop subscription " + p.name() + " there by hand");
        }
        try (Connection c = nodes.apply(p.primary).getConnection(); Statement s = c.createStatement()) {
            if (Sessions.exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND NOT active",
                    p.name())) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(p.name()) + ")");
            }
            s.execute("DROP PUBLICATION IF EXISTS " + Sql.quote(p.name()));
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM shardring.heartbeat WHERE pub = ?")) {
                ps.setString(1, p.name());
                ps.executeUpdate();
            }
        } catch (SQLException | RuntimeException e) {
            if (topology.nodes().containsKey(p.primary)) {
                throw e;
            }
            journal(version, p.id, "drop", "primary " + p.primary + " left the topology and is unreachable ("
                    + e.getMessage() + "); drop publication and slot " + p.name() + " there by hand if it returns");
        }
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM shardring.replica_pieces WHERE id = ?")) {
            ps.setLong(1, p.id);
            ps.executeUpdate();
        }
        p.intervals = List.of();
    }

    /**
     * Whether the store of a node is known: every node of the topology, and a node that left it if the caller knows
     * it.
     */
    private boolean reachableStore(String node) {
        try {
            stores.config(node);
            return true;
        } catch (ConfigurationException e) {
            try {
                NodeConfig n = nodes.config(node);
                stores.add(n.secondaryStore());
                return true;
            } catch (ConfigurationException unknown) {
                return false;
            }
        }
    }

    /**
     * Deletes a store's rows in {@code intervals}, all tables in one transaction. Foreign keys between sharded tables
     * (orders referencing customers) hold in a store as on its primary, so the tables go in reverse configuration
     * order (referencing tables are usually listed after the ones they reference) and, where the role may, with
     * {@code session_replication_role = replica}, which skips the checks: both sides of a reference are deleted.
     */
    private void deleteRows(String store, List<long[]> intervals, Piece p, long version) throws SQLException {
        if (intervals.isEmpty()) {
            return;
        }
        KeyType keyType = topology.ring().keyType();
        long deleted = 0;
        List<ShardedTable> tables = new ArrayList<>(topology.tables());
        java.util.Collections.reverse(tables);
        try (Connection c = stores.apply(store).getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                Sessions.skipTriggers(c);
                for (ShardedTable t : tables) {
                    deleted += s.executeUpdate("DELETE FROM " + t.quotedName() + " WHERE "
                            + OwnershipGuard.inIntervalsSql(keyType, t.quotedKeyColumn(), intervals));
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
        journal(version, p == null ? null : p.id, "delete", "store of " + store + ": " + deleted + " rows in "
                + intervals.size() + " intervals it no longer keeps");
    }

    private String tablesSql(String name, List<long[]> intervals) {
        KeyType keyType = topology.ring().keyType();
        StringBuilder sql = new StringBuilder();
        for (ShardedTable t : topology.tables()) {
            sql.append(t.quotedName()).append(" WHERE (")
                    .append(OwnershipGuard.inIntervalsSql(keyType, t.quotedKeyColumn(), intervals)).append("), ");
        }
        // no TRUNCATE: row filters do not apply to it
        return sql.append("shardring.heartbeat WHERE (pub = ").append(Sql.literal(name)).append(")").toString();
    }

    /** Writes the piece's heartbeat on its primary and returns its time: the mark to wait for in the store. */
    private static Timestamp heartbeat(Connection c, String name, String node) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.heartbeat (pub, node, at)"
                + " VALUES (?, ?, clock_timestamp()) ON CONFLICT (pub) DO UPDATE SET at = EXCLUDED.at RETURNING at")) {
            ps.setString(1, name);
            ps.setString(2, node);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1);
            }
        }
    }

    /** Waits until every transaction that was open on the node when this is called has ended. */
    private void awaitOlderTransactions(DataSource node) throws SQLException {
        long xmax;
        try (Connection c = node.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT txid_snapshot_xmax(txid_current_snapshot())")) {
            rs.next();
            xmax = rs.getLong(1);
        }
        poll(node, "SELECT txid_snapshot_xmin(txid_current_snapshot()) >= ?", ps -> ps.setLong(1, xmax),
                rs -> rs.next() && rs.getBoolean(1), 10, "transactions older than a replica filter change are still"
                        + " open after " + options.seedTimeout + "; end them (pg_stat_activity) and run `shardring"
                        + " replicas sync` again");
    }

    private void awaitHeartbeat(Piece p, Timestamp marker) throws SQLException {
        poll(stores.apply(p.secondary), "SELECT 1 FROM shardring.heartbeat WHERE pub = ? AND at >= ?", ps -> {
            ps.setString(1, p.name());
            ps.setTimestamp(2, marker);
        }, ResultSet::next, 20, "the store of " + p.secondary + " did not apply " + p.name() + "'s changes within "
                + options.seedTimeout + "; run `shardring replicas sync` again");
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface Condition {
        boolean holds(ResultSet rs) throws SQLException;
    }

    /**
     * Runs {@code sql} on {@code ds} every {@code pauseMillis} until {@code done} holds for its result; past the
     * sync's seed timeout it fails with {@code timedOut}.
     */
    private void poll(DataSource ds, String sql, Binder bind, Condition done, long pauseMillis, String timedOut)
            throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind.bind(ps);
            Boolean held = Poll.every(Duration.ofMillis(pauseMillis), options.seedTimeout, () -> {
                try (ResultSet rs = ps.executeQuery()) {
                    return done.holds(rs) ? Boolean.TRUE : null;
                }
            });
            if (held == null) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, timedOut);
            }
        }
    }

    private void journal(long version, Long piece, String step, String detail) {
        LOG.info("replicas {} {}: {}", step, piece == null ? "" : PREFIX + piece, detail);
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.replica_journal (topology_version, piece, step, detail) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, version);
            ps.setObject(2, piece, java.sql.Types.BIGINT);
            ps.setString(3, step);
            ps.setString(4, detail);
            ps.executeUpdate();
        } catch (SQLException e) {
            LOG.warn("cannot journal replicas step {}: {}", step, e.getMessage());
        }
    }

    static String json(List<long[]> intervals) {
        try {
            return JSON.writeValueAsString(intervals);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<long[]> parse(String json) {
        try {
            return new ArrayList<>(Arrays.asList(JSON.readValue(json, long[][].class)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted", e);
        }
    }
}
