package io.shardring.migration.cli;

import io.shardring.migration.support.CliRun;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process against 3 embedded shards: the ring starts with shard0 and shard1; shard2 is added. */
@PgShards(3)
class CliTest {
    static final String PASSWORD = "pw-Very-Secret-4711";
    static final Map<String, String> ENV = Map.of("CLI_TEST_PASSWORD", PASSWORD);
    static final ObjectMapper JSON = new ObjectMapper();

    final PgCluster cluster;
    @TempDir
    Path dir;
    Path config;
    final List<String> allOutput = new ArrayList<>();

    CliTest(PgCluster cluster) {
        this.cluster = cluster;
    }

    record Result(int code, String out, String err) {
        List<JsonNode> json() {
            List<JsonNode> out = new ArrayList<>();
            for (String line : this.out.split("\n")) {
                if (!line.isBlank()) {
                    try {
                        out.add(JSON.readTree(line));
                    } catch (Exception e) {
                        throw new AssertionError("not a JSON line: " + line, e);
                    }
                }
            }
            return out;
        }

        JsonNode first(String type) {
            return json().stream().filter(j -> type.equals(j.path("type").asText())).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + type + " line in " + out + err));
        }
    }

    Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (config != null && !List.of(args).contains("--help")) {
            all.add("--config");
            all.add(config.toString());
        }
        CliRun run = CliRun.of(ENV, all);
        allOutput.add(run.out() + "\n" + run.err());
        assertThat(run.out() + run.err()).as("output of %s", all).doesNotContain(PASSWORD);
        return new Result(run.code(), run.out(), run.err());
    }

    static NodeConfig node(PgShard s) {
        return NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user()).password("${CLI_TEST_PASSWORD}")
                .build();
    }

    @BeforeEach
    void freshClusterWithTwoNodes(TestInfo test) throws Exception {
        for (PgShard s : cluster.shards()) { // subscriptions first: they hold slots on other shards
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                for (String sub : list(c, "SELECT subname FROM pg_subscription")) {
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" DISABLE");
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" SET (slot_name = NONE)");
                    st.execute("DROP SUBSCRIPTION \"" + sub + "\"");
                }
            }
        }
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                for (String pub : list(c, "SELECT pubname FROM pg_publication")) {
                    st.execute("DROP PUBLICATION \"" + pub + "\"");
                }
                for (String slot : list(c, "SELECT slot_name FROM pg_replication_slots")) {
                    st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                }
                st.execute("DROP SCHEMA IF EXISTS shardring CASCADE");
                st.execute("DROP TABLE IF EXISTS events, notes, accounts, plans, currencies, audit_log, flyway_schema_history");
            }
        }
        StringBuilder y = new StringBuilder("ring:\n  keyType: bigint\ntables:\n  - name: events\n    keyColumn: tenant_id\n"
                + "schema:\n  locations: [\"classpath:db/movetest\"]\nnodes:\n");
        for (int i = 0; i < 2; i++) {
            PgShard s = cluster.shard(i);
            y.append("  - id: ").append(s.name()).append("\n    jdbcUrl: ").append(s.jdbcUrl()).append("\n    user: ")
                    .append(s.user()).append("\n    password: ${CLI_TEST_PASSWORD}\n    zone: z").append(i).append('\n');
        }
        if (test.getDisplayName().contains("Reference")) {
            y.append("reference:\n  tables: [plans]\n");
            y.insert(y.indexOf("tables:"), "  maxPins: 0\n"); // a warning from the first pin
        }
        config = dir.resolve("shardring.yaml");
        Files.writeString(config, y, StandardCharsets.UTF_8);

        Result init = run("init", "--output", "json");
        assertThat(init.code()).as(init.err()).isZero();
        JsonNode o = init.first("init");
        assertThat(o.get("stored").asBoolean()).isTrue();
        assertThat(o.get("schema")).hasSize(2).allSatisfy(r -> assertThat(r.get("ok").asBoolean()).isTrue());

        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools);
            try (ShardedDataSource router = ShardedDataSource.builder(t).environment(ENV::get).build()) {
                for (long tenant = 0; tenant < 300; tenant++) {
                    long k = tenant;
                    router.inTransaction(k, c -> {
                        try (Statement s = c.createStatement()) {
                            s.executeUpdate("INSERT INTO events (tenant_id, id, val) VALUES (" + k + ", " + k + ", 1)");
                        }
                        return null;
                    });
                }
            }
        }
    }

    Topology catalogTopology(NodePools pools) {
        cluster.shards().forEach(s -> pools.add(node(s)));
        return Catalog.open(pools.apply("shard0")).load();
    }

    long catalogVersion() {
        try (NodePools pools = new NodePools(ENV::get)) {
            return catalogTopology(pools).version();
        }
    }

    private static List<String> list(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Test
    void helpListsTheCommandsAndExitCodesAndBadUsageIsTwo() {
        Result help = run("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("init", "status", "plan", "add-node", "remove-node", "set-weight", "rebalance",
                "verify", "resume", "abort", "schema", "demo", "Exit codes", "3   refused");
        Result sub = run("add-node", "--help");
        assertThat(sub.code()).isZero();
        assertThat(sub.out()).contains("--execute", "--password-ref", "Example");
        assertThat(run("status", "--no-such-option").code()).isEqualTo(2);
        assertThat(run("no-such-command").code()).isEqualTo(2);
        Path saved = config;
        config = dir.resolve("missing.yaml");
        Result missing = run("status", "--output", "text");
        config = saved;
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("shardring: ").contains("missing.yaml").doesNotContain("\tat ");
    }

    @Test
    void statusPlanDryRunExecuteAndVerify() throws Exception {
        Result status = run("status", "--output", "json");
        assertThat(status.code()).as(status.err()).isZero();
        JsonNode s = status.first("status");
        assertThat(s.get("version").asLong()).isEqualTo(1);
        double sum = 0;
        for (JsonNode n : s.get("nodes")) {
            assertThat(n.get("up").asBoolean()).as(n.toString()).isTrue();
            assertThat(n.get("passwordRef").asText()).isEqualTo("${CLI_TEST_PASSWORD}");
            sum += n.get("share").asDouble();
        }
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(s.get("moves")).isEmpty();
        Result text = run("status", "--output", "text");
        assertThat(text.out()).contains("topology version 1", "shard0", "█", "moves in flight: none");

        PgShard extra = cluster.shard(2);
        String[] add = {"--jdbc-url", extra.jdbcUrl(), "--user", extra.user(), "--password-ref", "${CLI_TEST_PASSWORD}"};
        Result plan = run(concat(new String[] {"plan", "add-node", "shard2", "--output", "json"}, add));
        assertThat(plan.code()).as(plan.err()).isZero();
        JsonNode p = plan.first("plan");
        assertThat(p.get("jobs").size()).isPositive();
        assertThat(p.get("executable").asBoolean()).isTrue();
        assertThat(p.get("rowsToMove").asLong()).isPositive();
        Result planText = run(concat(new String[] {"plan", "add-node", "shard2", "--output", "text"}, add));
        assertThat(planText.out()).contains("plan: add-node shard2", "job 1:", "executable");

        Result dry = run(concat(new String[] {"add-node", "shard2", "--output", "json"}, add));
        assertThat(dry.code()).as(dry.err()).isZero();
        assertThat(dry.first("dry-run").get("changed").asBoolean()).isFalse();
        assertThat(catalogVersion()).isEqualTo(1);

        Result exec = run(concat(new String[] {"add-node", "shard2", "--execute", "--output", "json"}, add));
        assertThat(exec.code()).as(exec.out() + exec.err()).isZero();
        assertThat(exec.json()).anySatisfy(j -> assertThat(j.path("phase").asText()).isEqualTo("cutover"));
        assertThat(exec.first("move-done").get("version").asLong()).isGreaterThan(1);
        assertThat(catalogVersion()).isGreaterThan(1);

        Result verify = run("verify", "--output", "json");
        assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
        assertThat(verify.first("verify-summary").get("ok").asBoolean()).isTrue();
        assertThat(verify.json().stream().filter(j -> "verify".equals(j.get("type").asText()))).hasSize(3);

        Result balanced = run("rebalance", "--output", "text");
        // the file still lists two nodes: rebalance would remove shard2 again
        assertThat(balanced.code()).as(balanced.err()).isZero();
        assertThat(balanced.out()).contains("remove-node shard2", "dry run");
    }

    @Test
    void aNodeOnAnOldEpochIsNamedByStatusAndRefusedByTheTool() throws Exception {
        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools).withStoredTokens();
            Topology.Builder next = Topology.builder().version(t.version() + 1).ring(t.ringSettings());
            t.tables().forEach(next::table);
            // shard1's standby was promoted to epoch 2; the server at shard1's URL is the old primary, at epoch 1
            t.nodes().values().forEach(n -> next.node(n.id().equals("shard1") ? n.withEpoch(2) : n));
            Catalog.open(pools.apply("shard0")).publish(next.build(), "failover shard1 (test)");
        }
        try (Connection c = cluster.shard(1).connect()) {
            io.shardring.router.schema.NodeEpoch.record(c, 1);
        }
        Result text = run("status", "--output", "text");
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("shard1 .* FENCED")
                .contains("  shard1: server at epoch 1, the topology says 2: an old primary");
        JsonNode fenced = run("status", "--output", "json").first("status").get("nodes").get(1);
        assertThat(fenced.get("id").asText()).isEqualTo("shard1");
        assertThat(fenced.get("epoch").asLong()).isEqualTo(2);
        assertThat(fenced.get("up").asBoolean()).isFalse();
        assertThat(fenced.get("fenced").asBoolean()).isTrue();

        Result verify = run("verify", "--output", "text");
        assertThat(verify.code()).isNotZero();
        assertThat(verify.out() + verify.err()).contains("node shard1 (", "server at epoch 1, the topology says 2");

        try (Connection c = cluster.shard(1).connect()) {
            io.shardring.router.schema.NodeEpoch.record(c, 2);
        }
        assertThat(run("status", "--output", "text").out()).doesNotContain("FENCED");
        assertThat(run("verify").code()).isZero();
    }

    @Test
    void refusalsExitWithThree() throws Exception {
        Result unknown = run("remove-node", "nope", "--output", "text");
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).startsWith("shardring: ").contains("'nope'");

        Result zero = run("set-weight", "shard1", "0");
        assertThat(zero.code()).isEqualTo(3);
        assertThat(zero.err()).contains("weight 0.0");

        Result existing = run("add-node", "shard1", "--jdbc-url", cluster.shard(1).jdbcUrl(), "--user", "x");
        assertThat(existing.code()).isEqualTo(3);
        assertThat(existing.err()).contains("already in topology version 1");

        Result catalogNode = run("remove-node", "shard0");
        assertThat(catalogNode.code()).isEqualTo(3);
        assertThat(run("resume").code()).isEqualTo(3);
        assertThat(run("abort").code()).isEqualTo(3);

        long moveId;
        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools);
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            Plan plan = Planner.plan(t, TopologyChange.addNode(node(cluster.shard(2))), pools);
            moveId = new Mover(catalog, pools, new Mover.Options(), MoveListener.NONE).start(plan);
        }
        Result second = run("remove-node", "shard1", "--execute");
        assertThat(second.code()).isEqualTo(3);
        assertThat(second.err()).contains("move " + moveId, "add-node shard2", "still running");
        Result status = run("status", "--output", "json");
        assertThat(status.first("status").get("moves").get(0).get("id").asLong()).isEqualTo(moveId);

        Result abort = run("abort", "--output", "text");
        assertThat(abort.code()).as(abort.err()).isZero();
        assertThat(abort.out()).contains("move " + moveId, "aborted");
        assertThat(catalogVersion()).isEqualTo(1);
        assertThat(run("verify").code()).isZero();
    }

    @Test
    void aResumeWhileANodeIsDownSaysWhichInOneLineAndExitsWithFour() throws Exception {
        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools);
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            Plan plan = Planner.plan(t, TopologyChange.addNode(node(cluster.shard(2))), pools);
            new Mover(catalog, pools, new Mover.Options().appLocations("classpath:db/movetest"), MoveListener.NONE)
                    .start(plan);
        }
        cluster.kill(2);
        try {
            Result resume = run("resume", "--output", "text");
            assertThat(resume.code()).as(resume.out() + resume.err()).isEqualTo(4);
            assertThat(resume.err().strip().lines()).as("one line").hasSize(1);
            assertThat(resume.err()).startsWith("shardring: ").contains("shard2")
                    .contains("localhost:" + cluster.shard(2).port()).contains("resume").doesNotContain("\tat ");
        } finally {
            cluster.restart(2);
        }
        Result resume = run("resume", "--output", "text");
        assertThat(resume.code()).as(resume.out() + resume.err()).isZero();
        assertThat(run("verify").code()).isZero();
    }

    @Test
    void statusListsTheRoutersThatFollowTheCatalog() throws Exception {
        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools);
            try (ShardedDataSource router = ShardedDataSource.builder(t).environment(ENV::get)
                    .followCatalog(pools.apply("shard0")).build()) {
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
                JsonNode routers;
                do {
                    routers = run("status", "--output", "json").first("status").get("routers");
                } while (routers.isEmpty() && System.nanoTime() < deadline);
                assertThat(routers).hasSize(1);
                assertThat(routers.get(0).get("version").asLong()).isEqualTo(t.version());
                assertThat(routers.get(0).get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
                assertThat(routers.get(0).get("state").asText()).isEqualTo("ok");
                assertThat(run("status", "--output", "text").out()).contains("routers following the catalog: 1");
            }
        }
        assertThat(run("status", "--output", "json").first("status").get("routers")).as("gone on close").isEmpty();
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void pinUnpinAndReferenceTablesFromTheCommandLine() throws Exception {
        Result bad = run("pin", "abc", "--node", "shard1");
        assertThat(bad.code()).isEqualTo(3);
        assertThat(bad.err()).contains("shard key 'abc' is not a bigint").contains("key type is bigint");
        Result unknown = run("pin", "42", "--node", "shard9");
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).contains("unknown node 'shard9'");
        // a pin to a node that a running move removes
        long moveId;
        try (NodePools pools = new NodePools(ENV::get)) {
            Topology t = catalogTopology(pools);
            Plan remove = Planner.plan(t, TopologyChange.removeNode("shard1"), pools);
            moveId = new Mover(Catalog.open(pools.apply("shard0")), pools, new Mover.Options(), MoveListener.NONE)
                    .start(remove);
        }
        Result leaving = run("pin", "42", "--node", "shard1");
        assertThat(leaving.code()).isEqualTo(3);
        assertThat(leaving.err()).contains("node 'shard1' is being removed by move " + moveId);
        assertThat(run("abort").code()).isZero();

        String owner;
        try (NodePools pools = new NodePools(ENV::get)) {
            owner = catalogTopology(pools).ring().route(42L).id();
        }
        String other = owner.equals("shard0") ? "shard1" : "shard0";
        Result plan = run("pin", "42", "--node", other, "--output", "text");
        assertThat(plan.code()).as(plan.err()).isZero();
        assertThat(plan.out()).contains("plan: pin 42 to " + other).contains("1 job").contains(owner + "  ->  " + other)
                .contains("pinned keys after: 42 on " + other)
                .contains("1 keys are pinned, more than ring.maxPins (0)").contains("dry run: nothing changed");
        Result pinned = run("pin", "42", "--node", other, "--execute", "--output", "text");
        assertThat(pinned.code()).as(pinned.err()).isZero();
        assertThat(pinned.out()).contains("done: topology version");
        Result status = run("status", "--output", "text");
        assertThat(status.out()).contains("pinned keys: 1 (more than ring.maxPins 0): [42 -> " + other + "]")
                .contains("reference tables [public.plans]: writable copy on shard0")
                .containsPattern("copy on shard1 +streaming, \\d+ bytes behind");
        Result again = run("pin", "42", "--node", other, "--output", "text");
        assertThat(again.out()).contains("already pinned to " + other);
        Result removeHolder = run("remove-node", other);
        assertThat(removeHolder.code()).isEqualTo(3);
        assertThat(removeHolder.err()).contains("1 key(s) are pinned to it").contains("unpin");
        Result sync = run("reference", "sync", "--output", "text");
        assertThat(sync.code()).as(sync.err()).isZero();
        assertThat(sync.out()).contains("reference tables [public.plans]: writable on shard0, 1 copy in sync");
        // a table added to reference.tables in the file: sync publishes it, then copies it
        Files.writeString(config, Files.readString(config).replace("tables: [plans]", "tables: [plans, currencies]"));
        Result added = run("reference", "sync", "--output", "text");
        assertThat(added.code()).as(added.err()).isZero();
        assertThat(added.out()).contains("published with reference tables [public.currencies] added")
                .contains("copy on shard1: [public.currencies] added");
        Files.writeString(config, Files.readString(config).replace("tables: [plans, currencies]", "tables: [currencies]"));
        Result dropped = run("reference", "sync");
        assertThat(dropped.code()).isEqualTo(3);
        assertThat(dropped.err()).contains("no longer lists reference tables [public.plans]");
        Result unpin = run("unpin", "42", "--execute", "--output", "text");
        assertThat(unpin.code()).as(unpin.err()).isZero();
        assertThat(run("unpin", "42").err()).contains("key 42 is not pinned");
        Result verify = run("verify");
        assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
        System.out.println("CLI-OUTPUT errors\n" + bad.err() + unknown.err() + leaving.err() + removeHolder.err());
        System.out.println("CLI-OUTPUT pin plan\n" + plan.out() + "\nCLI-OUTPUT pin execute\n" + pinned.out()
                + "\nCLI-OUTPUT status\n" + status.out() + "\nCLI-OUTPUT reference sync\n" + sync.out());
    }
}
