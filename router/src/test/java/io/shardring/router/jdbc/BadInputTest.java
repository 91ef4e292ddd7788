package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

@PgShards(2)
class BadInputTest {
    private static final String SECRET = "hunter2-Sup3rSecret";

    /** A localhost port with nothing listening. */
    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String chain(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c).append('\n');
            for (Throwable s : c.getSuppressed()) {
                sb.append(s).append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void anUnreachableShardIsMarkedDownAtStartAndFailsFastNamingTheNodeWithoutLeakingItsPassword(PgCluster cluster)
            throws Exception {
        int port = closedPort();
        Topology t = Shards.topology(cluster)
                .node(NodeConfig.builder("dead").jdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/app").user("app")
                        .password("${DEAD_PASSWORD}").pool(p -> p.maximumPoolSize(2).connectionTimeout(Duration.ofSeconds(1)))
                        .build())
                .build();
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        StringBuilder messages = new StringBuilder();
        try (ShardedDataSource router = ShardedDataSource.builder(t)
                .environment(Map.of("DEAD_PASSWORD", SECRET)::get).build()) {
            assertThat(router.isDown("dead")).isTrue();
            assertThat(router.isDown("shard0")).isFalse();
            long key = 0;
            while (!router.nodeFor(key).equals("dead")) {
                key++;
            }
            long k = key;
            long start = System.nanoTime();
            Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> router.forKey(k).getConnection());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
            assertThat(e).isInstanceOf(ShardUnavailableException.class).hasMessageContaining("dead");
            assertThat(((ShardUnavailableException) e).nodeId()).isEqualTo("dead");
            messages.append(chain(e));
            Throwable tx = org.assertj.core.api.Assertions.catchThrowable(() -> router.inTransaction(k, c -> 1));
            assertThat(tx).isInstanceOf(ShardUnavailableException.class);
            messages.append(chain(tx));
            Map<String, ShardResult<Integer>> all = router.onAllShards(c -> 1);
            assertThat(all.get("shard0").get()).isEqualTo(1);
            assertThat(all.get("dead").isSuccess()).isFalse();
            messages.append(chain(all.get("dead").error()));
            messages.append(router.topology()).append(router.topology().node("dead"));
            MigrationReport report = ShardedFlyway.configure(router).load().migrate();
            assertThat(report.result("dead").isSuccess()).isFalse();
            assertThat(report.result("shard0").isSuccess()).as(report.toString()).isTrue();
            Throwable migration = org.assertj.core.api.Assertions.catchThrowable(report::orThrow);
            assertThat(migration).hasMessageContaining("dead").hasMessageContaining("shard1: ok");
            messages.append(chain(migration)).append(report);
        } finally {
            System.setErr(err);
        }
        String everything = messages + captured.toString(StandardCharsets.UTF_8);
        assertThat(everything).contains("dead").doesNotContain(SECRET);
    }

    @Test
    void aMissingPasswordVariableNamesTheVariableAndTheNode(PgCluster cluster) {
        Topology t = Topology.builder().ring(RingSettings.of(KeyType.BIGINT))
                .node(NodeConfig.builder("pg-x").jdbcUrl(cluster.shard(0).jdbcUrl()).user("app")
                        .password("${SHARDRING_TEST_UNSET_VAR}").build()).build();
        assertThatThrownBy(() -> ShardedDataSource.builder(t).environment(x -> null).build())
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("SHARDRING_TEST_UNSET_VAR")
                .hasMessageContaining("pg-x");
    }

    @Test
    void aJdbcUrlWithAPasswordIsRefusedWithoutEchoingIt() {
        assertThatThrownBy(() -> NodeConfig.builder("pg-a").jdbcUrl("jdbc:postgresql://h/db?user=a&password=" + SECRET))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("pg-a")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void schemaProblemsNameTheNodeTableAndColumnAndLeaveOtherShardsReported(PgCluster cluster) throws Exception {
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS misfit");
            s.execute("CREATE TABLE IF NOT EXISTS misfit.accounts (tenant_id text, x int)");
        }
        try (Connection c = cluster.shard(1).connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS misfit CASCADE");
        }
        Topology t = Topology.builder().ring(RingSettings.of(KeyType.BIGINT)).table("misfit.accounts", "tenant_id")
                .node(Shards.node(cluster.shard(0)).build()).node(Shards.node(cluster.shard(1)).build()).build();
        try (ShardedDataSource router = ShardedDataSource.builder(t).build()) {
            MigrationReport report = ShardedFlyway.configure(router).locations().load().migrate();
            assertThat(report.isSuccess()).isFalse();
            assertThat(report.result("shard0").error()).contains("shard0").contains("accounts").contains("tenant_id")
                    .contains("text").contains("bigint");
            assertThat(report.result("shard1").error()).contains("shard1").contains("misfit.accounts")
                    .contains("does not exist");
            assertThat(report.result("shard0").guardInstalled()).isFalse();
            assertThatThrownBy(report::orThrow).isInstanceOf(ShardringException.class).hasMessageContaining("2 of 2");
            // nothing half-applied: the failed guard install rolled back, so no trigger exists
            assertThat(Shards.count(cluster.shard(0), "SELECT count(*) FROM pg_trigger WHERE tgname ="
                    + " 'shardring_ownership_guard'")).isZero();
        }
    }
}
