package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ConfigurationException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.KeyHash;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A router that follows the catalog while a key's owner is fenced, as between a move's fence and its publish: the
 * unit of work waits, woken by the catalog, and runs on the new owner (or on the old one when the fence is lifted);
 * only past {@code router.cutoverWait} does it fail, naming the move that holds the key.
 */
@PgShards(3)
class CutoverWaitTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static Topology v1;

    @BeforeAll
    static void migrate(PgCluster cluster) {
        v1 = Shards.topology(cluster).build().withStoredTokens();
        try (ShardedDataSource r = ShardedDataSource.builder(v1).build()) {
            ShardedFlyway.configure(r).load().migrate().orThrow();
        }
    }

    @BeforeEach
    void freshCatalogAndOwnership(PgCluster cluster) throws SQLException {
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS shardring.replica_journal, shardring.replica_pieces, shardring.routers,"
                    + " shardring.move_journal, shardring.move_jobs, shardring.moves, shardring.topology_versions,"
                    + " shardring.catalog_identity, shardring.node_ordinals, shardring.key_allocator,"
                    + " shardring.adoptions, shardring.failovers, shardring.catalog_schema_history");
        }
        Catalog catalog = Catalog.open(cluster.shard(0).dataSource());
        assertThat(catalog.initialize(v1)).isTrue();
        own(cluster, v1);
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("TRUNCATE customers");
            }
        }
    }

    private static void own(PgCluster cluster, Topology t) throws SQLException {
        for (PgShard s : cluster.shards()) {
            own(s, t.version(), t.ownedRanges(s.name()));
        }
    }

    private static void own(PgShard s, long version, List<TokenRange> ranges) throws SQLException {
        try (Connection c = s.connect()) {
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, s.name(), version, v1.ring().keyType(), ranges);
            c.commit();
        }
    }

    private static PgShard shard(PgCluster cluster, String id) {
        return cluster.shard(Integer.parseInt(id.substring("shard".length())));
    }

    private static ShardedDataSource following(PgCluster cluster, RouterSettings settings) {
        return ShardedDataSource.builder(v1).followCatalog(cluster.shard(0).dataSource())
                .settings(settings.withCatalogPoll(Duration.ofSeconds(2))).meterRegistry(new SimpleMeterRegistry())
                .build();
    }

    private static int insert(Connection c, long tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (?, 'x')")) {
            ps.setLong(1, tenant);
            return ps.executeUpdate();
        }
    }

    /** A key that moves from its owner in v1 to shard0 when shard0's weight triples. */
    private static long movingKey(Topology v2) {
        for (long k = 0; k < 100_000; k++) {
            if (!v1.ring().route(k).id().equals(v2.ring().route(k).id())) {
                return k;
            }
        }
        throw new AssertionError("no moving key");
    }

    @Test
    void aFencedKeyWaitsForTheNextVersionAndRunsOnTheNewOwner(PgCluster cluster) throws Exception {
        Topology v2 = v1.withRing(v1.ring().withWeight("shard0", 3.0), 2);
        long key = movingKey(v2);
        PgShard source = shard(cluster, v1.ring().route(key).id());
        try (ShardedDataSource router = following(cluster, RouterSettings.DEFAULTS.withCutoverWait(WAIT))) {
            // the fence: the source stops owning what moves; nobody owns it yet
            own(source, 2, v2.ownedRanges(source.name()));
            CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> router.inTransaction(key,
                    c -> insert(c, key)));
            Thread.sleep(400);
            assertThat(write).as("waiting out the cutover, not failing").isNotDone();
            // the cutover completes: the target owns, the catalog publishes (and notifies)
            own(cluster, v2);
            long published = System.nanoTime();
            Catalog.attach(cluster.shard(0).dataSource()).publish(v2, "test cutover");

            assertThat(write.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - published)).as("woken by the notification")
                    .isLessThan(1000);
            assertThat(Shards.count(shard(cluster, "shard0"), "SELECT count(*) FROM customers WHERE tenant_id = ?",
                    key)).isEqualTo(1);
            assertThat(router.topology().version()).isEqualTo(2);
        }
    }

    @Test
    void aFenceThatIsLiftedLetsTheWorkRunOnTheOldOwnerAtOnce(PgCluster cluster) throws Exception {
        Topology v2 = v1.withRing(v1.ring().withWeight("shard0", 3.0), 2);
        long key = movingKey(v2);
        PgShard source = shard(cluster, v1.ring().route(key).id());
        try (ShardedDataSource router = following(cluster, RouterSettings.DEFAULTS.withCutoverWait(WAIT))) {
            own(source, 2, v2.ownedRanges(source.name()));
            CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> router.withConnection(key,
                    c -> insert(c, key)));
            Thread.sleep(400);
            assertThat(write).isNotDone();
            // a failed cutover gives the ranges back and wakes the routers; no version is published
            own(source, 1, v1.ownedRanges(source.name()));
            long released = System.nanoTime();
            Catalog.attach(cluster.shard(0).dataSource()).notifyRouters("fence released on " + source.name());

            assertThat(write.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released)).isLessThan(1000);
            assertThat(Shards.count(source, "SELECT count(*) FROM customers WHERE tenant_id = ?", key)).isEqualTo(1);
            assertThat(router.topology().version()).isEqualTo(1);
        }
    }

    @Test
    void pastTheCutoverWaitTheExceptionNamesTheMoveThatHoldsTheKey(PgCluster cluster) throws Exception {
        Topology v2 = v1.withRing(v1.ring().withWeight("shard0", 3.0), 2);
        long key = movingKey(v2);
        String from = v1.ring().route(key).id();
        PgShard source = shard(cluster, from);
        long hash = KeyHash.ofLong(key);
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO shardring.moves (id, change, from_version, target_document, state) VALUES"
                    + " (7, 'set-weight shard0 3.0', 1, '', 'running')");
            s.execute("INSERT INTO shardring.move_jobs (move_id, job, source, target, ranges, phase) VALUES (7, 1, '"
                    + from + "', 'shard0', '[[" + (hash - 10) + "," + (hash + 10) + "]]', 'cutover')");
        }
        try (ShardedDataSource router = following(cluster,
                RouterSettings.DEFAULTS.withCutoverWait(Duration.ofMillis(600)))) {
            own(source, 2, v2.ownedRanges(source.name()));
            long start = System.nanoTime();
            assertThatThrownBy(() -> router.inTransaction(key, c -> insert(c, key)))
                    .isInstanceOf(StaleTopologyException.class)
                    .hasMessageContaining("router.cutoverWait")
                    .hasMessageContaining("move 7 (set-weight shard0 3.0) holds it in job 2 (" + from + " -> shard0)")
                    .hasMessageContaining("shardring resume");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(600L, 5000L);
        }
    }

    /**
     * Pools for a running move's new node are opened ahead of its cutover; one that cannot be opened yet (its password
     * reference does not resolve) is tried again on the next poll instead of never.
     */
    @Test
    void aMovesNewNodeWhosePoolCannotBeOpenedYetIsTriedAgainOnTheNextPoll(PgCluster cluster) throws Exception {
        PgShard server = cluster.shard(1);
        Topology target = Shards.topology(cluster).version(2).node(NodeConfig.builder("ahead")
                .jdbcUrl(server.jdbcUrl()).user(server.user()).password("${SHARDRING_TEST_AHEAD_PASSWORD}").build())
                .build();
        try (Connection c = cluster.shard(0).connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.moves (id, change, from_version, target_document, state) VALUES"
                        + " (8, 'add-node ahead', 1, ?, 'running')")) {
            ps.setString(1, ShardringYaml.write(target.withStoredTokens(), null));
            ps.executeUpdate();
        }
        Map<String, String> env = new ConcurrentHashMap<>();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ShardedDataSource router = ShardedDataSource.builder(v1).followCatalog(cluster.shard(0).dataSource())
                .settings(RouterSettings.DEFAULTS.withCatalogPoll(Duration.ofMillis(100))).environment(env::get)
                .meterRegistry(meters).build()) {
            Thread.sleep(500); // five polls
            assertThat(meters.find("hikaricp.connections.max").tag("pool", "ahead").gauge())
                    .as("no pool while the password cannot be resolved").isNull();
            boolean trust = server.password() == null || server.password().isEmpty();
            env.put("SHARDRING_TEST_AHEAD_PASSWORD", trust ? "ignored-by-trust-auth" : server.password());
            Shards.await("a pool opened ahead for node ahead", Duration.ofSeconds(5),
                    () -> meters.find("hikaricp.connections.max").tag("pool", "ahead").gauge() != null);
        }
    }

    @Test
    void aRouterBuiltFromAConfigurationThatNamesTheCatalogFollowsItAndLeavesTheRegistryOnClose(PgCluster cluster)
            throws Exception {
        Topology v2 = v1.withRing(v1.ring().withWeight("shard0", 3.0), 2);
        Catalog catalog = Catalog.attach(cluster.shard(0).dataSource());
        catalog.publish(v2, "before the router started");
        own(cluster, v2);
        ShardringConfig config = new ShardringConfig(v1, RouterSettings.DEFAULTS.withCatalogPoll(Duration.ofMillis(100)),
                "shard0", List.of());
        RouterRegistry registry = new RouterRegistry(cluster.shard(0).dataSource());
        try (ShardedDataSource router = ShardedDataSource.builder(config).build()) {
            assertThat(router.topology().version()).as("the catalog's newest, not the file's").isEqualTo(2);
            Shards.await("the router in the registry", Duration.ofSeconds(10),
                    () -> registry.list().size() == 1 && registry.list().get(0).version == 2);
            assertThat(registry.list().get(0).pid).isEqualTo(ProcessHandle.current().pid());

            Topology v3 = v2.withRing(v2.ring().withWeight("shard1", 2.0), 3);
            catalog.publish(v3, "a later change");
            Shards.await("the router on version 3", Duration.ofSeconds(10), () -> router.topology().version() == 3);
            Shards.await("the registry on version 3", Duration.ofSeconds(10),
                    () -> registry.list().get(0).version == 3);
        }
        assertThat(registry.list()).as("removed on close").isEmpty();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("shardring-catalog-watcher")
                && t.isAlive());
    }

    @Test
    void aCatalogUnreachableAtStartLeavesTheRouterOnItsTopologyUntilTheCatalogAnswers(PgCluster cluster)
            throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Catalog catalog = Catalog.attach(cluster.shard(0).dataSource());
        cluster.kill(0);
        try {
            // a 1 s connection timeout: start-up waits that long for the dead catalog and node, not the default 5 s
            Topology.Builder quick = Topology.builder().version(v1.version()).ring(v1.ringSettings());
            v1.nodes().values().forEach(n -> quick.node(n.toBuilder().pool(p -> p.connectionTimeout(
                    Duration.ofSeconds(1)).validationTimeout(Duration.ofSeconds(1))).build()));
            v1.tables().forEach(quick::table);
            ShardringConfig config = new ShardringConfig(quick.build(), RouterSettings.DEFAULTS
                    .withCatalogPoll(Duration.ofMillis(100)), "shard0", List.of());
            try (ShardedDataSource router = ShardedDataSource.builder(config).meterRegistry(meters).build()) {
                assertThat(router.topology().version()).isEqualTo(1);
                assertThat(meters.get("shardring.catalog.reachable").gauge().value()).isZero();
                long key = -1;
                for (long k = 0; key < 0; k++) {
                    if (!v1.ring().route(k).id().equals("shard0")) {
                        key = k;
                    }
                }
                long k = key;
                assertThat((int) router.inTransaction(k, c -> insert(c, k))).as("routing by the configured topology")
                        .isEqualTo(1);

                cluster.restart(0);
                Topology v2 = v1.withRing(v1.ring().withWeight("shard0", 3.0), 2);
                own(cluster, v2);
                catalog.publish(v2, "while the router could not see the catalog");
                Shards.await("the router on version 2", Duration.ofSeconds(20),
                        () -> router.topology().version() == 2);
                assertThat(meters.get("shardring.catalog.reachable").gauge().value()).isEqualTo(1);
            }
        } finally {
            if (!isUp(cluster)) {
                cluster.restart(0);
            }
        }
    }

    private static boolean isUp(PgCluster cluster) {
        try (Connection c = cluster.shard(0).connect()) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    @Test
    void aCutoverWaitOfZeroOrLessIsAConfigurationError() {
        assertThatThrownBy(() -> RouterSettings.DEFAULTS.withCutoverWait(Duration.ZERO))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("router.cutoverWait")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> RouterSettings.DEFAULTS.withCutoverWait(Duration.ofSeconds(-1)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("router.cutoverWait");
    }

    @Test
    void aRouterThatStoppedReportingAgesOutOfTheRegistry(PgCluster cluster) throws Exception {
        RouterRegistry registry = new RouterRegistry(cluster.shard(0).dataSource());
        registry.report("crashed", "gone-host", 1, 1);
        registry.report("alive", "here", 2, 1);
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("UPDATE shardring.routers SET last_seen = now() - interval '10 minutes' WHERE id = 'crashed'");
        }
        assertThat(registry.behind(2, Duration.ofSeconds(30))).extracting(e -> e.id).containsExactly("alive");
        assertThat(registry.forgetSilent(Duration.ofMinutes(5))).isEqualTo(1);
        assertThat(registry.list()).extracting(e -> e.id).containsExactly("alive");
    }

}
