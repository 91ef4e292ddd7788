package io.shardring.migration.adopt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardring.migration.support.CliRun;
import io.shardring.migration.move.NodePools;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.ShardringYaml;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From one database to a ring, online, as a user would do it: an application's database made by plain SQL
 * ({@link LegacyApp}) and written by its own writers, adopted while they write, its blocked table fixed with the DDL
 * the plan printed, the writers switched to a router, then split into four nodes by one add-node of three while the
 * writers insert new rows with serial ids; and back to one node by one rebalance. After each move: every acknowledged
 * row once, on its owner; ids unique on all nodes, each node's new ids in its own range; foreign keys intact and the
 * lookup table on every node.
 */
@PgShards(4)
class AdoptTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> NODES = List.of("legacy", "pg-b", "pg-c", "pg-d");
    static final Map<String, String> ENV = Map.of();

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
        JsonNode first(String type) {
            for (String line : out.split("\n")) {
                if (line.startsWith("{")) {
                    try {
                        JsonNode j = JSON.readTree(line);
                        if (type.equals(j.path("type").asText())) {
                            return j;
                        }
                    } catch (Exception e) {
                        throw new AssertionError("not JSON: " + line, e);
                    }
                }
            }
            throw new AssertionError("no " + type + " in " + out + err);
        }
    }

    /** Everything the CLI printed, for docs/adopting.md. */
    private final StringBuilder transcript = new StringBuilder();

    Result cli(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        CliRun run = CliRun.of(ENV, all);
        transcript.append("$ shardring ").append(String.join(" ", args)).append("\n").append(run.out())
                .append(run.err()).append("[exit ").append(run.code()).append("]\n\n");
        return new Result(run.code(), run.out(), run.err());
    }

    static String config(PgCluster cluster, int nodes) {
        StringBuilder y = new StringBuilder("""
                ring:
                  keyType: bigint
                catalog:
                  node: legacy
                tables:
                  - name: companies
                    keyColumn: id
                  - name: campaigns
                    keyColumn: company_id
                  - name: ads
                    keyColumn: company_id
                  - name: invoices
                    keyColumn: company_id
                reference:
                  tables: [plans]
                nodes:
                """);
        for (int i = 0; i < nodes; i++) {
            PgShard s = cluster.shard(i);
            y.append("  - id: ").append(NODES.get(i)).append("\n    jdbcUrl: ").append(s.jdbcUrl())
                    .append("\n    user: ").append(s.user()).append('\n');
        }
        return y.toString();
    }

    @Test
    void aLiveDatabaseIsAdoptedSplitIntoFourInOnePlanAndJoinedBackWhileItsApplicationWrites(PgCluster cluster)
            throws Exception {
        Path four = dir.resolve("shardring.yaml");
        Files.writeString(four, config(cluster, 4), StandardCharsets.UTF_8);
        Path one = dir.resolve("shardring-one.yaml");
        Files.writeString(one, config(cluster, 1), StandardCharsets.UTF_8);
        try (LegacyApp app = new LegacyApp(cluster.shard(0))) {
            app.create(200);
            app.start(4);
            app.awaitOps(300);

            // the plan: invoices is blocked, with the DDL that fixes it; the application's clients are listed
            Result plan = cli(four, "adopt", "--output", "json");
            assertThat(plan.code()).as(plan.err()).isEqualTo(3);
            JsonNode p = plan.first("adopt-plan");
            assertThat(p.get("executable").asBoolean()).isFalse();
            Map<String, JsonNode> tables = new HashMap<>();
            p.get("tables").forEach(t -> tables.put(t.get("table").asText(), t));
            assertThat(tables).containsOnlyKeys("public.companies", "public.campaigns", "public.ads",
                    "public.invoices", "public.plans");
            assertThat(tables.get("public.plans").get("kind").asText()).isEqualTo("reference");
            for (String t : List.of("public.companies", "public.campaigns", "public.ads", "public.plans")) {
                assertThat(tables.get(t).get("ready").asBoolean()).as(t + ": " + tables.get(t)).isTrue();
            }
            JsonNode invoices = tables.get("public.invoices");
            assertThat(invoices.get("ready").asBoolean()).isFalse();
            assertThat(invoices.get("problems").get(0).get("problem").asText())
                    .isEqualTo("primary key (id) does not include the key column company_id");
            List<String> ddl = new ArrayList<>();
            invoices.get("problems").get(0).get("fix").forEach(f -> ddl.add(f.asText()));
            assertThat(ddl).containsExactly("ALTER TABLE \"public\".\"invoices\" DROP CONSTRAINT \"invoices_pkey\","
                    + " ADD CONSTRAINT \"invoices_pkey\" PRIMARY KEY (\"company_id\", \"id\");");
            assertThat(p.get("unroutedClients").toString()).contains("legacy-app");
            assertThat(cli(four, "adopt", "--output", "text").out()).contains("BLOCKED").contains("NOT executable");

            // the operator runs the printed DDL, while the application writes
            try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
                for (String d : ddl) {
                    s.execute(d);
                }
            }
            Result ready = cli(four, "adopt", "--output", "text");
            assertThat(ready.code()).as(ready.out() + ready.err()).isZero();
            assertThat(ready.out()).contains("executable: run the same command with --execute");

            // adopted while the application writes to it directly: not one of its writes fails
            long before = app.ops.get();
            Result adopted = cli(four, "adopt", "--execute", "--output", "text");
            assertThat(adopted.code()).as(adopted.out() + adopted.err()).isZero();
            assertThat(adopted.out()).contains("legacy adopted: topology version 1");
            app.awaitOps(200);
            assertThat(app.ops.get()).isGreaterThan(before);
            assertThat(app.errors.get()).as("%s", app.errorSamples).isZero();
            // running it again changes nothing
            Result again = cli(four, "adopt", "--execute", "--output", "text");
            assertThat(again.code()).isZero();
            assertThat(again.out()).contains("already adopted");

            try (NodePools pools = new NodePools(ENV::get);
                    ShardedDataSource router = ShardedDataSource.builder(ShardringYaml.load(four)).build()) {
                ShardringYaml.load(four).topology().nodes().values().forEach(pools::add);
                Catalog catalog = Catalog.open(pools.apply("legacy"));
                // a split refused while the application still writes around the router
                Result refused = cli(four, "add-node", "pg-b", "pg-c", "pg-d", "--execute", "--output", "text");
                assertThat(refused.code()).as(refused.out() + refused.err()).isEqualTo(3);
                assertThat(refused.err()).contains("clients that do not come through a router write")
                        .contains("legacy-app").contains("--allow-unrouted-clients");
                assertThat(catalog.version()).isEqualTo(1);

                // the switch: from now on the writers go through the router, new companies take newKey()
                app.switchTo(router);
                app.awaitOps(300);
                app.markAfter();
                Result split = cli(four, "add-node", "pg-b", "pg-c", "pg-d", "--execute", "--output", "text");
                assertThat(split.code()).as(split.out() + split.err()).isZero();
                assertThat(split.out()).contains("moves 75.00% of the keyspace in 3 jobs")
                        .contains("move 1 done: topology version 1 -> 4");
                app.awaitOps(300);
                Topology split4 = catalog.load();
                assertThat(split4.nodes().keySet()).containsExactlyElementsOf(NODES);
                assertThat(new NodeOrdinals(catalog.dataSource()).active()).isEqualTo(Map.of(
                        "legacy", 0, "pg-b", 1, "pg-c", 2, "pg-d", 3));
                app.stop();
                awaitVersion(router, split4.version());
                check(cluster, app, split4, Map.of("legacy", 0, "pg-b", 1, "pg-c", 2, "pg-d", 3), true);
                assertThat(app.insertedAfter).as("rows inserted during and after the split").hasSizeGreaterThan(50);
                Result status = cli(four, "status", "--output", "text");
                assertThat(status.out()).contains("id ranges (node ordinals): legacy 0, pg-b 1, pg-c 2, pg-d 3")
                        .doesNotContain("WARNING");
                // a sequence that has drawn 81% of its node's range is named, with what to do
                try (Connection c = cluster.shard(1).connect(); Statement s = c.createStatement()) {
                    s.execute("SELECT setval('invoices_id_seq', " + (SequenceRanges.low(1)
                            + (long) (0.81 * (1L << SequenceRanges.BITS))) + ")");
                }
                assertThat(cli(four, "status", "--output", "text").out()).contains("WARNING: public.invoices_id_seq on"
                        + " pg-b has used 81.0% of node ordinal 1's range");

                // and back to one node, in one plan, the writers still on
                app.start(4);
                Result back = cli(one, "rebalance", "--execute", "--output", "text");
                assertThat(back.code()).as(back.out() + back.err()).isZero();
                assertThat(back.out()).contains("moves 75.00% of the keyspace in 3 jobs");
                app.awaitOps(200);
                app.stop();
                Topology joined = catalog.load();
                assertThat(joined.nodes().keySet()).containsExactly("legacy");
                awaitVersion(router, joined.version());
                check(cluster, app, joined, Map.of("legacy", 0), false);
                assertThat(new NodeOrdinals(catalog.dataSource()).active()).containsOnlyKeys("legacy");
            }
            assertThat(app.errors.get()).as("%s", app.errorSamples).isZero();
        } finally {
            Path out = Path.of("target", "adopt-transcript.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, transcript.toString(), StandardCharsets.UTF_8);
        }
    }

    private static void awaitVersion(ShardedDataSource router, long version) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (router.topology().version() < version && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(router.topology().version()).isEqualTo(version);
    }

    /**
     * Every acknowledged row once, on the owner of its key; ids unique across nodes; rows inserted since the split
     * with ids from a node's range (ordinal 0's if drawn before their key's cutover), and while rows stay where they
     * were drawn, from their node's own; foreign keys intact and the plans on every node; every acknowledged click
     * counted.
     */
    static void check(PgCluster cluster, LegacyApp app, Topology t, Map<String, Integer> ordinals,
            boolean drawnWhereTheyAre) throws SQLException {
        Map<LegacyApp.Row, String> where = new HashMap<>();
        Map<String, Set<Long>> ids = new HashMap<>();
        Map<LegacyApp.Row, Long> clicks = new HashMap<>();
        List<String> plans = new ArrayList<>();
        for (int i = 0; i < NODES.size(); i++) {
            String node = NODES.get(i);
            if (!t.nodes().containsKey(node)) {
                continue;
            }
            try (Connection c = cluster.shard(i).connect(); Statement s = c.createStatement()) {
                for (String table : LegacyApp.SHARDED) {
                    String key = table.equals("companies") ? "id" : "company_id";
                    try (ResultSet rs = s.executeQuery("SELECT " + key + ", id" + (table.equals("ads") ? ", clicks"
                            : "") + " FROM " + table)) {
                        while (rs.next()) {
                            LegacyApp.Row row = new LegacyApp.Row(table, rs.getLong(1), rs.getLong(2));
                            assertThat(t.ring().route(row.company()).id()).as("owner of %s", row).isEqualTo(node);
                            String twice = where.put(row, node);
                            assertThat(twice).as("%s on two nodes", row).isNull();
                            assertThat(ids.computeIfAbsent(table, k -> new HashSet<>()).add(row.id()))
                                    .as("id %d of %s drawn twice", row.id(), table).isTrue();
                            if (table.equals("ads")) {
                                clicks.put(row, rs.getLong(3));
                            }
                        }
                    }
                }
                for (String fk : List.of(
                        "SELECT count(*) FROM companies x WHERE NOT EXISTS (SELECT 1 FROM plans p WHERE p.id = x.plan_id)",
                        "SELECT count(*) FROM campaigns x WHERE NOT EXISTS (SELECT 1 FROM companies p"
                                + " WHERE p.id = x.company_id)",
                        "SELECT count(*) FROM ads x WHERE NOT EXISTS (SELECT 1 FROM campaigns p"
                                + " WHERE p.company_id = x.company_id AND p.id = x.campaign_id)",
                        "SELECT count(*) FROM invoices x WHERE NOT EXISTS (SELECT 1 FROM companies p"
                                + " WHERE p.id = x.company_id)")) {
                    try (ResultSet rs = s.executeQuery(fk)) {
                        rs.next();
                        assertThat(rs.getLong(1)).as("%s on %s", fk, node).isZero();
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM plans")) {
                    rs.next();
                    plans.add(rs.getString(1));
                }
            }
        }
        assertThat(plans).as("the plans on every node").hasSize(t.nodes().size()).containsOnly(plans.get(0));
        List<LegacyApp.Row> lost = app.acknowledged.stream().filter(r -> !where.containsKey(r)).sorted(
                java.util.Comparator.comparing(LegacyApp.Row::table).thenComparing(LegacyApp.Row::id)).toList();
        if (!lost.isEmpty()) {
            StringBuilder journal = new StringBuilder();
            try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT move_id, job, phase, event, detail, at FROM"
                            + " shardring.move_journal ORDER BY id")) {
                while (rs.next()) {
                    journal.append(rs.getLong(1)).append(' ').append(rs.getString(2)).append(' ')
                            .append(rs.getString(3)).append(' ').append(rs.getString(4)).append(' ')
                            .append(rs.getString(5)).append(' ').append(rs.getString(6)).append('\n');
                }
            }
            journal.append("lost key owner: ").append(t.ring().route(lost.get(0).company()).id()).append('\n');
            journal.append(app.events);
            assertThat(lost).as("acknowledged rows found on no node (%d of %d); journal:%n%s", lost.size(),
                    app.acknowledged.size(), journal).isEmpty();
        }
        app.clicks.forEach((row, n) -> assertThat(clicks.get(row)).as("clicks of %s", row).isEqualTo(n.get()));
        // an id's range tells which node drew it: (id - 1) >> 48 is the ordinal
        long fromNewRanges = 0;
        for (LegacyApp.Row row : app.insertedAfter) {
            long ordinal = (row.id() - 1) >>> SequenceRanges.BITS;
            if (row.table().equals("companies")) {
                assertThat(ordinal).as("%s: new keys come from newKey(), the adopted database's sequence", row)
                        .isZero();
                continue;
            }
            assertThat(ordinal).as("%s drawn in a range of a node of the ring", row).isBetween(0L, 3L);
            if (ordinal > 0) {
                fromNewRanges++;
                if (drawnWhereTheyAre) {
                    assertThat(ordinals.get(where.get(row))).as("%s on %s", row, where.get(row))
                            .isEqualTo((int) ordinal);
                }
            }
        }
        if (drawnWhereTheyAre) {
            assertThat(fromNewRanges).as("rows inserted on the new nodes, with their own ids").isPositive();
        }
    }
}
