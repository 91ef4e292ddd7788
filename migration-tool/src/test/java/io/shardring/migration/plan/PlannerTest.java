package io.shardring.migration.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.ShardedTable;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The planner against 3 real shards: {@code accounts} rows of 3,000 tenants placed by a 3-node ring
 * (shard0..shard2, allocated tokens). The added node of the add-node plans is "shard3", configured with
 * shard0's JDBC URL: it is only planned, never moved to, so it need not be a separate server.
 */
@PgShards(3)
class PlannerTest {
    private static final int TENANTS = 3000;
    private static final String ACCOUNTS = "public.accounts";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PgCluster cluster;
    private static Topology topology;
    private static final Map<String, DataSource> SOURCES = new LinkedHashMap<>();
    /** Rows inserted per node. */
    private static final Map<String, Long> ROWS_ON = new TreeMap<>();

    @BeforeAll
    static void setUp(PgCluster pg) throws SQLException {
        cluster = pg;
        Topology.Builder b = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT))
                .table(ShardedTable.of(ACCOUNTS, "tenant_id"));
        for (PgShard s : pg.shards()) {
            b.node(node(s.name(), s).build());
            SOURCES.put(s.name(), s.dataSource());
        }
        topology = b.build();
        ShardedFlyway.configure(topology, SOURCES).locations("classpath:db/plannertest").load().migrate().orThrow();

        Map<String, List<Long>> tenantsOn = new TreeMap<>();
        for (long t = 1; t <= TENANTS; t++) {
            tenantsOn.computeIfAbsent(topology.ring().route(t).id(), k -> new ArrayList<>()).add(t);
        }
        assertThat(tenantsOn).containsOnlyKeys("shard0", "shard1", "shard2");
        for (PgShard s : pg.shards()) {
            try (Connection c = s.connect()) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (tenant_id, id) VALUES (?, ?)")) {
                    for (long t : tenantsOn.get(s.name())) {
                        for (int i = 0; i < rowsOf(t); i++) {
                            ps.setLong(1, t);
                            ps.setObject(2, UUID.randomUUID());
                            ps.addBatch();
                            ROWS_ON.merge(s.name(), 1L, Long::sum);
                        }
                    }
                    ps.executeBatch();
                }
                try (Statement st = c.createStatement()) {
                    // tables for the warning and error checks; not in the main topology
                    st.execute("CREATE TABLE events (tenant_id bigint NOT NULL, id bigserial, PRIMARY KEY (tenant_id, id))");
                    st.execute("CREATE TABLE ledger (tenant_id bigint NOT NULL,"
                            + " n bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (tenant_id, n))");
                    st.execute("CREATE TABLE notes (id uuid PRIMARY KEY, tenant_id bigint NOT NULL)");
                    st.execute("CREATE TABLE loose (tenant_id bigint NOT NULL, body text)");
                    st.execute("CREATE TABLE counters (tenant_id bigint NOT NULL, id serial,"
                            + " PRIMARY KEY (tenant_id, id))");
                    st.execute("CREATE TABLE price_plans (id bigint PRIMARY KEY, name text NOT NULL)");
                    st.execute("CREATE TABLE subscriptions (tenant_id bigint NOT NULL, id bigint NOT NULL,"
                            + " plan_id bigint REFERENCES price_plans (id), PRIMARY KEY (tenant_id, id))");
                    if (s.name().equals("shard0")) {
                        st.execute("CREATE TABLE partial (tenant_id bigint NOT NULL, id uuid,"
                                + " PRIMARY KEY (tenant_id, id))");
                    }
                    st.execute("INSERT INTO notes SELECT gen_random_uuid(), g FROM generate_series(1, 10) g");
                }
                c.commit();
            }
        }
    }

    private static NodeConfig.Builder node(String id, PgShard s) {
        NodeConfig.Builder n = NodeConfig.builder(id).jdbcUrl(s.jdbcUrl()).user(s.user());
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n;
    }

    /** 1 to 3 rows per tenant, so that rows and tenants differ. */
    private static int rowsOf(long tenant) {
        return 1 + (int) (tenant % 3);
    }

    /** Rows whose key changes owner, by "from->to", routed in Java by the two rings. */
    private static Map<String, Long> expectedMoves(Topology before, Topology after) {
        Map<String, Long> m = new TreeMap<>();
        for (long t = 1; t <= TENANTS; t++) {
            String from = before.ring().route(t).id();
            String to = after.ring().route(t).id();
            if (!from.equals(to)) {
                m.merge(from + "->" + to, (long) rowsOf(t), Long::sum);
            }
        }
        return m;
    }

    /** The data sources of the current nodes, recording every id asked for; null for any other id. */
    private static Function<String, DataSource> recording(Set<String> asked) {
        return id -> {
            asked.add(id);
            return SOURCES.get(id);
        };
    }

    private static TopologyChange addShard3() {
        return TopologyChange.addNode(node("shard3", cluster.shard(0)).build());
    }

    private static Topology withTables(String... tables) {
        Topology.Builder b = topology.toBuilder();
        for (String t : tables) {
            b.table(t, "tenant_id");
        }
        return b.build();
    }

    private static void checkCounts(Plan plan) {
        Map<String, Long> expected = expectedMoves(plan.before(), plan.after());
        Map<String, Long> actual = new TreeMap<>();
        for (MoveJob j : plan.jobs()) {
            assertThat(j.rowsPerTable()).as(j.pair()).containsOnlyKeys(ACCOUNTS);
            actual.put(j.pair(), j.rowsPerTable().get(ACCOUNTS));
        }
        expected.forEach((pair, rows) -> assertThat(actual).as("rows of " + pair).containsEntry(pair, rows));
        actual.forEach((pair, rows) -> assertThat(rows).as("rows of " + pair)
                .isEqualTo(expected.getOrDefault(pair, 0L)));
        long total = expected.values().stream().mapToLong(Long::longValue).sum();
        assertThat(total).isPositive();
        assertThat(plan.rowsToMove()).isEqualTo(total);
    }

    private static void checkJobsMatchDiff(Plan plan) {
        Map<String, List<RingDiff.Move>> byPair = plan.diff().byPair();
        assertThat(plan.jobs()).extracting(MoveJob::pair).containsExactlyInAnyOrderElementsOf(byPair.keySet());
        double sum = 0;
        for (MoveJob j : plan.jobs()) {
            List<TokenRange> ranges = new ArrayList<>();
            byPair.get(j.pair()).forEach(m -> ranges.add(m.range()));
            assertThat(j.ranges()).isEqualTo(ranges);
            assertThat(j.share()).isCloseTo(ranges.stream().mapToDouble(TokenRange::share).sum(), within(1e-12));
            sum += j.share();
        }
        assertThat(plan.movedShare()).isCloseTo(sum, within(1e-9));
        List<MoveJob> sorted = new ArrayList<>(plan.jobs());
        sorted.sort(java.util.Comparator.comparing(MoveJob::source).thenComparing(MoveJob::target));
        assertThat(plan.jobs()).containsExactlyElementsOf(sorted);
    }

    @Test
    void addNodeMovesAQuarterToTheNewNodeWithExactRowCounts() throws Exception {
        Set<String> asked = ConcurrentHashMap.newKeySet();
        TopologyChange change = addShard3();
        Plan plan = Planner.plan(topology, change, recording(asked));

        assertThat(asked).containsExactlyInAnyOrder("shard0", "shard1", "shard2", "shard3");
        assertThat(plan.change()).isEqualTo(change.describe()).contains("add-node shard3");
        assertThat(plan.before()).isSameAs(topology);
        assertThat(plan.after().version()).isEqualTo(2);
        assertThat(plan.after().nodes()).containsOnlyKeys("shard0", "shard1", "shard2", "shard3");
        assertThat(plan.after().ring().tokens()).isEqualTo(change.apply(topology).ring().tokens());

        assertThat(plan.jobs()).isNotEmpty().allSatisfy(j -> assertThat(j.target()).isEqualTo("shard3"));
        assertThat(plan.jobs()).extracting(MoveJob::source).doesNotHaveDuplicates()
                .isSubsetOf("shard0", "shard1", "shard2");
        assertThat(plan.movedShare()).isCloseTo(0.25, within(0.01));
        checkJobsMatchDiff(plan);
        checkCounts(plan);

        assertThat(plan.errors()).isEmpty();
        assertThat(plan.isExecutable()).isTrue();
        // shard3 got no data source: it goes unchecked, and nothing else is wrong
        assertThat(plan.warnings()).containsExactly("new node shard3 not checked: no data source given for it; make"
                + " sure it runs with wal_level = logical and holds no other ring's data");

        String text = plan.render();
        assertThat(text).contains("plan: add-node shard3").contains("topology version 1 -> 2")
                .contains(String.format(java.util.Locale.ROOT, "%,d rows", plan.rowsToMove()))
                .contains("new node shard3 not checked").endsWith("executable\n")
                .doesNotContain("NOT executable").doesNotContain("nothing moves");
        for (int i = 0; i < plan.jobs().size(); i++) {
            MoveJob j = plan.jobs().get(i);
            Pattern row = Pattern.compile("^\\s*" + (i + 1) + "\\s+" + j.source() + "\\s+->\\s+" + j.target() + "\\s+"
                    + j.ranges().size() + "\\s+" + Pattern.quote(Plan.percent(j.share())) + "\\s+"
                    + Pattern.quote(String.format(java.util.Locale.ROOT, "%,d", j.rows())) + "$", Pattern.MULTILINE);
            assertThat(row.matcher(text).find()).as("table row of job %s in\n%s", j.pair(), text).isTrue();
            assertThat(text).contains("job " + (i + 1) + ": " + j.source() + " -> " + j.target() + "\n");
            j.ranges().forEach(r -> assertThat(text).contains(r.toString()));
        }

        ObjectNode json = plan.toJson();
        String written = JSON.writeValueAsString(json);
        JsonNode back = JSON.readTree(written);
        // Jackson reads small longs back as ints: compare numbers by value
        assertThat(back.equals((a, b) -> a.equals(b) || a.isNumber() && b.isNumber()
                && a.decimalValue().compareTo(b.decimalValue()) == 0 ? 0 : 1, json)).isTrue();
        assertThat(JSON.writeValueAsString(back)).isEqualTo(written);
        assertThat(back.get("change").asText()).isEqualTo(plan.change());
        assertThat(back.get("movedShare").asDouble()).isEqualTo(plan.movedShare());
        assertThat(back.get("rowsToMove").asLong()).isEqualTo(plan.rowsToMove());
        assertThat(back.get("executable").asBoolean()).isTrue();
        assertThat(back.get("warnings")).hasSize(1);
        assertThat(back.get("jobs")).hasSize(plan.jobs().size());
        List<MoveJob> jobsBack = new ArrayList<>();
        back.get("jobs").forEach(n -> jobsBack.add(MoveJob.fromJson(n)));
        assertThat(jobsBack).isEqualTo(plan.jobs());
        JsonNode firstRange = back.get("jobs").get(0).get("ranges").get(0);
        assertThat(firstRange.get(0).asLong()).isEqualTo(plan.jobs().get(0).ranges().get(0).startExclusive());
        assertThat(firstRange.get(1).asLong()).isEqualTo(plan.jobs().get(0).ranges().get(0).endInclusive());
        assertThat(back.get("jobs").get(0).get("rowsPerTable").get(ACCOUNTS).asLong())
                .isEqualTo(plan.jobs().get(0).rowsPerTable().get(ACCOUNTS));
    }

    @Test
    void predicateSelectsExactlyTheJobsRows() throws SQLException {
        Plan plan = Planner.plan(topology, addShard3(), SOURCES::get);
        MoveJob job = plan.jobs().get(0);
        int shard = Integer.parseInt(job.source().substring("shard".length()));
        long inRanges = 0;
        try (Connection c = cluster.shard(shard).connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT tenant_id FROM accounts WHERE "
                        + job.sqlPredicate(KeyType.BIGINT, "tenant_id"))) {
            while (rs.next()) {
                long t = rs.getLong(1);
                assertThat(plan.after().ring().route(t).id()).isEqualTo(job.target());
                assertThat(job.containsHash(KeyType.BIGINT.hash(t))).isTrue();
                inRanges++;
            }
        }
        assertThat(inRanges).isEqualTo(job.rows()).isPositive();
    }

    @Test
    void newNodeThatCannotBeReachedMakesThePlanNotExecutableAndALogicalOneIsFine() {
        Plan unreachable = Planner.plan(topology, addShard3(), id -> {
            if (id.equals("shard3")) {
                throw new IllegalStateException("no route to host 10.9.9.9");
            }
            return SOURCES.get(id);
        });
        assertThat(unreachable.errors()).containsExactly("cannot reach new node shard3: no route to host 10.9.9.9;"
                + " start it (or fix its jdbcUrl) and plan again");
        assertThat(unreachable.isExecutable()).isFalse();
        assertThat(unreachable.render()).contains("NOT executable");

        Plan refused = Planner.plan(topology, addShard3(), id -> id.equals("shard3") ? closedPort() : SOURCES.get(id));
        assertThat(refused.errors()).singleElement().asString().startsWith("cannot reach new node shard3: ");
        assertThat(refused.isExecutable()).isFalse();

        // shard3 reached (an empty database on shard0's server, wal_level=logical): no warning at all
        Plan reached = Planner.plan(topology, addShard3(), id -> id.equals("shard3") ? emptyDatabase()
                : SOURCES.get(id));
        assertThat(reached.warnings()).isEmpty();
        assertThat(reached.isExecutable()).isTrue();
        assertThat(reached.jobs()).isEqualTo(unreachable.jobs());

        // shard0's own database as the new node: it holds rows of the sharded tables
        Plan holding = Planner.plan(topology, addShard3(), id -> SOURCES.get(id.equals("shard3") ? "shard0" : id));
        assertThat(holding.errors()).containsExactly("new node shard3 holds rows in sharded tables (public.accounts):"
                + " a node joins the ring empty (rows written there around the ring, or left by another use of the"
                + " database, would be deleted or mixed with the moved ones); give it an empty database");
    }

    /** An empty database on shard0's server, for a new node that is reached. */
    private static DataSource emptyDatabase() {
        try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS planner_new_node");
            s.execute("CREATE DATABASE planner_new_node");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL("jdbc:postgresql://" + cluster.shard(0).host() + ":" + cluster.shard(0).port() + "/planner_new_node");
        ds.setUser(cluster.shard(0).user());
        if (cluster.shard(0).password() != null) {
            ds.setPassword(cluster.shard(0).password());
        }
        return ds;
    }

    @Test
    void walLevelReplicaOnTheNewNodeWarnsOfTheCopyFallback() {
        try (PgCluster replica = PgCluster.builder().shards(1).serverSetting("wal_level", "replica").start()) {
            PgShard r = replica.shard(0);
            TopologyChange change = TopologyChange.addNode(node("shard3", r).build());
            Plan plan = Planner.plan(topology, change, id -> id.equals("shard3") ? r.dataSource() : SOURCES.get(id));
            assertThat(plan.warnings()).containsExactly("logical replication unavailable on shard3: moves will use the"
                    + " slower COPY fallback under a fence (wal_level is replica; set wal_level = logical and restart"
                    + " the server to avoid it)");
            assertThat(plan.isExecutable()).isTrue();
        }
    }

    @Test
    void aRoleThatIsNotSuperuserIsWarnedOfWhatTheMoveCannotDoOrDoesLessWell() throws SQLException {
        Map<String, DataSource> plain = new LinkedHashMap<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("DROP ROLE IF EXISTS mover_plain");
                st.execute("CREATE ROLE mover_plain LOGIN");
                st.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO mover_plain");
            }
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(s.jdbcUrl());
            ds.setUser("mover_plain");
            plain.put(s.name(), ds);
        }
        try {
            DataSource empty = emptyDatabase();
            ((PGSimpleDataSource) empty).setUser("mover_plain");
            Plan plan = Planner.plan(topology, addShard3(), id -> id.equals("shard3") ? empty : plain.get(id), false);
            assertThat(plan.isExecutable()).as("%s", plan.errors()).isTrue();
            assertThat(plan.warnings()).anyMatch(w -> w.contains("role mover_plain on shard1 has no REPLICATION")
                    && w.contains("ALTER ROLE mover_plain REPLICATION"));
            assertThat(plan.warnings()).anyMatch(w -> w.contains("role mover_plain on shard3 may not create"
                    + " subscriptions"));
            assertThat(plan.warnings()).anyMatch(w -> w.contains("role mover_plain on shard3 is not a superuser")
                    && w.contains("triggers will fire") && w.contains("server log"));
            assertThat(Planner.plan(topology, addShard3(), SOURCES::get, false).warnings())
                    .as("the test kit's superuser").noneMatch(w -> w.contains("role "));
        } finally {
            for (PgShard s : cluster.shards()) {
                try (Connection c = s.connect(); Statement st = c.createStatement()) {
                    st.execute("DROP OWNED BY mover_plain");
                    st.execute("DROP ROLE mover_plain");
                }
            }
        }
    }

    @Test
    void bigintSequencesAndIdentitiesAreRangedWhileA32BitSerialIsAnErrorWithItsDdl() {
        // each node draws its own id range from bigint sequences: nothing to warn of
        Plan plan = Planner.plan(withTables("events", "ledger"), addShard3(), SOURCES::get, false);
        assertThat(plan.warnings()).noneMatch(w -> w.contains("sequence") || w.contains("uuid"));
        assertThat(plan.errors()).isEmpty();
        assertThat(plan.isExecutable()).isTrue();
        // not counted: empty maps, and the text says so
        assertThat(plan.jobs()).isNotEmpty().allSatisfy(j -> assertThat(j.rowsPerTable()).isEmpty());
        assertThat(plan.rowsToMove()).isZero();
        assertThat(plan.render()).contains("rows: not counted");

        Plan narrow = Planner.plan(withTables("counters"), addShard3(), SOURCES::get, false);
        assertThat(narrow.isExecutable()).isFalse();
        assertThat(narrow.errors()).singleElement().asString()
                .startsWith("sharded table public.counters: column id is integer and filled from sequence"
                        + " public.counters_id_seq")
                .contains("ALTER TABLE \"public\".\"counters\" ALTER COLUMN \"id\" TYPE bigint;"
                        + " ALTER SEQUENCE \"public\".\"counters_id_seq\" AS bigint;")
                .endsWith("(on shard0, shard1, shard2)");
    }

    @Test
    void aForeignKeyToATableThatIsNeitherShardedNorReferenceIsAnError() {
        Plan plan = Planner.plan(withTables("subscriptions"), addShard3(), SOURCES::get, false);
        assertThat(plan.isExecutable()).as("subscriptions.plan_id references price_plans").isFalse();
        assertThat(plan.errors()).singleElement().asString()
                .startsWith("sharded table public.subscriptions: foreign key subscriptions_plan_id_fkey (plan_id)"
                        + " references public.price_plans, which is neither sharded nor a reference table")
                .contains("reference: { tables: [public.price_plans] }");

        Topology withReference = withTables("subscriptions").toBuilder().referenceTable("price_plans").build();
        assertThat(Planner.plan(withReference, addShard3(), SOURCES::get, false).errors()).isEmpty();
    }

    @Test
    void primaryKeyWithoutTheKeyColumnAndMissingTablesAreErrors() {
        Plan plan = Planner.plan(withTables("notes", "loose", "partial"), addShard3(), SOURCES::get);
        assertThat(plan.isExecutable()).isFalse();
        assertThat(plan.errors()).containsExactly(
                "the primary key (id) of sharded table public.notes does not include its key column tenant_id"
                        + " (publishing UPDATE and DELETE with a row filter needs the key in the replica identity);"
                        + " add tenant_id to the primary key (on shard0, shard1, shard2)",
                "sharded table public.loose has no primary key; moving its rows needs one that includes the key"
                        + " column tenant_id (publishing UPDATE and DELETE with a row filter needs the key in the"
                        + " replica identity) (on shard0, shard1, shard2)",
                "sharded table public.partial does not exist on shard1, shard2; create it there with a migration"
                        + " or remove it from the topology's tables");
        String text = plan.render();
        assertThat(text).contains("errors (3):").contains("public.partial does not exist on shard1, shard2")
                .endsWith("NOT executable: fix the errors above and plan again\n");
        assertThat(plan.toJson().get("executable").asBoolean()).isFalse();
        assertThat(plan.toJson().get("errors")).hasSize(3);
        // rows are still counted where the table is readable: all notes keys move with their tenants
        Map<String, Long> notesMoving = new HashMap<>();
        for (MoveJob j : plan.jobs()) {
            assertThat(j.rowsPerTable()).containsKeys(ACCOUNTS, "public.notes", "public.loose");
            if (!j.source().equals("shard0")) {
                assertThat(j.rowsPerTable()).doesNotContainKey("public.partial");
            }
            notesMoving.put(j.pair(), j.rowsPerTable().get("public.notes"));
        }
        Map<String, Long> expected = new HashMap<>();
        for (MoveJob j : plan.jobs()) {
            long n = 0;
            for (long t = 1; t <= 10; t++) {
                if (j.containsHash(KeyType.BIGINT.hash(t))) {
                    n++;
                }
            }
            expected.put(j.pair(), n);
        }
        assertThat(notesMoving).isEqualTo(expected);
    }

    @Test
    void differingSchemaVersionsWarnComparedAsFlywayVersions() throws SQLException {
        assertThat(Planner.plan(topology, addShard3(), SOURCES::get, false).warnings())
                .noneMatch(w -> w.contains("schema versions"));
        try (Connection c1 = cluster.shard(1).connect(); Connection c2 = cluster.shard(2).connect();
                Statement s1 = c1.createStatement(); Statement s2 = c2.createStatement()) {
            String insert = "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                    + " checksum, installed_by, execution_time, success) VALUES (%d, '%s', 'test', 'SQL', 'V%s__t.sql',"
                    + " 0, 'test', 0, %s)";
            s1.execute(String.format(insert, 101, "9", "9", "true"));
            s1.execute(String.format(insert, 102, "10", "10", "true"));
            s1.execute(String.format(insert, 103, "11", "11", "false"));
            try {
                Plan plan = Planner.plan(topology, addShard3(), SOURCES::get, false);
                assertThat(plan.warnings()).contains("application schema versions differ between shards: shard0 1,"
                        + " shard1 10, shard2 1; migrate every shard to the same version (ShardedFlyway) before"
                        + " moving rows");
                s2.execute("ALTER TABLE flyway_schema_history RENAME TO flyway_schema_history_away");
                try {
                    plan = Planner.plan(topology, addShard3(), SOURCES::get, false);
                    assertThat(plan.warnings()).anyMatch(w -> w.startsWith("application schema versions differ"
                            + " between shards: shard0 1, shard1 10, shard2 no Flyway history;"));
                    assertThat(plan.isExecutable()).isTrue();
                } finally {
                    s2.execute("ALTER TABLE flyway_schema_history_away RENAME TO flyway_schema_history");
                }
            } finally {
                s1.execute("DELETE FROM flyway_schema_history WHERE installed_rank > 100");
            }
        }
    }

    @Test
    void flywayVersionsCompareByNumericParts() {
        assertThat(Planner.compareVersions("10", "9")).isPositive();
        assertThat(Planner.compareVersions("1.10", "1.9")).isPositive();
        assertThat(Planner.compareVersions("2", "1.99")).isPositive();
        assertThat(Planner.compareVersions("1.0", "1")).isZero();
        assertThat(Planner.compareVersions("1_1", "1.1")).isZero();
        assertThat(Planner.compareVersions("1.2.3", "1.2.10")).isNegative();
    }

    @Test
    void removeNodeMovesOnlyTheRemovedNodesRows() {
        Set<String> asked = ConcurrentHashMap.newKeySet();
        Plan plan = Planner.plan(topology, TopologyChange.removeNode("shard2"), recording(asked));
        assertThat(asked).containsExactlyInAnyOrder("shard0", "shard1", "shard2");
        assertThat(plan.after().nodes()).containsOnlyKeys("shard0", "shard1");
        assertThat(plan.jobs()).isNotEmpty().allSatisfy(j -> {
            assertThat(j.source()).isEqualTo("shard2");
            assertThat(j.target()).isIn("shard0", "shard1");
        });
        double owned = topology.ownedRanges("shard2").stream().mapToDouble(TokenRange::share).sum();
        assertThat(plan.movedShare()).isCloseTo(owned, within(1e-9));
        checkJobsMatchDiff(plan);
        checkCounts(plan);
        assertThat(plan.rowsToMove()).isEqualTo(ROWS_ON.get("shard2"));
        assertThat(plan.warnings()).isEmpty();
        assertThat(plan.isExecutable()).isTrue();
    }

    @Test
    void setWeightMovesKeysOnlyToThatNode() {
        Plan plan = Planner.plan(topology, TopologyChange.setWeight("shard1", 2.0), SOURCES::get);
        assertThat(plan.after().node("shard1").weight()).isEqualTo(2.0);
        assertThat(plan.jobs()).isNotEmpty().allSatisfy(j -> {
            assertThat(j.target()).isEqualTo("shard1");
            assertThat(j.source()).isNotEqualTo("shard1");
        });
        // shard1 goes from 1/3 to 2/4 of the keyspace
        assertThat(plan.movedShare()).isCloseTo(0.5 - 1.0 / 3, within(0.01));
        checkJobsMatchDiff(plan);
        checkCounts(plan);

        Plan down = Planner.plan(topology, TopologyChange.setWeight("shard1", 0.5), SOURCES::get);
        assertThat(down.jobs()).isNotEmpty().allSatisfy(j -> assertThat(j.source()).isEqualTo("shard1"));
        checkCounts(down);
    }

    @Test
    void aChangeThatMovesNothingPlansNoJobs() throws Exception {
        Plan plan = Planner.plan(topology, TopologyChange.setWeight("shard0", 1.0), SOURCES::get);
        assertThat(plan.jobs()).isEmpty();
        assertThat(plan.movedShare()).isZero();
        assertThat(plan.rowsToMove()).isZero();
        assertThat(plan.isExecutable()).isTrue();
        assertThat(plan.render()).contains("nothing moves").doesNotContain("JOB");
        assertThat(JSON.readTree(JSON.writeValueAsString(plan.toJson())).get("jobs")).isEmpty();
    }

    @Test
    void badChangesAreRefusedBeforeAnyShardIsAsked() {
        Function<String, DataSource> never = id -> {
            throw new AssertionError("asked for " + id);
        };
        assertThatThrownBy(() -> Planner.plan(topology, TopologyChange.removeNode("pg-x"), never))
                .isInstanceOf(ShardringException.class).hasMessageContaining("unknown node 'pg-x'");
        assertThatThrownBy(() -> Planner.plan(topology, TopologyChange.setWeight("pg-x", 2.0), never))
                .isInstanceOf(ShardringException.class).hasMessageContaining("unknown node 'pg-x'");
        assertThatThrownBy(() -> Planner.plan(topology,
                TopologyChange.addNode(node("shard1", cluster.shard(1)).build()), never))
                .isInstanceOf(ShardringException.class).hasMessageContaining("node 'shard1' is already in topology");
        Topology single = Topology.builder().ring(RingSettings.of(KeyType.BIGINT))
                .node(node("shard0", cluster.shard(0)).build()).build();
        assertThatThrownBy(() -> Planner.plan(single, TopologyChange.removeNode("shard0"), never))
                .isInstanceOf(ShardringException.class).hasMessageContaining("cannot remove 'shard0'")
                .hasMessageContaining("last node");
        assertThatThrownBy(() -> TopologyChange.setWeight("shard0", 0))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("weight 0.0");
        assertThatThrownBy(() -> Planner.plan(topology, null, never))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("without a change");
    }

    @Test
    void currentNodesMustBeGivenAndReachable() {
        assertThatThrownBy(() -> Planner.plan(topology, addShard3(), id -> id.equals("shard1") ? null : SOURCES.get(id)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("no data source for node 'shard1'");
        assertThatThrownBy(() -> Planner.plan(topology, addShard3(),
                id -> id.equals("shard2") ? closedPort() : SOURCES.get(id)))
                .isInstanceOf(ShardUnavailableException.class)
                .hasMessageContaining("cannot reach node 'shard2' to plan the change")
                .satisfies(e -> assertThat(((ShardUnavailableException) e).nodeId()).isEqualTo("shard2"));
    }

    @Test
    void moveJobRejectsBadValuesAndReadsItsJson() {
        List<TokenRange> one = List.of(new TokenRange(-5, 7));
        assertThatThrownBy(() -> new MoveJob("a", "a", one, Map.of())).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'a'");
        assertThatThrownBy(() -> new MoveJob("a", "b", List.of(), Map.of())).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("a -> b has no ranges");
        Map<String, Long> nulls = new HashMap<>();
        nulls.put("public.t", null);
        assertThatThrownBy(() -> new MoveJob("a", "b", one, nulls)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("public.t");
        MoveJob j = new MoveJob("a", "b", List.of(new TokenRange(Long.MAX_VALUE - 1, Long.MIN_VALUE + 3)),
                Map.of("public.t", 4L));
        assertThat(j.ranges().get(0).wraps()).isTrue();
        assertThat(MoveJob.fromJson(j.toJson())).isEqualTo(j);
        assertThat(j.sqlPredicate(KeyType.BIGINT, "tenant_id"))
                .isEqualTo(TokenRange.toSql(j.ranges(), KeyType.BIGINT, "tenant_id"));
        ObjectNode bad = j.toJson();
        bad.putArray("ranges").addArray().add(1.5).add(2);
        assertThatThrownBy(() -> MoveJob.fromJson(bad)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("[1.5,2]");
    }

    /** A data source whose connections are refused at once. */
    private static DataSource closedPort() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {1});
        ds.setDatabaseName("none");
        ds.setUser("none");
        ds.setConnectTimeout(2);
        return ds;
    }
}
