package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
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
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A router holding an old topology: after a key moved, the old shard rejects and the router refreshes and
 * retries; after a pool was retired, a caller still holding it is told to route again. Every test starts
 * from the same state (each shard owns its ranges of {@link #v1}, no rows), so each runs alone and in any order.
 */
@PgShards(3)
class StaleTopologyTest {
    /** Far longer than any test here waits for a retired pool to close. */
    private static final Duration LONG_DRAIN = Duration.ofSeconds(60);

    private static Topology v1;

    @BeforeAll
    static void schema(PgCluster cluster) {
        v1 = Shards.topology(cluster).build().withStoredTokens();
        Map<String, DataSource> nodes = new LinkedHashMap<>();
        cluster.shards().forEach(s -> nodes.put(s.name(), s.dataSource()));
        ShardedFlyway.configure(v1, nodes).load().migrate().orThrow();
    }

    @BeforeEach
    void everyShardOwnsItsRangesOfVersion1AndHoldsNoRows(PgCluster cluster) throws SQLException {
        setOwnership(cluster, v1);
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("TRUNCATE customers");
            }
        }
    }

    private static PgShard shard(PgCluster cluster, String id) {
        return cluster.shards().stream().filter(s -> s.name().equals(id)).findFirst().orElseThrow();
    }

    private static void setOwnership(PgCluster cluster, Topology t) throws SQLException {
        for (PgShard s : cluster.shards()) {
            if (!t.nodes().containsKey(s.name())) {
                continue;
            }
            try (Connection c = s.connect()) {
                c.setAutoCommit(false);
                OwnershipGuard.setOwnedRanges(c, s.name(), t.version(), t.ring().keyType(), t.ownedRanges(s.name()));
                c.commit();
            }
        }
    }

    private static int insert(Connection c, long tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (?, 'moved')")) {
            ps.setLong(1, tenant);
            return ps.executeUpdate();
        }
    }

    /** The first key in 0..99,999 whose owner differs between the two rings. */
    private static long movedKey(HashRing before, HashRing after) {
        for (long k = 0; k < 100_000; k++) {
            if (!before.route(k).id().equals(after.route(k).id())) {
                return k;
            }
        }
        throw new AssertionError("no key in 0..99999 moves between " + before + " and " + after);
    }

    /** {@code t} as a new version (same ring) in which one node's pool settings differ, so it gets a new pool. */
    private static Topology withPool(Topology t, String nodeId, Consumer<PoolSettings.Builder> pool, long version) {
        Topology.Builder b = Topology.builder().version(version).ring(t.ringSettings());
        for (NodeConfig n : t.withStoredTokens().nodes().values()) {
            b.node(n.id().equals(nodeId) ? n.toBuilder().pool(pool).build() : n);
        }
        t.tables().forEach(b::table);
        Topology next = b.build();
        assertThat(next.ring().rangesOf(nodeId)).isEqualTo(t.ring().rangesOf(nodeId));
        return next;
    }

    private static HikariDataSource hikari(DataSource pool) throws SQLException {
        return pool.unwrap(HikariDataSource.class);
    }

    @Test
    void writeToAMovedKeyIsRejectedByTheOldShardThenRetriedOnTheNewOwner(PgCluster cluster) throws SQLException {
        AtomicReference<Topology> published = new AtomicReference<>(v1);
        try (ShardedDataSource router = ShardedDataSource.builder(v1).topologySource(published::get).build()) {
            // the cluster moves keys: shard0 takes a bigger share; shards' ownership changes, as at a cutover
            HashRing ring2 = v1.ring().withWeight("shard0", 3.0);
            Topology v2 = v1.withRing(ring2, 2);
            RingDiff diff = HashRing.diff(v1.ring(), ring2);
            assertThat(diff.moves()).isNotEmpty();
            long key = movedKey(v1.ring(), ring2);
            String oldOwner = v1.ring().route(key).id();
            String newOwner = ring2.route(key).id();
            assertThat(newOwner).isEqualTo("shard0");
            setOwnership(cluster, v2);
            published.set(v2);

            int rows = router.inTransaction(key, c -> insert(c, key));

            assertThat(rows).isEqualTo(1);
            assertThat(router.topology().version()).isEqualTo(2);
            assertThat(Shards.count(shard(cluster, newOwner), "SELECT count(*) FROM customers WHERE tenant_id = ?", key))
                    .isEqualTo(1);
            assertThat(Shards.count(shard(cluster, oldOwner), "SELECT count(*) FROM customers WHERE tenant_id = ?", key))
                    .isZero();
            assertThat(router.nodeFor(key)).isEqualTo(newOwner);
        }
    }

    @Test
    void whenTheSourceIsBehindTheShardsTheRetryFailsClearly(PgCluster cluster) throws SQLException {
        Topology v3 = v1.withRing(v1.ring().withWeight("shard1", 4.0), 3);
        setOwnership(cluster, v3);
        long key = movedKey(v1.ring(), v3.ring());
        try (ShardedDataSource router = ShardedDataSource.builder(v1).build()) {
            assertThatThrownBy(() -> router.inTransaction(key, c -> insert(c, key)))
                    .isInstanceOf(StaleTopologyException.class).hasMessageContaining("version 1")
                    .satisfies(e -> assertThat(((StaleTopologyException) e).sqlState())
                            .isEqualTo(StaleTopologyException.SQLSTATE));
        }
        for (PgShard s : cluster.shards()) {
            assertThat(Shards.count(s, "SELECT count(*) FROM customers WHERE tenant_id = ?", key)).isZero();
        }
    }

    @Test
    void aRetiredPoolStaysOpenWhileAConnectionIsLentOutAndClosesBecauseItReturns(PgCluster cluster) throws Exception {
        RouterSettings settings = RouterSettings.DEFAULTS.withDrainTimeout(LONG_DRAIN);
        try (ShardedDataSource router = ShardedDataSource.builder(v1).settings(settings).build()) {
            NodePool pool2 = (NodePool) router.node("shard2");
            DataSource pool0 = router.node("shard0");
            Connection borrowed = pool2.getConnection();

            Topology.Builder b = Topology.builder().version(2).ring(v1.ringSettings());
            v1.nodes().values().stream().filter(n -> !n.id().equals("shard2")).forEach(b::node);
            v1.tables().forEach(b::table);
            router.apply(b.build());
            assertThat(router.topology().nodes()).doesNotContainKey("shard2");
            assertThatThrownBy(() -> router.node("shard2")).isInstanceOf(ShardringException.class);

            // the lent-out connection keeps working, and its pool stays open, far beyond any fixed grace period
            // an implementation might use instead of waiting for the return (the drain timeout is 60 s)
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            int queries = 0;
            while (System.nanoTime() - until < 0) {
                assertThat(pool2.isClosed()).as("retired pool closed while a connection is still lent out").isFalse();
                try (Statement s = borrowed.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
                queries++;
                Thread.sleep(25);
            }
            assertThat(queries).isGreaterThan(1);
            assertThat(borrowed.isValid(2)).isTrue();
            assertThat(pool2.isClosed()).isFalse();

            borrowed.close();
            // closed because the connection came back: within a bound far below the 60 s drain timeout
            Shards.await("the retired pool closes once its connection is back", Duration.ofSeconds(10),
                    pool2::isClosed);
            assertThat(pool0.unwrap(NodePool.class).isClosed()).as("kept for the unchanged node").isFalse();
            assertThat(router.node("shard0")).isSameAs(pool0);
        }
    }

    @Test
    void aCallerHoldingAPoolRetiredSinceItRoutedIsToldToRouteAgain(PgCluster cluster) throws Exception {
        long key = 42;
        String node = v1.ring().route(key).id();
        RouterSettings settings = RouterSettings.DEFAULTS.withDrainTimeout(LONG_DRAIN);
        try (ShardedDataSource router = ShardedDataSource.builder(v1).settings(settings).build()) {
            DataSource routed = router.forKey(key);
            NodePool old = routed.unwrap(NodePool.class);

            // the node's pool settings change: the node keeps its keys but gets a new pool; the old one is retired
            router.apply(withPool(v1, node, p -> p.maximumPoolSize(5), 2));
            DataSource fresh = router.forKey(key);
            assertThat(fresh).isNotSameAs(routed);
            Shards.await("the retired pool, with nothing lent out, closes", Duration.ofSeconds(10), old::isClosed);

            assertThatThrownBy(routed::getConnection).isInstanceOf(StaleTopologyException.class)
                    .hasMessageContaining("node " + node).hasMessageContaining("retired")
                    .hasMessageContaining("route the key again")
                    .satisfies(e -> assertThat(StaleTopologyException.isCause(e)).isTrue());
            assertThat(router.isDown(node)).as("a retired pool says nothing about the server").isFalse();

            // routing again reaches the node through its new pool
            try (Connection c = router.forKey(key).getConnection()) {
                assertThat(insert(c, key)).isEqualTo(1);
            }
            assertThat(Shards.count(shard(cluster, node), "SELECT count(*) FROM customers WHERE tenant_id = ?", key))
                    .isEqualTo(1);
        }
    }

    @Test
    void inTransactionWaitingOnAPoolThatIsRetiredRoutesAgainAndSucceedsOnTheNewPool(PgCluster cluster)
            throws Exception {
        long key = 43;
        String node = v1.ring().route(key).id();
        // one connection in the node's pool, so that a second caller waits inside the pool it routed to
        Topology small = withPool(v1, node, p -> p.maximumPoolSize(1).minimumIdle(1)
                .connectionTimeout(Duration.ofSeconds(3)), 1);
        // retired pools close at once, lent-out connections or not
        RouterSettings settings = RouterSettings.DEFAULTS.withDrainTimeout(Duration.ZERO);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (ShardedDataSource router = ShardedDataSource.builder(small).settings(settings).meterRegistry(registry)
                .build()) {
            NodePool old = router.forKey(key).unwrap(NodePool.class);
            Connection held = old.getConnection();
            AtomicInteger runs = new AtomicInteger();
            Future<Integer> tx = caller.submit(() -> router.inTransaction(key, c -> {
                runs.incrementAndGet();
                return insert(c, key);
            }));
            Shards.await("the transaction waits for a connection of the old pool", Duration.ofSeconds(10),
                    () -> !tx.isDone() && hikari(old).getHikariPoolMXBean().getThreadsAwaitingConnection() == 1);

            router.apply(withPool(v1, node, p -> { }, 2));
            Shards.await("the retired pool closes", Duration.ofSeconds(10), old::isClosed);

            assertThat(tx.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(runs).as("the work ran once, on the new pool").hasValue(1);
            assertThat(registry.get("shardring.errors").tag("kind", "stale_topology").counter().count())
                    .isEqualTo(1.0);
            assertThat(router.forKey(key)).isNotSameAs(old);
            held.close();
            assertThat(Shards.count(shard(cluster, node), "SELECT count(*) FROM customers WHERE tenant_id = ?", key))
                    .isEqualTo(1);
        } finally {
            caller.shutdownNow();
        }
    }
}
