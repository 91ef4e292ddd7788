package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.migration.reference.ReferenceSync;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardringException;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Reference tables on embedded shards: one writable copy on the catalog's node, every other node a copy kept by
 * logical replication; rows written through {@code reference()} join with tenant rows on every shard within the lag
 * bound; the guard refuses writes anywhere else; a later migration's rows land once everywhere; a node that a move
 * adds is seeded before it takes tenants.
 */
@PgShards(3)
class ReferenceTablesTest {
    /** How long a reference row may take to be joinable on every shard. */
    private static final long LAG_BOUND_MS = 5_000;

    @Test
    void referenceRowsJoinOnEveryShardAndOnlyTheReferenceDataSourceWritesThem(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 2, b -> b.referenceTable("plans"))) {
            Topology t = f.catalog.load();
            assertThat(t.referenceNode()).as("the catalog's node by default").isEqualTo("shard0");

            // bad input first: a reference table without a primary key is refused, and nothing is half-applied
            Topology bad = t.toBuilder().referenceTable("audit_log").build();
            assertThatThrownBy(() -> new ReferenceSync(bad, f.pools, Duration.ofSeconds(30)).sync())
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("reference table public.audit_log has no primary key on node 'shard0'")
                    .hasMessageContaining("ADD PRIMARY KEY");
            assertThat(count(f.pools.apply("shard0"), "SELECT count(*) FROM pg_publication")).isZero();

            // a tenant table on the copy points at a seed row by a foreign key: the copy is reseeded all the same
            exec(f.pools.apply("shard1"), "INSERT INTO accounts (tenant_id, id, plan_id) VALUES (1, 1, 1)");
            ReferenceSync sync = new ReferenceSync(t, f.pools, Duration.ofSeconds(60));
            assertThat(sync.sync()).anyMatch(s -> s.contains("publication shardring_reference created on shard0"))
                    .anyMatch(s -> s.contains("copy on shard1 subscribed"));
            // the seed migration ran on both nodes; the copy now holds the writable copy's rows, once
            for (String node : List.of("shard0", "shard1")) {
                assertThat(plans(f.pools.apply(node))).as(node).isEqualTo(Map.of(1L, "free", 2L, "pro"));
            }

            // a reference row, joined with tenant rows on every shard
            Map<String, Long> tenantOf = oneTenantPerNode(t, "shard0", "shard1");
            for (long tenant : tenantOf.values()) {
                f.router.inTransaction(tenant, c -> {
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO events (tenant_id, id, val) VALUES (?, ?, 3)")) {
                        ps.setLong(1, tenant);
                        ps.setLong(2, -tenant - 1);
                        ps.executeUpdate();
                    }
                    return null;
                });
            }
            long written = System.nanoTime();
            try (Connection c = f.router.reference().getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO plans (id, name) VALUES (3, 'enterprise')");
            }
            long slowest = 0;
            for (long tenant : tenantOf.values()) {
                slowest = Math.max(slowest, awaitJoin(f, tenant, "enterprise", written));
            }
            assertThat(slowest).as("ms until the row joined on every shard").isLessThan(LAG_BOUND_MS);
            System.out.println("reference row joinable on every shard after " + slowest + " ms");
            assertThat(sync.lag()).singleElement().satisfies(l -> {
                assertThat(l.node()).isEqualTo("shard1");
                assertThat(l.streaming()).isTrue();
                assertThat(l.bytesBehind()).isGreaterThanOrEqualTo(0);
            });

            // writes anywhere but through reference() are refused, naming it
            assertThatThrownBy(() -> insertPlan(f.router.forKey(tenantOf.get("shard0")), 9)).satisfies(e -> {
                System.out.println("guard on the writable copy: " + e.getMessage());
                assertThat(((SQLException) e).getSQLState()).isEqualTo("SR002");
                assertThat(e.getMessage()).contains("written through ShardedDataSource.reference(), not through a"
                        + " tenant's DataSource");
            });
            assertThatThrownBy(() -> insertPlan(f.router.forKey(tenantOf.get("shard1")), 9)).satisfies(e -> {
                System.out.println("guard on a copy: " + e.getMessage());
                assertThat(((SQLException) e).getSQLState()).isEqualTo("SR002");
                assertThat(e.getMessage()).contains("read-only copy on this node")
                        .contains("ShardedDataSource.reference(), which writes the writable copy on node shard0");
            });

            // a later migration's reference row goes in on the writable copy and reaches the copy by replication
            ShardedFlyway.configure(f.router).locations(MoveFixture.LOCATION, "classpath:db/reftest").load().migrate()
                    .orThrow();
            awaitPlan(f.pools.apply("shard1"), 4L);
            // and replication goes on after it (a copy that kept the migration's own row would stop on the
            // replicated one: a duplicate key)
            exec(f.router.reference(), "INSERT INTO plans (id, name) VALUES (5, 'business')");
            awaitPlan(f.pools.apply("shard1"), 5L);
            Map<Long, String> all = plans(f.pools.apply("shard0"));
            assertThat(all).containsEntry(4L, "team").hasSize(5);
            assertThat(plans(f.pools.apply("shard1"))).as("every row once on the copy").isEqualTo(all);

            // a node that a move adds is seeded before its first cutover, then follows
            Plan add = f.addShard(2);
            f.mover(MoveListener.NONE).execute(add);
            DataSource shard2 = f.pools.apply("shard2");
            assertThat(plans(shard2)).as("shard2's copy right after the move").isEqualTo(all);
            try (Connection c = f.router.reference().getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE plans SET name = 'pro+' WHERE id = 2");
            }
            long deadline = System.nanoTime() + Duration.ofMillis(LAG_BOUND_MS).toNanos();
            while (!"pro+".equals(plans(shard2).get(2L)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(plans(shard2)).containsEntry(2L, "pro+");
            Topology grown = f.catalog.load();
            assertThat(grown.referenceTables()).extracting(Object::toString).containsExactly("public.plans");
            new ReferenceSync(grown, f.pools, Duration.ofSeconds(60)).sync();
            assertThat(new ReferenceSync(grown, f.pools, Duration.ofSeconds(60)).lag())
                    .extracting(ReferenceSync.CopyLag::node).containsExactlyInAnyOrder("shard1", "shard2");

            // a table added to the reference tables later: its seed rows on the copies give way to the writable copy's
            exec(f.router.reference(), "INSERT INTO currencies (code, name) VALUES ('JPY', 'yen')");
            Topology withCurrencies = grown.toBuilder().version(grown.version() + 1).referenceTable("currencies").build();
            f.mover(MoveListener.NONE).publish(withCurrencies, "reference tables [public.currencies] added");
            assertThat(new ReferenceSync(withCurrencies, f.pools, Duration.ofSeconds(60)).sync())
                    .anyMatch(l -> l.contains("copy on shard2: [public.currencies] added"));
            for (String node : List.of("shard1", "shard2")) {
                assertThat(count(f.pools.apply(node), "SELECT count(*) FROM currencies")).as(node).isEqualTo(3);
            }
            assertThat(count(f.pools.apply("shard1"), "SELECT count(*) FROM accounts a JOIN plans p ON p.id ="
                    + " a.plan_id")).as("the account's plan, reseeded under its foreign key").isEqualTo(1);

            // a node that leaves: its copy and its slot on the reference node go with the next sync
            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.removeNode("shard1")));
            Topology shrunk = f.catalog.load();
            assertThat(new ReferenceSync(shrunk, f.pools, Duration.ofSeconds(60)).sync())
                    .anyMatch(l -> l.contains("copy on shard1, which left the topology, dropped"));
            assertThat(count(f.pools.apply("shard0"), "SELECT count(*) FROM pg_replication_slots WHERE slot_name"
                    + " = 'shardring_ref_shard1'")).isZero();
            assertThat(count(f.pools.apply("shard1"), "SELECT count(*) FROM pg_subscription")).isZero();

            // the writable copy's node cannot leave
            assertThatThrownBy(() -> f.plan(TopologyChange.removeNode("shard0"))).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("writable copy of the reference tables");
            for (long tenant : tenantOf.values()) { // the joined rows are not the workload's
                f.router.inTransaction(tenant, c -> {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE tenant_id = ? AND id < 0")) {
                        ps.setLong(1, tenant);
                        return ps.executeUpdate();
                    }
                });
            }
            f.checkEverything();
        }
    }

    private static Map<String, Long> oneTenantPerNode(Topology t, String... nodes) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (long k = 0; out.size() < nodes.length; k++) {
            out.putIfAbsent(t.ring().route(k).id(), k);
        }
        return out;
    }

    private static long awaitJoin(MoveFixture f, long tenant, String name, long since) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection c = f.router.forKey(tenant).getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT p.name FROM events e JOIN plans p ON p.id = e.val WHERE e.tenant_id = ?")) {
                ps.setLong(1, tenant);
                try (ResultSet r = ps.executeQuery()) {
                    if (r.next() && name.equals(r.getString(1))) {
                        return (System.nanoTime() - since) / 1_000_000;
                    }
                }
            }
            assertThat(System.nanoTime()).as("the join found no '" + name + "' for tenant " + tenant).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static void insertPlan(DataSource ds, long id) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO plans (id, name) VALUES (?, 'x')")) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }

    private static void awaitPlan(DataSource ds, long id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMillis(LAG_BOUND_MS).toNanos();
        while (!plans(ds).containsKey(id)) {
            assertThat(System.nanoTime()).as("plan " + id + " on the copy").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static Map<Long, String> plans(DataSource ds) throws SQLException {
        Map<Long, String> out = new LinkedHashMap<>();
        List<Long> ids = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT id, name FROM plans ORDER BY id")) {
            while (r.next()) {
                ids.add(r.getLong(1));
                out.put(r.getLong(1), r.getString(2));
            }
        }
        assertThat(ids).as("no reference row twice").doesNotHaveDuplicates();
        return out;
    }

    private static void exec(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    private static long count(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
