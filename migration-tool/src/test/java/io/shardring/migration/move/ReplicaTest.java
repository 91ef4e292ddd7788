package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.TopologyChange;
import io.shardring.migration.replica.ReplicaStatus;
import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Secondary copies kept by logical replication (ring.replicationFactor 2, 4 nodes in 3 zones): each arc's copy is in
 * another zone than its primary, writes reach the copies within the read bound, reads of a dead primary's keys go to
 * its copies within a second while its writes fail fast, and after add-node and remove-node under writers every
 * secondary store holds exactly the arcs the ring assigns it, with the primaries' rows.
 */
@PgShards(5)
class ReplicaTest {
    private static final ReadPreference BOUNDED = ReadPreference.secondary().maxStaleness(Duration.ofMillis(500));

    private static NodeConfig zoned(PgShard s) {
        int i = Integer.parseInt(s.name().replaceAll("\\D", ""));
        return MoveFixture.node(s, "zone-" + (i % 3));
    }

    private static ReplicaSync sync(MoveFixture f) {
        return new ReplicaSync(f.catalog, f.pools, new ReplicaSync.Options().appLocations(MoveFixture.LOCATION)
                .routerPause(Duration.ofMillis(200)), null);
    }

    /**
     * One cluster's story, in one test because every step costs seconds of servers and moves: the placement, the
     * first sync and status, a store on another version, add-node and remove-node under writers, then a write read
     * back from its copy, its primary killed, reads failing over and writes failing fast, and the primary's return.
     */
    @Test
    void copiesFollowWritesMovesAndADeadPrimary(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 4, 2, ReplicaTest::zoned)) {
            Topology t = f.catalog.load();
            ReplicaLayout layout = ReplicaLayout.of(t.ring(), 2);
            assertThat(layout.arcs()).allSatisfy(a -> assertThat(t.node(a.secondaries().get(0).id()).zone())
                    .as("zone of %s's copy", a).isNotEqualTo(t.node(a.primary().id()).zone()));
            ReplicaSync.Report report = sync(f).sync();
            assertThat(report.created).isEqualTo(layout.links().size());
            assertStoresExact(f, t);
            ReplicaStatus status = ReplicaStatus.inspect(f.catalog, t, f.pools, System::getenv);
            assertThat(status.pieces).hasSize(layout.links().size()).allSatisfy(p -> {
                assertThat(p.problem).as("problem of %s", p.name).isNull();
                assertThat(p.lagMillis).as("lag of %s", p.name).isBetween(0L, 500L);
                assertThat(p.lagBytes).isNotNegative();
            });
            assertThat(status.stores.values()).allSatisfy(st -> assertThat(st.version).isEqualTo(t.version()));

            // a store on another version: status says so, and a SECONDARY read names it instead of reading there
            long probe = tenantOwnedBy(t, "shard1");
            String copyNode = layout.nodesFor(probe).get(1).id();
            try (Connection c = store(f, copyNode); Statement s = c.createStatement()) {
                s.execute("UPDATE shardring.secondary_store SET topology_version = 0");
            }
            assertThat(ReplicaStatus.inspect(f.catalog, t, f.pools, System::getenv).stores.get(copyNode).problem)
                    .contains("holds topology version 0, not 1").contains("replicas sync");
            Thread.sleep(200); // the router's next samples
            assertThatThrownBy(() -> f.router.forKey(probe, BOUNDED)).isInstanceOf(ShardUnavailableException.class)
                    .hasMessageContaining("secondary store on " + copyNode).hasMessageContaining("holds topology version 0");
            assertThat(f.router.forKey(probe, ReadPreference.secondaryPreferred())).as("falls back to the primary")
                    .isSameAs(f.router.node("shard1"));
            try (Connection c = store(f, copyNode); Statement s = c.createStatement()) {
                s.execute("UPDATE shardring.secondary_store SET topology_version = 1");
            }
            Thread.sleep(200);

            // a copy held behind its bound (its subscriptions stopped): sampled and usable, but a bounded read must
            // not go there, and SECONDARY_PREFERRED within the bound falls back to the primary
            subscriptions(f, copyNode, false);
            Thread.sleep(3 * BOUNDED.maxStaleness().toMillis());
            assertThatThrownBy(() -> f.router.forKey(probe, BOUNDED)).isInstanceOf(ShardUnavailableException.class)
                    .hasMessageContaining("secondary store on " + copyNode).hasMessageContaining("ms behind");
            assertThat(f.router.forKey(probe, ReadPreference.secondaryPreferred().maxStaleness(
                    BOUNDED.maxStaleness()))).as("falls back to the primary").isSameAs(f.router.node("shard1"));
            assertThat(f.router.forKey(probe, ReadPreference.secondary())).as("without a bound the copy serves")
                    .isNotSameAs(f.router.node("shard1"));
            subscriptions(f, copyNode, true);
            long resumed = System.nanoTime();
            while (true) {
                try {
                    assertThat(f.router.forKey(probe, BOUNDED)).isNotSameAs(f.router.node("shard1"));
                    break;
                } catch (ShardUnavailableException behind) {
                    assertThat(Duration.ofNanos(System.nanoTime() - resumed)).as("copy caught up after: %s",
                            behind.getMessage()).isLessThan(Duration.ofSeconds(10));
                    Thread.sleep(20);
                }
            }

            // add-node and remove-node under writers: every store holds exactly its arcs, nothing acknowledged lost
            f.workload.start(4);
            f.workload.awaitOps(200);
            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.addNode(zoned(cluster.shard(4)))));
            // a router still on the old version may read the stores about to change: nothing is deleted there
            try (Connection c = f.catalog.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO shardring.routers (id, host, pid, version) VALUES ('behind', 'old-host', 7, 1)");
            }
            assertThatThrownBy(() -> sync(f).sync()).hasMessageContaining("marked as changing")
                    .hasMessageContaining("old-host pid 7 at version 1").hasMessageContaining("replicas sync` again");
            try (Connection c = f.catalog.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DELETE FROM shardring.routers WHERE id = 'behind'");
            }
            ReplicaSync.Report added = sync(f).sync();
            assertThat(added.created).as("links that gained arcs").isPositive();
            assertThat(added.seededShare).as("share of the keyspace copied").isLessThan(0.5);
            f.workload.awaitOps(f.workload.ops() + 200);
            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.removeNode("shard1")));
            sync(f).sync();
            f.workload.awaitOps(f.workload.ops() + 200);
            f.workload.stop();
            f.checkEverything();
            Topology last = f.catalog.load();
            assertStoresExact(f, last);
            crossShardFromCopiesEqualsPrimaries(f);

            // a write appears on the copy within the bound
            long tenant = tenantOwnedBy(last, "shard2");
            f.router.inTransaction(tenant, c -> insert(c, tenant, 77_000_001L));
            long t0 = System.nanoTime();
            while (readVal(f, tenant, 77_000_001L, BOUNDED) == null) {
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("wait for the copy").isLessThan(
                        Duration.ofMillis(500));
                Thread.sleep(5);
            }
            DataSource copy = f.router.forKey(tenant, BOUNDED);
            assertThat(copy).isNotSameAs(f.router.node("shard2"));

            // the primary dies: its keys' reads go to the copy within a second, its writes fail fast
            Assumptions.assumeTrue(cluster.canCrashShards(), "the rest needs a backend that can kill a shard's server");
            cluster.kill(2);
            long killed = System.nanoTime();
            Long seen = null;
            while (seen == null) {
                try {
                    seen = f.router.read(tenant, ReadPreference.primaryPreferred().maxStaleness(Duration.ofMillis(500)),
                            c -> val(c, tenant, 77_000_001L));
                } catch (RuntimeException e) {
                    assertThat(Duration.ofNanos(System.nanoTime() - killed)).as("failover of reads, last error: %s",
                            e.getMessage()).isLessThan(Duration.ofSeconds(1));
                }
            }
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(1));
            assertThat(seen).isEqualTo(0L);
            assertThat(readVal(f, tenant, 77_000_001L, BOUNDED)).as("a bounded SECONDARY read").isEqualTo(0L);
            Thread.sleep(200); // the monitor has marked the primary down by now
            long w0 = System.nanoTime();
            assertThatThrownBy(() -> f.router.inTransaction(tenant, c -> insert(c, tenant, 77_000_002L)))
                    .isInstanceOf(ShardUnavailableException.class).hasMessageContaining("shard2");
            assertThat(Duration.ofNanos(System.nanoTime() - w0)).as("a write to a down primary").isLessThan(
                    Duration.ofMillis(200));

            cluster.restart(2);
            long back = System.nanoTime();
            while (f.router.forKey(tenant, ReadPreference.primaryPreferred()) != f.router.node("shard2")) {
                assertThat(Duration.ofNanos(System.nanoTime() - back)).as("reads back on the primary").isLessThan(
                        Duration.ofSeconds(5));
                Thread.sleep(10);
            }
            f.router.inTransaction(tenant, c -> insert(c, tenant, 77_000_003L));
        }
    }

    /**
     * Each store holds exactly the rows of its arcs, as their primaries hold them (after the copies caught up): no row
     * outside its arcs, none missing, the same val.
     */
    private static void assertStoresExact(MoveFixture f, Topology t) throws Exception {
        ReplicaLayout layout = ReplicaLayout.of(t.ring(), t.ringSettings().replicationFactor());
        awaitCaughtUp(f, t);
        for (String node : t.nodes().keySet()) {
            List<long[]> kept = layout.secondaryIntervalsOf(node);
            Map<String, Long> expected = new TreeMap<>();
            for (String primary : t.nodes().keySet()) {
                List<long[]> fromIt = HashIntervals.intersect(kept, HashIntervals.of(t.ownedRanges(primary)));
                try (Connection c = f.pools.apply(primary).getConnection()) {
                    expected.putAll(rows(c, fromIt));
                }
            }
            try (Connection c = store(f, node)) {
                Map<String, Long> actual = rows(c, null);
                java.util.Set<String> extra = new java.util.TreeSet<>(actual.keySet());
                extra.removeAll(expected.keySet());
                java.util.Set<String> missing = new java.util.TreeSet<>(expected.keySet());
                missing.removeAll(actual.keySet());
                StringBuilder why = new StringBuilder();
                extra.stream().limit(5).forEach(k -> why.append(" extra ").append(k).append(" (copies on ")
                        .append(layout.nodesFor(Long.parseLong(k.split(":")[1]))).append(')'));
                missing.stream().limit(5).forEach(k -> why.append(" missing ").append(k));
                assertThat(actual.size()).as("rows in the store of %s:%s", node, why).isEqualTo(expected.size());
                assertThat(actual).as("the store of %s", node).isEqualTo(expected);
            }
        }
    }

    /**
     * Cross-shard queries read from the secondary stores (each store holds the arcs of several primaries, so each
     * query keeps its share with ownedRows) give the primaries' answer: every key counted once.
     */
    private static void crossShardFromCopiesEqualsPrimaries(MoveFixture f) {
        io.shardring.router.jdbc.CrossShard primaries = io.shardring.router.jdbc.CrossShard.on(f.router);
        io.shardring.router.jdbc.CrossShard copies = io.shardring.router.jdbc.CrossShard.on(f.router,
                ReadPreference.secondary());
        String select = "SELECT count(*), sum(val), min(id), max(id) FROM events WHERE ";
        io.shardring.router.jdbc.CrossShard.Agg[] aggs = {io.shardring.router.jdbc.CrossShard.Agg.COUNT,
            io.shardring.router.jdbc.CrossShard.Agg.SUM, io.shardring.router.jdbc.CrossShard.Agg.MIN,
            io.shardring.router.jdbc.CrossShard.Agg.MAX};
        var expected = primaries.aggregate(select + primaries.ownedRows("tenant_id"), List.of(), aggs).valueOrThrow();
        var fromCopies = copies.aggregate(select + copies.ownedRows("tenant_id"), List.of(), aggs);
        assertThat(fromCopies.failures()).isEmpty();
        assertThat(fromCopies.valueOrThrow().toString()).isEqualTo(expected.toString());
        assertThat(expected.get(0).getLong(0)).isGreaterThan(100);
        var unfiltered = copies.aggregate(select + "true", List.of(), aggs).valueOrThrow();
        assertThat(unfiltered.get(0).getLong(0)).as("a store queried once per primary it copies, without ownedRows")
                .isGreaterThan(expected.get(0).getLong(0));
        assertThat(f.router.onAllShards(ReadPreference.secondary(), c -> 1).keySet())
                .allSatisfy(k -> assertThat(k).startsWith("secondary store on"));
        java.util.Comparator<long[]> byValDescThenId = (a, b) -> a[1] != b[1] ? Long.compare(b[1], a[1])
                : Long.compare(a[0], b[0]);
        for (io.shardring.router.jdbc.CrossShard cross : List.of(primaries, copies)) {
            assertThat(cross.sorted(byValDescThenId, 3, 20, (c, n) -> {
                List<long[]> out = new java.util.ArrayList<>();
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, val FROM events WHERE "
                        + cross.ownedRows("tenant_id") + " ORDER BY val DESC, id LIMIT " + n)) {
                    while (rs.next()) {
                        out.add(new long[] {rs.getLong(1), rs.getLong(2)});
                    }
                }
                return out;
            }).valueOrThrow()).extracting(r -> r[0] + ":" + r[1]).isEqualTo(primaries.sorted(byValDescThenId, 3, 20,
                    (c, n) -> {
                        List<long[]> out = new java.util.ArrayList<>();
                        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, val FROM"
                                + " events ORDER BY val DESC, id LIMIT " + n)) {
                            while (rs.next()) {
                                out.add(new long[] {rs.getLong(1), rs.getLong(2)});
                            }
                        }
                        return out;
                    }).valueOrThrow().stream().map(r -> r[0] + ":" + r[1]).toList());
        }
    }

    /** Waits until every store applied a heartbeat written after this call on every primary. */
    private static void awaitCaughtUp(MoveFixture f, Topology t) throws Exception {
        Thread.sleep(300); // heartbeats written from now on follow every acknowledged write
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        for (String node : t.nodes().keySet()) {
            try (Connection c = store(f, node); Statement s = c.createStatement()) {
                while (true) {
                    try (ResultSet rs = s.executeQuery("SELECT coalesce(max(clock_timestamp() - at) < interval"
                            + " '250 milliseconds', true) FROM shardring.heartbeat WHERE pub <> ''")) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            break;
                        }
                    }
                    assertThat(System.nanoTime()).as("store of %s catching up", node).isLessThan(deadline);
                    Thread.sleep(20);
                }
            }
        }
    }

    private static Map<String, Long> rows(Connection c, List<long[]> intervals) throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        for (String table : List.of("events", "notes")) {
            String where = intervals == null ? "true" : OwnershipGuard.inIntervalsSql(
                    io.shardring.router.ring.KeyType.BIGINT, "tenant_id", intervals);
            String val = table.equals("events") ? "val" : "0";
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT tenant_id, id, " + val
                    + " FROM " + table + " WHERE " + where)) {
                while (rs.next()) {
                    out.put(table + ":" + rs.getLong(1) + ":" + rs.getLong(2), rs.getLong(3));
                }
            }
        }
        return out;
    }

    /** Enables or disables every subscription of the node's secondary store. */
    private static void subscriptions(MoveFixture f, String node, boolean enabled) throws SQLException {
        try (Connection c = store(f, node); Statement s = c.createStatement()) {
            List<String> names = new java.util.ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT subname FROM pg_subscription WHERE subdbid ="
                    + " (SELECT oid FROM pg_database WHERE datname = current_database())")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            assertThat(names).as("subscriptions of %s's store", node).isNotEmpty();
            for (String name : names) {
                s.execute("ALTER SUBSCRIPTION \"" + name.replace("\"", "\"\"") + "\" "
                        + (enabled ? "ENABLE" : "DISABLE"));
            }
        }
    }

    private static Connection store(MoveFixture f, String node) throws SQLException {
        NodeConfig n = f.pools.config(node);
        Properties p = new Properties();
        p.setProperty("user", n.user());
        PgShard shard = f.cluster.shards().stream().filter(s -> s.name().equals(node)).findFirst().orElseThrow();
        if (shard.password() != null && !shard.password().isEmpty()) {
            p.setProperty("password", shard.password());
        }
        return DriverManager.getConnection(n.secondaryStoreUrl(), p);
    }

    private static long tenantOwnedBy(Topology t, String node) {
        for (long k = 1; ; k++) {
            if (t.ring().route(k).id().equals(node)) {
                return k;
            }
        }
    }

    private static int insert(Connection c, long tenant, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (tenant_id, id, val) VALUES (?, ?, 0)")) {
            ps.setLong(1, tenant);
            ps.setLong(2, id);
            return ps.executeUpdate();
        }
    }

    private static Long readVal(MoveFixture f, long tenant, long id, ReadPreference p) {
        return f.router.read(tenant, p, c -> val(c, tenant, id));
    }

    private static Long val(Connection c, long tenant, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT val FROM events WHERE tenant_id = ? AND id = ?")) {
            ps.setLong(1, tenant);
            ps.setLong(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }
}
