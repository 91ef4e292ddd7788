package io.shardring.migration.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardring.migration.cli.ShardringCli;
import io.shardring.migration.support.CliRun;
import io.shardring.router.StaleEpochException;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgStandby;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardring failover} against real physical standbys: a ring of shard0, shard1 (a synchronous standby, failed
 * over planned, under writers through a catalog-following router) and shard2 (a synchronous standby, failed over in an
 * emergency after its primary is SIGKILLed).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverTest {
    static PgCluster cluster;
    static PgStandby standby1;
    static PgStandby standby2;
    static Map<String, String> env = new HashMap<>();
    @TempDir
    static Path dir;
    static Path config;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void ring() throws Exception {
        cluster = PgCluster.builder().shards(3).start();
        assumeTrue(cluster.canCrashShards(), "standbys need the embedded backend, this is " + cluster.backend());
        standby1 = cluster.addStandby(1, true);
        standby2 = cluster.addStandby(2, true);
        StringBuilder y = new StringBuilder("ring:\n  keyType: bigint\ntables:\n  - name: events\n    keyColumn:"
                + " tenant_id\ncatalog:\n  node: shard0\nschema:\n  locations: [\"classpath:db/movetest\"]\nnodes:\n");
        for (int i = 0; i < 3; i++) {
            PgShard s = cluster.shard(i);
            env.put("PW" + i, s.password() == null ? "" : s.password());
            y.append("  - id: ").append(s.name()).append("\n    jdbcUrl: ").append(s.jdbcUrl()).append("\n    user: ")
                    .append(s.user()).append("\n    password: ${PW").append(i).append("}\n");
            for (PgStandby sb : cluster.standbys(i)) {
                y.append("    standbys: [\"").append(sb.jdbcUrl()).append("\"]\n");
            }
        }
        config = dir.resolve("shardring.yaml");
        Files.writeString(config, y, StandardCharsets.UTF_8);
        Result init = run("init", "--output", "json");
        assertThat(init.code()).as(init.out() + init.err()).isZero();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        CliRun run = CliRun.of(env, all);
        System.out.println("shardring " + all + " -> " + run.code() + "\n" + run.out() + run.err());
        return new Result(run.code(), run.out(), run.err());
    }

    @Test
    @Order(1)
    void aUrlThatIsNotAStandbyOfTheNodeIsRefusedAndNothingChanges() {
        long version = catalogVersion();
        Result r = run("failover", cluster.shard(1).name(), "--to", "jdbc:postgresql://localhost:1/elsewhere",
                "--execute", "--output", "text");
        assertThat(r.code()).isEqualTo(ShardringCli.REFUSED);
        assertThat(r.err()).contains("jdbc:postgresql://localhost:1/elsewhere").contains("is not a standby of node");
        Result unknown = run("failover", "nope", "--execute", "--output", "text");
        assertThat(unknown.code()).isEqualTo(ShardringCli.REFUSED);
        assertThat(unknown.err()).contains("unknown node 'nope'");
        assertThat(catalogVersion()).isEqualTo(version);
    }

    @Test
    @Order(2)
    void plannedFailoverUnderWritersLosesNothingAndFencesTheOldPrimary() throws Exception {
        String node1 = cluster.shard(1).name();
        try (ShardedDataSource router = ShardedDataSource.builder(ShardringYaml.load(config)).environment(env::get)
                .build()) {
            ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
            List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ids = new AtomicLong();
            AtomicLong longestWaitNanos = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        long id = ids.incrementAndGet();
                        long key = id % 64;
                        long start = System.nanoTime();
                        try {
                            router.inTransaction(key, c -> insert(c, key, id));
                            acknowledged.add(id);
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                        longestWaitNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    }
                });
                t.start();
                writers.add(t);
            }
            Thread.sleep(1000);
            Result r = run("failover", node1, "--execute", "--output", "text");
            Thread.sleep(1000);
            stop.set(true);
            for (Thread t : writers) {
                t.join(30_000);
            }
            System.out.println("planned failover: " + acknowledged.size() + " writes acknowledged, longest write "
                    + longestWaitNanos.get() / 1_000_000 + " ms");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(errors).as("application exceptions").isEmpty();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!router.topology().node(node1).jdbcUrl().equals(standby1.jdbcUrl())
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(router.topology().node(node1).jdbcUrl()).isEqualTo(standby1.jdbcUrl());
            assertThat(router.topology().node(node1).epoch()).isEqualTo(1);
            assertThat(router.topology().node(node1).standbys()).isEmpty();
            assertThat(acknowledged).isNotEmpty();
            assertPresentOnce(acknowledged, List.of(cluster.shard(0)::connect, standby1::connect,
                    cluster.shard(2)::connect));
        }
        try (Connection old = cluster.shard(1).connect()) {
            assertThatThrownBy(() -> NodeEpoch.check(old, node1, "old primary", 1))
                    .isInstanceOf(StaleEpochException.class);
            assertThatThrownBy(() -> insert(old, ownedKey(node1), -1)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("SR001"));
        }
        Result again = run("failover", node1, "--output", "text");
        assertThat(again.code()).as("the node has no standby left").isEqualTo(ShardringCli.REFUSED);
    }

    @Test
    @Order(3)
    void emergencyFailoverAfterAKillPromotesTheSynchronousStandby() throws Exception {
        String node2 = cluster.shard(2).name();
        long key = ownedKey(node2);
        List<Long> acknowledged = new ArrayList<>();
        try (ShardedDataSource router = ShardedDataSource.builder(ShardringYaml.load(config)).environment(env::get)
                .build()) {
            for (long id = 1_000_000; id < 1_000_050; id++) {
                long i = id;
                router.inTransaction(key, c -> insert(c, key, i));
                acknowledged.add(id);
            }
            Result plan = run("failover", node2, "--output", "json");
            assertThat(plan.code()).as(plan.out() + plan.err()).isZero();
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(plan.out().lines().findFirst()
                    .orElseThrow());
            assertThat(json.get("type").asText()).isEqualTo("failover-plan");
            assertThat(json.get("mode").asText()).isEqualTo("planned");
            assertThat(json.get("to").asText()).isEqualTo(standby2.jdbcUrl());
            assertThat(json.get("standbys")).hasSize(1);
            assertThat(standby2.isInRecovery()).as("a plan changes nothing").isTrue();
            cluster.kill(2);
            Result refused = run("failover", node2, "--output", "text");
            assertThat(refused.code()).isEqualTo(ShardringCli.REFUSED);
            assertThat(refused.err()).contains("--accept-data-loss");
            crashAfterPromotion(node2);
            assertThat(standby2.isInRecovery()).as("promoted before the crash").isFalse();
            Result r = run("failover", node2, "--execute", "--synchronous-standby", "--output", "text");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("journaled as running").contains("already out of recovery");
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (true) {
                try {
                    router.inTransaction(key, c -> insert(c, key, 2_000_000));
                    break;
                } catch (RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
            acknowledged.add(2_000_000L);
            assertPresentOnce(acknowledged, List.of(standby2::connect));
        }
        cluster.restart(2);
        try (Connection old = cluster.shard(2).connect()) {
            assertThatThrownBy(() -> NodeEpoch.check(old, node2, "old primary", 1))
                    .isInstanceOf(StaleEpochException.class);
        }
        Result status = run("status", "--output", "text");
        assertThat(status.out() + status.err()).doesNotContain(cluster.shard(2).jdbcUrl());
    }

    /** Runs the failover as the CLI would and stops it, as a crash would, right after the promotion. */
    static void crashAfterPromotion(String nodeId) throws Exception {
        try (io.shardring.migration.move.NodePools pools = new io.shardring.migration.move.NodePools(env::get)) {
            ShardringYaml.load(config).topology().nodes().values().forEach(pools::add);
            var catalog = io.shardring.router.topology.Catalog.open(pools.apply("shard0"));
            Failover failover = new Failover(catalog, pools);
            var topology = catalog.load();
            Failover.Plan plan = failover.plan(topology, nodeId, "shard0",
                    new Failover.Options(null, false, true, Long.MAX_VALUE));
            assertThatThrownBy(() -> failover.execute(plan, java.time.Duration.ofSeconds(30), (step, detail) -> {
                if (step.equals("promoted")) {
                    throw new IllegalStateException("crash");
                }
            })).hasMessage("crash");
            assertThat(catalog.version()).as("nothing published").isEqualTo(topology.version());
        }
    }

    interface Connect {
        Connection get() throws SQLException;
    }

    static int insert(Connection c, long key, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (tenant_id, id, val) VALUES (?, ?, 0)")) {
            ps.setLong(1, key);
            ps.setLong(2, id);
            return ps.executeUpdate();
        }
    }

    static long ownedKey(String nodeId) {
        var t = ShardringYaml.load(config).topology();
        for (long k = 0; ; k++) {
            if (t.ring().route(k).id().equals(nodeId)) {
                return k;
            }
        }
    }

    static void assertPresentOnce(Iterable<Long> acknowledged, List<Connect> servers) throws SQLException {
        Map<Long, Integer> seen = new HashMap<>();
        for (Connect s : servers) {
            try (Connection c = s.get(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id FROM events")) {
                while (rs.next()) {
                    seen.merge(rs.getLong(1), 1, Integer::sum);
                }
            }
        }
        for (long id : acknowledged) {
            assertThat(seen.getOrDefault(id, 0)).as("copies of acknowledged row %d", id).isEqualTo(1);
        }
    }

    static long catalogVersion() {
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT max(version) FROM shardring.topology_versions")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
