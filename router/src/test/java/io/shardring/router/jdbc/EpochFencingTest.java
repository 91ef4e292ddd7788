package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.StaleEpochException;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fencing by epoch: a router refuses a node's server that records another epoch than its topology, checked once when
 * the pool opens a connection; epoch 0 checks nothing. Each test starts with no epoch recorded anywhere.
 */
@PgShards(2)
class EpochFencingTest {
    private static final RouterSettings QUICK = RouterSettings.DEFAULTS.withDownBackoff(Duration.ofMillis(300));

    private static Topology v1;
    private static PgShard a;
    private static PgShard b;

    @BeforeAll
    static void schema(PgCluster cluster) throws SQLException {
        v1 = Shards.topology(cluster).build().withStoredTokens();
        Map<String, DataSource> nodes = new LinkedHashMap<>();
        cluster.shards().forEach(s -> nodes.put(s.name(), s.dataSource()));
        ShardedFlyway.configure(v1, nodes).load().migrate().orThrow();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect()) {
                c.setAutoCommit(false);
                OwnershipGuard.setOwnedRanges(c, s.name(), v1.version(), v1.ring().keyType(), v1.ownedRanges(s.name()));
                c.commit();
            }
        }
        a = cluster.shards().get(0);
        b = cluster.shards().get(1);
    }

    @BeforeEach
    void noEpochRecorded() throws SQLException {
        for (PgShard s : new PgShard[] {a, b}) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("DELETE FROM shardring.node_epoch");
                st.execute("TRUNCATE customers");
            }
        }
    }

    private static void record(PgShard s, long epoch) throws SQLException {
        try (Connection c = s.connect()) {
            NodeEpoch.record(c, epoch);
        }
    }

    /** v1 with node {@code id} at {@code epoch}, one connection in its pool and a short connection timeout. */
    private static Topology withEpoch(String id, long epoch) {
        Topology.Builder t = Topology.builder().version(2).ring(v1.ringSettings());
        v1.tables().forEach(t::table);
        for (NodeConfig n : v1.nodes().values()) {
            t.node(!n.id().equals(id) ? n : n.toBuilder().epoch(epoch).pool(p -> p.maximumPoolSize(1).minimumIdle(1)
                    .connectionTimeout(Duration.ofSeconds(1))).build());
        }
        return t.build();
    }

    private static long keyOn(Topology t, String node) {
        for (long k = 0; ; k++) {
            if (t.ring().route(k).id().equals(node)) {
                return k;
            }
        }
    }

    private static int insert(Connection c, long tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (?, 'x')")) {
            ps.setLong(1, tenant);
            return ps.executeUpdate();
        }
    }

    @Test
    void anOldPrimaryIsRefusedNamingBothEpochsAndTakenBackOnceItRecordsTheTopologysEpoch() throws Exception {
        record(b, 1);
        Topology t = withEpoch(b.name(), 2);
        long onA = keyOn(t, a.name());
        long onB = keyOn(t, b.name());
        try (ShardedDataSource router = ShardedDataSource.builder(t).settings(QUICK).build()) {
            // marked down by the start-up probe: the first call fails at once, naming the node and both epochs
            assertThatThrownBy(() -> router.inTransaction(onB, c -> insert(c, onB)))
                    .isInstanceOf(StaleEpochException.class).isInstanceOf(ShardUnavailableException.class)
                    .hasMessageContaining("shard " + b.name() + ": server at epoch 1, the topology says 2")
                    .hasMessageContaining("old primary")
                    .satisfies(e -> {
                        StaleEpochException s = (StaleEpochException) e;
                        assertThat(s.code()).isEqualTo(ErrorCode.STALE_EPOCH);
                        assertThat(s.nodeId()).isEqualTo(b.name());
                        assertThat(s.serverEpoch()).isEqualTo(1);
                        assertThat(s.topologyEpoch()).isEqualTo(2);
                        assertThat(s.oldPrimary()).isTrue();
                    });
            assertThat((int) router.inTransaction(onA, c -> insert(c, onA))).isEqualTo(1);

            // after the back-off the pool tries the server again, and its connection check refuses it again
            Thread.sleep(400);
            assertThatThrownBy(() -> router.inTransaction(onB, c -> insert(c, onB)))
                    .isInstanceOf(StaleEpochException.class)
                    .hasMessageContaining("server at epoch 1, the topology says 2");

            record(b, 2);
            Shards.await("node " + b.name() + " taken back at epoch 2", Duration.ofSeconds(20), () -> {
                try {
                    return router.inTransaction(onB, c -> insert(c, onB)) == 1;
                } catch (StaleEpochException e) {
                    return false;
                }
            });
        }
        assertThat(Shards.count(b, "SELECT count(*) FROM customers WHERE tenant_id = ?", onB)).isEqualTo(1);
        assertThat(Shards.count(a, "SELECT count(*) FROM customers WHERE tenant_id = ?", onA)).isEqualTo(1);
    }

    @Test
    void theEpochIsCheckedOncePerConnectionAndNotAtAllAtEpochZero() throws Exception {
        record(b, 2);
        Topology t = withEpoch(b.name(), 2);
        long onA = keyOn(t, a.name());
        long onB = keyOn(t, b.name());
        try (ShardedDataSource router = ShardedDataSource.builder(t).settings(QUICK).build()) {
            HikariDataSource poolOfB = router.forKey(onB).unwrap(HikariDataSource.class);
            assertThat(poolOfB.getConnectionInitSql()).isEqualTo("SELECT shardring.check_epoch(2)");
            assertThat(router.forKey(onA).unwrap(HikariDataSource.class).getConnectionInitSql()).isNull();
            assertThat((int) router.inTransaction(onB, c -> insert(c, onB))).isEqualTo(1);

            // the server is promoted past the router's topology: the open connection is not checked again ...
            record(b, 3);
            for (int i = 0; i < 3; i++) {
                assertThat((int) router.inTransaction(onB, c -> insert(c, onB))).isEqualTo(1);
            }
            // ... a new one is, and the router is told that its topology is the older one
            poolOfB.getHikariPoolMXBean().softEvictConnections();
            assertThatThrownBy(() -> router.inTransaction(onB, c -> insert(c, onB)))
                    .isInstanceOf(StaleEpochException.class)
                    .hasMessageContaining("server at epoch 3, the topology says 2")
                    .hasMessageContaining("promoted after this topology")
                    .satisfies(e -> assertThat(((StaleEpochException) e).oldPrimary()).isFalse());
        }
    }

    @Test
    void theChecksOwnAnswers() throws Exception {
        try (Connection c = a.connect()) {
            assertThat(NodeEpoch.read(c)).isZero();
            NodeEpoch.check(c, a.name(), "node " + a.name(), 0); // not fenced by epoch: nothing to check
            assertThatThrownBy(() -> NodeEpoch.check(c, a.name(), "node " + a.name(), 1))
                    .isInstanceOf(StaleEpochException.class)
                    .hasMessageStartingWith("node " + a.name() + ": server at epoch 0, the topology says 1");
            NodeEpoch.record(c, 4);
            assertThat(NodeEpoch.read(c)).isEqualTo(4);
            NodeEpoch.check(c, a.name(), "node " + a.name(), 4);
            assertThatThrownBy(() -> NodeEpoch.record(c, -1)).hasMessageContaining("epoch -1 is invalid");
        }
        assertThat(NodeEpoch.checkSql(0)).isNull();
    }
}
