package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** A router holding an old topology after a key moved: the old shard rejects, the router refreshes and retries. */
@PgShards(3)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StaleTopologyTest {

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

    @Test
    @Order(1)
    void writeToAMovedKeyIsRejectedByTheOldShardThenRetriedOnTheNewOwner(PgCluster cluster) throws SQLException {
        Topology v1 = Shards.topology(cluster).build();
        AtomicReference<Topology> published = new AtomicReference<>(v1);
        try (ShardedDataSource router = ShardedDataSource.builder(v1).topologySource(published::get).build()) {
            ShardedFlyway.configure(router).load().migrate().orThrow();

            // the cluster moves keys: shard0 takes a bigger share; shards' ownership changes, as at a cutover
            HashRing ring2 = v1.ring().withWeight("shard0", 3.0);
            Topology v2 = v1.withRing(ring2, 2);
            RingDiff diff = HashRing.diff(v1.ring(), ring2);
            assertThat(diff.moves()).isNotEmpty();
            long moved = -1;
            for (long k = 0; k < 100_000 && moved < 0; k++) {
                if (!v1.ring().route(k).id().equals(ring2.route(k).id())) {
                    moved = k;
                }
            }
            String oldOwner = v1.ring().route(moved).id();
            String newOwner = ring2.route(moved).id();
            assertThat(newOwner).isEqualTo("shard0");
            setOwnership(cluster, v2);
            published.set(v2);

            long key = moved;
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
    @Order(2)
    void whenTheSourceIsBehindTheShardsTheRetryFailsClearly(PgCluster cluster) throws SQLException {
        Topology v1 = Shards.topology(cluster).version(1).build();
        Topology v3 = v1.withRing(v1.ring().withWeight("shard1", 4.0), 3);
        setOwnership(cluster, v3);
        long moved = -1;
        for (long k = 0; k < 100_000 && moved < 0; k++) {
            if (!v1.ring().route(k).id().equals(v3.ring().route(k).id())) {
                moved = k;
            }
        }
        long key = moved;
        try (ShardedDataSource router = ShardedDataSource.builder(v1).build()) {
            assertThatThrownBy(() -> router.inTransaction(key, c -> insert(c, key)))
                    .isInstanceOf(StaleTopologyException.class).hasMessageContaining("version 1")
                    .satisfies(e -> assertThat(((StaleTopologyException) e).sqlState())
                            .isEqualTo(StaleTopologyException.SQLSTATE));
        }
        setOwnership(cluster, v1.toBuilder().version(4).build());
    }

    @Test
    @Order(3)
    void poolsOfRemovedNodesCloseAfterTheirConnectionsReturn(PgCluster cluster) throws Exception {
        Topology v1 = Shards.topology(cluster).build();
        try (ShardedDataSource router = ShardedDataSource.builder(v1).build()) {
            DataSource shard2 = router.node("shard2");
            HikariDataSource pool2 = shard2.unwrap(HikariDataSource.class);
            HikariDataSource pool0 = router.node("shard0").unwrap(HikariDataSource.class);
            Connection borrowed = shard2.getConnection();

            Topology.Builder b = Topology.builder().version(2).ring(v1.ringSettings());
            v1.nodes().values().stream().filter(n -> !n.id().equals("shard2")).forEach(b::node);
            v1.tables().forEach(b::table);
            router.apply(b.build());

            assertThat(router.topology().nodes()).doesNotContainKey("shard2");
            Thread.sleep(300);
            assertThat(pool2.isClosed()).as("still lent out").isFalse();
            assertThat(borrowed.isValid(2)).isTrue();
            borrowed.close();
            long deadline = System.currentTimeMillis() + 5000;
            while (!pool2.isClosed() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertThat(pool2.isClosed()).isTrue();
            assertThat(pool0.isClosed()).as("kept for the unchanged node").isFalse();
            assertThat(router.node("shard0").unwrap(HikariDataSource.class)).isSameAs(pool0);
        }
    }
}
