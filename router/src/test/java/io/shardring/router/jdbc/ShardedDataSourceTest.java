package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ErrorCode;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ids.Ids;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@PgShards(3)
class ShardedDataSourceTest {
    private static PgCluster cluster;
    private static ShardedDataSource shards;
    private static SimpleMeterRegistry registry;

    @BeforeAll
    static void start(PgCluster c) {
        cluster = c;
        registry = new SimpleMeterRegistry();
        Topology topology = Shards.topology(c).build();
        shards = ShardedDataSource.builder(topology).meterRegistry(registry).build();
        MigrationReport report = ShardedFlyway.configure(shards).load().migrate().orThrow();
        assertThat(report.results()).hasSize(3);
        assertThat(report.schemasEqual()).isTrue();
        report.results().values().forEach(r -> assertThat(r.guardInstalled()).isTrue());
    }

    @AfterAll
    static void stop() {
        shards.close();
    }

    private PgShard shard(String id) {
        return cluster.shards().stream().filter(s -> s.name().equals(id)).findFirst().orElseThrow();
    }

    /** The catalog's topology names the operator's role; an application's router connects as its own. */
    @Test
    void routerUserReplacesTheNodesUser() throws SQLException {
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("DO $$ BEGIN CREATE ROLE router_only LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            }
        }
        RouterSettings settings = RouterSettings.DEFAULTS.withCredentials("router_only", null);
        try (ShardedDataSource own = ShardedDataSource.builder(Shards.topology(cluster).build()).settings(settings)
                .meterRegistry(new SimpleMeterRegistry()).build()) {
            assertThat(own.topology().node("shard0").user()).as("the topology is unchanged").isNotEqualTo("router_only");
            for (long key = 0; key < 30; key++) {
                String user = own.withConnection(key, c -> {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
                        rs.next();
                        return rs.getString(1);
                    }
                });
                assertThat(user).isEqualTo("router_only");
            }
        }
    }

    /** A tool role named shardring would put the application's tables into the shardring schema ("$user"). */
    @Test
    void migrationsAsARoleNamedShardringAreRefused() throws SQLException {
        PgShard s = shard("shard0");
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN CREATE ROLE shardring LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL;"
                    + " END $$");
        }
        Topology one = Topology.builder().version(1).ring(io.shardring.router.topology.RingSettings.of(
                io.shardring.router.ring.KeyType.BIGINT)).table("customers", "tenant_id")
                .node(Shards.node(s).user("shardring").build()).build();
        try (ShardedDataSource ds = ShardedDataSource.builder(one).meterRegistry(new SimpleMeterRegistry()).build()) {
            MigrationReport report = ShardedFlyway.configure(ds).load().migrate();
            assertThat(report.results().get("shard0").error()).contains("the application's migrations would go into"
                    + " the shardring schema, which is the current schema of role 'shardring'")
                    .contains("ALTER ROLE \"shardring\" SET search_path = public");
            assertThat(Shards.count(s, "SELECT count(*) FROM information_schema.tables WHERE table_schema ="
                    + " 'shardring' AND table_name = 'customers'")).as("nothing created there").isZero();
        }
    }

    @Test
    void everyTenantsRowsLandOnItsOwnerOnly() throws SQLException {
        for (long tenant = 1000; tenant < 1300; tenant++) {
            long t = tenant;
            shards.inTransaction(t, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (?, ?)")) {
                    ps.setLong(1, t);
                    ps.setString(2, "c" + t);
                    return ps.executeUpdate();
                }
            });
        }
        for (PgShard s : cluster.shards()) {
            // one query a shard (a connection a tenant and shard took 20 of this class's 30 seconds)
            java.util.Map<Long, Long> found = new java.util.HashMap<>();
            try (Connection c = s.connect(); Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(
                    "SELECT tenant_id, count(*) FROM customers WHERE tenant_id BETWEEN 1000 AND 1299 GROUP BY 1")) {
                while (rs.next()) {
                    found.put(rs.getLong(1), rs.getLong(2));
                }
            }
            for (long tenant = 1000; tenant < 1300; tenant++) {
                String owner = shards.nodeFor(tenant);
                assertThat(found.getOrDefault(tenant, 0L)).as("tenant %s on %s (owner %s)", tenant, s.name(), owner)
                        .isEqualTo(s.name().equals(owner) ? 1 : 0);
            }
        }
        assertThat(registry.get("shardring.routes").tag("node", "shard0").counter().count()).isPositive();
        assertThat(registry.get("shardring.connection.acquire").tag("node", "shard1").timer().count()).isPositive();
        assertThat(registry.get("hikaricp.connections").tag("pool", "shard2").gauge()).isNotNull();
        assertThat(registry.get("shardring.topology.version").gauge().value()).isEqualTo(1.0);
        double shares = 0;
        for (String n : List.of("shard0", "shard1", "shard2")) {
            shares += registry.get("shardring.ring.share").tag("node", n).gauge().value();
        }
        assertThat(shares).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void aShardRejectsWritesForKeysItDoesNotOwn() throws SQLException {
        long tenant = 77;
        String owner = shards.nodeFor(tenant);
        PgShard other = cluster.shards().stream().filter(s -> !s.name().equals(owner)).findFirst().orElseThrow();
        try (Connection c = other.connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("INSERT INTO customers (tenant_id, name) VALUES (77, 'x')"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE))
                    .hasMessageContaining("does not own key 77");
        }
        try (Connection c = shard(owner).connect(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("INSERT INTO customers (tenant_id, name) VALUES (77, 'x')")).isEqualTo(1);
            assertThat(s.executeUpdate("UPDATE customers SET name = 'y' WHERE tenant_id = 77")).isEqualTo(1);
            assertThat(s.executeUpdate("DELETE FROM customers WHERE tenant_id = 77")).isEqualTo(1);
        }
        // a row whose key this shard does not own (left behind, say, before a cleanup) cannot be re-keyed
        // into an owned key: the old key must be owned too
        long owned = 0;
        while (!shards.nodeFor(owned).equals(other.name())) {
            owned++;
        }
        try (Connection c = other.connect(); Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
            s.executeUpdate("INSERT INTO customers (tenant_id, name) VALUES (77, 'stray')");
            s.execute("RESET shardring.bypass_guard");
            String rekey = "UPDATE customers SET tenant_id = " + owned + " WHERE tenant_id = 77";
            assertThatThrownBy(() -> s.executeUpdate(rekey)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE));
            s.execute("SET shardring.bypass_guard = on");
            s.executeUpdate("DELETE FROM customers WHERE tenant_id = 77");
        }
    }

    @Test
    void inTransactionRollsBackOnException() {
        long tenant = 4242;
        assertThatThrownBy(() -> shards.inTransaction(tenant, c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO customers (tenant_id, name) VALUES (4242, 'gone')");
                s.executeUpdate("INSERT INTO nowhere VALUES (1)");
            }
            return null;
        })).isInstanceOf(ShardringException.class).hasMessageContaining(shards.nodeFor(tenant))
                .satisfies(e -> assertThat(((ShardringException) e).sqlState()).isEqualTo("42P01"));
        long rows = shards.inTransaction(tenant, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT count(*) FROM customers WHERE tenant_id = 4242")) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertThat(rows).isZero();
    }

    @Test
    void onAllShardsReturnsEachShardsResultOrError() {
        Map<String, ShardResult<String>> names = shards.onAllShards(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT node_id FROM shardring.shard_identity")) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertThat(names).containsOnlyKeys("shard0", "shard1", "shard2");
        names.forEach((node, r) -> assertThat(r.get()).isEqualTo(node));

        Map<String, ShardResult<Integer>> partial = shards.onAllShards(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT 1 / (CASE WHEN node_id = 'shard1' THEN 0 ELSE 1 END) FROM shardring.shard_identity")) {
                rs.next();
                return rs.getInt(1);
            }
        });
        assertThat(partial.get("shard0").get()).isEqualTo(1);
        assertThat(partial.get("shard2").get()).isEqualTo(1);
        assertThat(partial.get("shard1").isSuccess()).isFalse();
        assertThat(partial.get("shard1").error().getMessage()).contains("shard1").contains("division by zero");
    }

    @Test
    void groupByShardGroupsKeysByOwner() {
        List<Long> keys = new ArrayList<>();
        for (long k = 0; k < 100; k++) {
            keys.add(k);
        }
        Map<String, List<Long>> groups = shards.groupByShard(keys);
        assertThat(groups.values().stream().mapToInt(List::size).sum()).isEqualTo(100);
        groups.forEach((node, ks) -> ks.forEach(k -> assertThat(shards.nodeFor(k)).isEqualTo(node)));
    }

    @Test
    void contextBoundDataSourceRoutesByTheBoundKeyAndFailsClearlyWithout() throws Exception {
        assertThatThrownBy(() -> shards.contextBound().getConnection()).isInstanceOf(ShardringException.class)
                .hasMessageContaining("ShardContext.runWithKey")
                .satisfies(e -> assertThat(((ShardringException) e).code()).isEqualTo(ErrorCode.NO_KEY_BOUND));
        String node = ShardContext.callWithKey(31L, () -> {
            try (Connection c = shards.contextBound().getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT node_id FROM shardring.shard_identity")) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertThat(node).isEqualTo(shards.nodeFor(31L));
        assertThat(ShardContext.currentKey()).isNull();
    }

    @Test
    void nullKeyIsRejected() {
        assertThatThrownBy(() -> shards.forKey((Object) null)).isInstanceOf(InvalidKeyException.class);
        assertThatThrownBy(() -> shards.inTransaction(null, c -> 1)).isInstanceOf(InvalidKeyException.class);
        assertThatThrownBy(() -> shards.forKey("text-key")).isInstanceOf(InvalidKeyException.class)
                .hasMessageContaining("text-key");
    }

    @Test
    void uuidV7IdsMadeOnDifferentShardsNeverCollide() throws Exception {
        Set<UUID> all = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> jobs = new ArrayList<>();
        for (PgShard s : cluster.shards()) {
            jobs.add(pool.submit(() -> {
                List<UUID> ids = new ArrayList<>();
                try (Connection c = s.connect(); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT shardring.uuid_v7() FROM generate_series(1, 100000)")) {
                    while (rs.next()) {
                        ids.add((UUID) rs.getObject(1));
                    }
                }
                ids.forEach(u -> assertThat(u.version()).isEqualTo(7));
                all.addAll(ids);
                return ids.size();
            }));
        }
        jobs.add(pool.submit(() -> {
            for (int i = 0; i < 100000; i++) {
                UUID u = Ids.uuidV7();
                assertThat(u.variant()).isEqualTo(2);
                all.add(u);
            }
            return 100000;
        }));
        int made = 0;
        for (Future<Integer> f : jobs) {
            made += f.get();
        }
        pool.shutdown();
        assertThat(made).isEqualTo(400000);
        assertThat(all).hasSize(made);
        long now = System.currentTimeMillis();
        UUID fromSql;
        try (Connection c = cluster.shard(0).connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT shardring.uuid_v7()")) {
            rs.next();
            fromSql = (UUID) rs.getObject(1);
        }
        assertThat(Ids.timestampOf(fromSql)).isBetween(now - 5000, now + 5000);
        assertThat(Ids.uuidV7(1000).compareTo(Ids.uuidV7(2000))).isNegative();
    }
}
