package io.shardring.migration.replica;

import io.shardring.migration.move.NodePools;
import io.shardring.migration.move.Sessions;
import io.shardring.migration.support.Poll;
import io.shardring.migration.support.RouterCatchUp;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Brings every secondary store in line with the catalog's topology (ring.replicationFactor >= 2): creates and
 * migrates the stores, and keeps one or more <em>pieces</em> per (primary, secondary) link, each a row-filtered
 * publication on the primary and a subscription in the secondary's store ({@code shardring_r_<id>}).
 *
 * <p>A change of topology touches only the arcs whose assignment changed: a piece that lost arcs gets a narrower row
 * filter (and is dropped when nothing is left), the store then deletes those arcs' rows; arcs a link gained are seeded
 * by a new piece, whose subscription copies exactly them (PostgreSQL's initial sync, from its own exported snapshot)
 * and then streams their changes. Stores that a change touches are marked as holding no version while it runs, and
 * nothing there is deleted before every router routes by the new version, so routers read elsewhere; at the end every
 * store is stamped with the topology version it holds. What changes is decided by {@link ReplicaPlan}; this class
 * applies it to the servers. Every step is journaled in the catalog ({@link ReplicaJournal}) and checks the servers'
 * state first, so a sync that stopped is simply run again.
 */
public final class ReplicaSync {
    /** As the mover's default: a router not heard from for this long (stopped, crashed) is not waited for. */
    private static final Duration ROUTER_GRACE = Duration.ofSeconds(30);

    /** Settings of a sync. */
    public static final class Options {
        private String[] appLocations = {};
        private Duration seedTimeout = Duration.ofMinutes(30);
        private Duration routerPause = Duration.ofMinutes(1);
        private Function<String, String> env = System::getenv;

        /** How {@code ${VAR}} password references resolve for the stores (default: the process environment). */
        public Options environment(Function<String, String> env) {
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
         * How long, after marking stores as changing and before deleting anything there, the sync waits for every
         * router that follows the catalog to route by the synced version, and so read elsewhere (default 1 min; a
         * router silent for 30 s no longer counts). Routers usually catch up within tens of milliseconds; past this
         * the sync stops, naming the routers behind.
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

    private final Catalog catalog;
    private final NodePools nodes;
    private final NodePools stores;
    private final Options options;
    private final Consumer<String> progress;
    private Topology topology;
    private ReplicaJournal journal;

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
        journal = new ReplicaJournal(catalog, topology.version());
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

    /** Decides what changes ({@link ReplicaPlan}) and applies it. */
    private Report run() throws SQLException {
        long version = topology.version();
        int r = topology.ringSettings().replicationFactor();
        ReplicaLayout layout = r >= 2 ? ReplicaLayout.of(topology.ring(), r) : null;
        List<String> warnings = layout == null ? List.of() : layout.warnings();
        warnings.forEach(w -> progress.accept("warning: " + w));
        Map<ReplicaLayout.Link, List<long[]>> desired = new TreeMap<>();
        SecondaryStores secondary = new SecondaryStores(topology, nodes, stores, options.appLocations, journal,
                progress);
        if (layout != null) {
            for (ReplicaLayout.Link link : layout.links()) {
                desired.put(link, layout.intervalsOf(link));
            }
            secondary.ensureAll();
        }
        ReplicaPlan plan = ReplicaPlan.reconcile(desired, journal.pieces(), topology.nodes().keySet(), layout != null);
        // a sync that stopped while pieces were seeding: finish them first, as they are
        for (ReplicaPlan.Piece p : plan.resume) {
            progress.accept("resuming the copy of " + p.name() + " (" + p.link() + ")");
            startReplication(p);
            awaitReady(p);
        }
        for (String n : plan.stampNow) {
            secondary.stamp(n, version); // nothing changes there: routers on the new version may read it at once
        }
        // the stores this change touches hold no version until it is done; also when a stopped sync marked them
        for (String s : plan.changing) {
            secondary.stamp(s, null);
        }
        if (!plan.changing.isEmpty()) {
            awaitRouters(plan.changing, version);
        }
        int narrowed = 0;
        int dropped = 0;
        // first every piece loses what it no longer carries: arcs it gives up may be gained by another link
        List<ReplicaPlan.Shrink> narrowing = new ArrayList<>();
        for (ReplicaPlan.Shrink shrink : plan.shrinks) {
            ReplicaPlan.Piece p = shrink.piece();
            if (shrink.drops()) {
                dropPiece(p);
                dropped++;
                deleteRows(p.secondary(), shrink.delete(), p);
            } else {
                narrowFilter(p, shrink.keep());
                narrowing.add(shrink);
                narrowed++;
            }
        }
        if (!narrowing.isEmpty()) {
            settleNarrowed(narrowing.stream().map(ReplicaPlan.Shrink::piece).toList());
            for (ReplicaPlan.Shrink shrink : narrowing) {
                deleteRows(shrink.piece().secondary(), shrink.delete(), shrink.piece());
                // recorded only now: a sync that stops before this narrows the piece (and deletes) again
                journal.narrowed(shrink.piece(), shrink.keep());
            }
        }
        int created = 0;
        double seeded = 0;
        // new pieces copy at once, each from its own snapshot: a store gains its arcs from all primaries in parallel
        List<ReplicaPlan.Piece> seeding = new ArrayList<>();
        for (ReplicaPlan.Seed seed : plan.seeds) {
            seeding.add(seedPiece(seed.link(), seed.intervals()));
            created++;
            seeded += HashIntervals.share(seed.intervals());
        }
        for (ReplicaPlan.Piece p : seeding) {
            awaitReady(p);
        }
        for (String s : plan.stampAtEnd()) {
            secondary.stamp(s, version);
        }
        Report report = new Report(version, created, narrowed, dropped, seeded, warnings);
        journal.step(null, "done", report.toString());
        progress.accept(report.toString());
        return report;
    }

    /**
     * After stores were marked as changing, and before anything there is deleted: waits until no router reads them.
     * A router reads a store only while the store's stamp is the version the router routes by. The stamps taken
     * away were older versions' (a store stamped with this version holds its layout already, so it is never marked),
     * so a router that routes by this version reads none of these stores, and routers only move on. Routers that
     * follow no catalog are not registered and cannot be waited for.
     */
    private void awaitRouters(Set<String> changing, long version) throws SQLException {
        String[] waitingFor = {null};
        List<RouterRegistry.Entry> behind = RouterCatchUp.await(new RouterRegistry(catalog.dataSource()), version,
                ROUTER_GRACE, options.routerPause, routers -> {
                    String now = routers.stream().map(e -> e.id + "@" + e.version).toList().toString();
                    if (!now.equals(waitingFor[0])) {
                        waitingFor[0] = now;
                        journal.step(null, "pause", "stores " + changing + " marked as changing; waiting for "
                                + routers.size() + " router(s) still routing by a version before " + version + ": "
                                + RouterCatchUp.describe(routers));
                    }
                });
        if (!behind.isEmpty()) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "the stores " + changing + " are marked as changing,"
                    + " but after " + options.routerPause.toMillis() + " ms " + behind.size() + " router(s) still"
                    + " route by a version before " + version + " and may read there: "
                    + RouterCatchUp.describe(behind) + ". Nothing was deleted; let them catch up (or stop them: a"
                    + " router silent for " + ROUTER_GRACE.toSeconds() + " s no longer counts), then run `shardring"
                    + " replicas sync` again");
        }
        journal.step(null, "pause", "stores " + changing + " marked as changing; every router routes by version "
                + version + " and reads none of them");
    }

    // ---- pieces ----

    /** Starts a new piece for the arcs a link gained; {@link #awaitReady} waits for its copy. */
    private ReplicaPlan.Piece seedPiece(ReplicaLayout.Link link, List<long[]> gained) throws SQLException {
        // leftovers of an earlier layout in the gained arcs would collide with the copy
        deleteRows(link.secondary(), gained, null);
        ReplicaPlan.Piece p = journal.addSeeding(link, gained);
        journal.step(p, "seed", link + ": " + gained.size() + " intervals, "
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
    private void startReplication(ReplicaPlan.Piece p) throws SQLException {
        String name = p.name();
        try (Connection c = nodes.apply(p.primary()).getConnection(); Statement s = c.createStatement()) {
            if (!Sessions.exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", name)) {
                s.execute("CREATE PUBLICATION " + Sql.quote(name) + " FOR TABLE " + tablesSql(name, p.intervals())
                        + " WITH (publish = 'insert, update, delete')");
            }
            heartbeat(c, name, p.primary());
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')"
                    + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, name);
                ps.setString(2, name);
                ps.executeQuery().close();
            }
        }
        try (Connection t = stores.apply(p.secondary()).getConnection(); Statement s = t.createStatement()) {
            if (Sessions.exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                return;
            }
            t.setAutoCommit(false);
            // the statement carries the primary's password: keep it out of the store's server log
            s.execute("SET LOCAL log_statement = 'none'");
            s.execute("SET LOCAL log_min_error_statement = 'panic'");
            s.execute("CREATE SUBSCRIPTION " + Sql.quote(name) + " CONNECTION "
                    + Sql.literal(nodes.conninfo(p.primary(), "shardring_replica")) + " PUBLICATION "
                    + Sql.quote(name) + " WITH (copy_data = true, create_slot = false, slot_name = "
                    + Sql.literal(name) + ")");
            t.commit();
            t.setAutoCommit(true);
        }
    }

    /** Waits until the piece's subscription copied every table and applies changes, and records it as ready. */
    private void awaitReady(ReplicaPlan.Piece p) throws SQLException {
        awaitCopied(p);
        journal.ready(p);
        journal.step(p, "ready", p.link() + " seeded");
    }

    private void awaitCopied(ReplicaPlan.Piece p) throws SQLException {
        int tables = topology.tables().size() + 1;
        poll(stores.apply(p.secondary()), "SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*) FROM"
                + " pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = ?",
                ps -> ps.setString(1, p.name()), rs -> rs.next() && rs.getInt(1) == tables && rs.getInt(2) == tables,
                50, "piece " + p.name() + " (" + p.link() + ") did not finish its initial copy within "
                        + options.seedTimeout + "; see the server log of " + p.secondary() + ", then run `shardring"
                        + " replicas sync` again");
    }

    /** Gives the piece's publication the narrower row filter; {@link #settleNarrowed} makes it take effect. */
    private void narrowFilter(ReplicaPlan.Piece p, List<long[]> keep) throws SQLException {
        journal.step(p, "narrow", p.link() + ": keeps " + keep.size() + " intervals of " + p.intervals().size());
        try (Connection c = nodes.apply(p.primary()).getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER PUBLICATION " + Sql.quote(p.name()) + " SET TABLE " + tablesSql(p.name(), keep));
        }
    }

    /**
     * After the filters of {@code narrowed} changed: once this returns, nothing of the arcs they gave up arrives in
     * their stores any more, so the stores may delete those rows. A running WAL sender may keep deciding with the
     * filter it cached (PostgreSQL 15 did: a row inserted after the change reached a store that had deleted the arc,
     * and stayed there), so each piece's subscription is restarted after every transaction older than the change
     * has ended; a new WAL sender decodes what follows the change with the new filter. Then a heartbeat written after
     * all that must arrive in the store.
     */
    private void settleNarrowed(Collection<ReplicaPlan.Piece> narrowed) throws SQLException {
        Set<String> primaries = new LinkedHashSet<>();
        narrowed.forEach(p -> primaries.add(p.primary()));
        for (String primary : primaries) {
            awaitOlderTransactions(nodes.apply(primary));
        }
        for (ReplicaPlan.Piece p : narrowed) {
            setEnabled(p, false);
        }
        for (ReplicaPlan.Piece p : narrowed) {
            awaitSlotInactive(p);
        }
        for (ReplicaPlan.Piece p : narrowed) {
            setEnabled(p, true);
        }
        Map<ReplicaPlan.Piece, Timestamp> markers = new LinkedHashMap<>();
        for (ReplicaPlan.Piece p : narrowed) {
            try (Connection c = nodes.apply(p.primary()).getConnection()) {
                markers.put(p, heartbeat(c, p.name(), p.primary()));
            }
        }
        for (Map.Entry<ReplicaPlan.Piece, Timestamp> e : markers.entrySet()) {
            awaitHeartbeat(e.getKey(), e.getValue());
        }
    }

    private void setEnabled(ReplicaPlan.Piece p, boolean enabled) throws SQLException {
        try (Connection t = stores.apply(p.secondary()).getConnection(); Statement s = t.createStatement()) {
            s.execute("ALTER SUBSCRIPTION " + Sql.quote(p.name()) + (enabled ? " ENABLE" : " DISABLE"));
        }
    }

    private void awaitSlotInactive(ReplicaPlan.Piece p) throws SQLException {
        poll(nodes.apply(p.primary()), "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND active",
                ps -> ps.setString(1, p.name()), rs -> !rs.next(), 10, "the slot of " + p.name() + " on " + p.primary()
                        + " is still in use after its subscription was disabled; run `shardring replicas sync` again");
    }

    private void dropPiece(ReplicaPlan.Piece p) throws SQLException {
        journal.step(p, "drop", p.link().toString());
        if (reachableStore(p.secondary())) {
            try (Connection t = stores.apply(p.secondary()).getConnection(); Statement s = t.createStatement()) {
                if (Sessions.exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", p.name())) {
                    s.execute("DROP SUBSCRIPTION " + Sql.quote(p.name())); // drops the slot on the primary too
                }
                try (PreparedStatement ps = t.prepareStatement("DELETE FROM shardring.heartbeat WHERE pub = ?")) {
                    ps.setString(1, p.name());
                    ps.executeUpdate();
                }
            }
        } else {
            journal.step(p, "drop", "the store of " + p.secondary() + ", which left the topology, is unknown here:"
                    + " drop subscription " + p.name() + " there by hand");
        }
        try (Connection c = nodes.apply(p.primary()).getConnection(); Statement s = c.createStatement()) {
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
            if (topology.nodes().containsKey(p.primary())) {
                throw e;
            }
            journal.step(p, "drop", "primary " + p.primary() + " left the topology and is unreachable ("
                    + e.getMessage() + "); drop publication and slot " + p.name() + " there by hand if it returns");
        }
        journal.dropped(p);
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
    private void deleteRows(String store, List<long[]> intervals, ReplicaPlan.Piece p) throws SQLException {
        if (intervals.isEmpty()) {
            return;
        }
        KeyType keyType = topology.ring().keyType();
        long deleted = 0;
        List<ShardedTable> tables = new ArrayList<>(topology.tables());
        Collections.reverse(tables);
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
        journal.step(p, "delete", "store of " + store + ": " + deleted + " rows in "
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

    private void awaitHeartbeat(ReplicaPlan.Piece p, Timestamp marker) throws SQLException {
        poll(stores.apply(p.secondary()), "SELECT 1 FROM shardring.heartbeat WHERE pub = ? AND at >= ?", ps -> {
            ps.setString(1, p.name());
            ps.setTimestamp(2, marker);
        }, ResultSet::next, 20, "the store of " + p.secondary() + " did not apply " + p.name() + "'s changes within "
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

}
