package io.shardring.examples.jpa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.ring.TokenPlacement;
import io.shardring.migration.adopt.KeyAllocatorSetup;
import io.shardring.router.schema.Membership;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import io.shardring.spring.ShardedJpaTransactionManager;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.orm.jpa.support.OpenEntityManagerInViewInterceptor;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The advertising app on four embedded PostgreSQL servers: three in the ring (the catalog on the first, as
 * {@code shardring init} leaves it), the fourth added by a rebalance while requests run. The application is plain
 * Spring Data JPA: the starter does the routing, Hibernate's start-up without a tenant and the cutover waits.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// the routers close with the context after the class; the servers after that, with the testkit's shutdown hook
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class JpaAppTest {
    private static final int COMPANIES = 60;
    /** Company ids are the caller's; these are spread over the ring like any others. */
    private static final long FIRST_COMPANY = 1_000;
    private static final String MIGRATIONS = "classpath:db/migration";
    private static final List<String> TABLES = List.of("companies", "campaigns", "ads");

    private static PgCluster cluster;
    private static ShardringConfig initial;
    /** Each company's first campaign, created by the first test. */
    private static final Map<Long, Long> firstCampaign = new ConcurrentHashMap<>();
    /** Ads the tests before the rebalance wrote besides each first campaign's. */
    private static final AtomicInteger moreAds = new AtomicInteger();

    @Autowired
    private TestRestTemplate rest;
    @Autowired
    private ShardedDataSource router;
    @Autowired
    private PlatformTransactionManager transactions;
    @Autowired
    private MeterRegistry meters;
    @Autowired
    private ApplicationContext context;

    /** The router's meters, read by the rebalance test to say how many requests met a cutover. */
    @TestConfiguration
    static class Meters {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    /** What `shardring init` does for this app, then the app's configuration: the file init wrote. */
    @DynamicPropertySource
    static void shards(DynamicPropertyRegistry registry) throws Exception {
        cluster = PgCluster.start(4);
        List<NodeConfig> ring = cluster.shards().subList(0, 3).stream().map(JpaAppTest::node).toList();
        Topology.Builder b = Topology.builder().version(1)
                .ring(new RingSettings(KeyType.BIGINT, HashRing.DEFAULT_VNODES, TokenPlacement.ALLOCATED, 1))
                .table("companies", "id").table("campaigns", "company_id").table("ads", "company_id");
        ring.forEach(b::node);
        Topology topology = b.build().withStoredTokens();
        Catalog catalog = Catalog.open(cluster.shard(0).dataSource());
        catalog.initialize(topology);
        // as `shardring init` does: each node's ordinal, the range its sequences draw ids from, and the key sequence
        NodeOrdinals ordinals = new NodeOrdinals(catalog.dataSource());
        for (int i = 0; i < 3; i++) {
            DataSource ds = cluster.shard(i).dataSource();
            ShardedFlyway.shardringFlyway(ds).migrate();
            try (Connection c = ds.getConnection()) {
                new Membership(ordinals.catalogId(), "shard" + i, ordinals.assign("shard" + i)).write(c);
            }
        }
        KeyAllocatorSetup.ensure(catalog.dataSource(), topology, 1_000_000);
        initial = new ShardringConfig(topology, RouterSettings.DEFAULTS, "shard0", List.of(MIGRATIONS));
        Path file = Files.createTempFile("shardring-jpa-", ".yaml");
        file.toFile().deleteOnExit();
        Files.writeString(file, ShardringYaml.write(initial));
        registry.add("shardring.config", file::toString);
    }

    static NodeConfig node(PgShard shard) {
        return NodeConfig.builder(shard.name()).jdbcUrl(shard.jdbcUrl()).user(shard.user()).password(shard.password())
                .pool(PoolSettings.builder().maximumPoolSize(6).build()).build();
    }

    @Test
    @Order(1)
    void eachCompanysRowsLandOnTheShardTheRingNames() throws SQLException {
        assertThat(transactions).isInstanceOf(ShardedJpaTransactionManager.class);
        assertThat(context.getBeansOfType(OpenEntityManagerInViewInterceptor.class))
                .as("open-in-view, off by the starter's default").isEmpty();
        for (long c = FIRST_COMPANY; c < FIRST_COMPANY + COMPANIES; c++) {
            ResponseEntity<JsonNode> company = rest.postForEntity("/companies", Map.of("id", c, "name", "company " + c),
                    JsonNode.class);
            assertThat(company.getStatusCode()).as("company %d: %s", c, company.getBody())
                    .isEqualTo(HttpStatus.CREATED);
            ResponseEntity<JsonNode> campaign = rest.postForEntity("/companies/{c}/campaigns",
                    Map.of("name", "launch", "firstAd", "Ads by company " + c), JsonNode.class, c);
            assertThat(campaign.getStatusCode()).as("company %d: %s", c, campaign.getBody())
                    .isEqualTo(HttpStatus.CREATED);
            firstCampaign.put(c, campaign.getBody().get("campaignId").asLong());
        }

        // by SQL on every server: each company's rows of all three tables on one shard, the one the ring names
        Map<String, Integer> perShard = new HashMap<>();
        for (String table : TABLES) {
            Map<Long, List<String>> where = companiesByShard(table);
            for (long c = FIRST_COMPANY; c < FIRST_COMPANY + COMPANIES; c++) {
                String owner = initial.topology().ring().route(c).id();
                assertThat(where.get(c)).as("shards with %s of company %d", table, c).containsExactly(owner);
                if (table.equals("companies")) {
                    perShard.merge(owner, 1, Integer::sum);
                }
            }
        }
        assertThat(perShard).containsOnlyKeys("shard0", "shard1", "shard2");
        assertThat(perShard.values()).allSatisfy(n -> assertThat(n).isGreaterThan(5));

        long c = FIRST_COMPANY + 7;
        JsonNode campaigns = rest.getForObject("/companies/{c}/campaigns", JsonNode.class, c);
        assertThat(campaigns).hasSize(1);
        assertThat(campaigns.get(0).at("/ads/0/text").asText()).isEqualTo("Ads by company " + c);

        // a company without an id gets one from the router (the catalog's key sequence), and lands on its owner
        ResponseEntity<JsonNode> keyed = rest.postForEntity("/companies", Map.of("name", "no id given"),
                JsonNode.class);
        assertThat(keyed.getStatusCode()).as("%s", keyed.getBody()).isEqualTo(HttpStatus.CREATED);
        long drawn = keyed.getBody().get("id").asLong();
        assertThat(drawn).as("above every key in use when the sequence was made").isGreaterThan(1_000_000);
        assertThat(companiesByShard("companies").get(drawn))
                .containsExactly(initial.topology().ring().route(drawn).id());

        ResponseEntity<JsonNode> again = rest.postForEntity("/companies", Map.of("id", c, "name", "again"),
                JsonNode.class);
        assertThat(again.getStatusCode()).isEqualTo(HttpStatus.CONFLICT);
        ResponseEntity<JsonNode> none = rest.postForEntity("/companies/{c}/campaigns",
                Map.of("name", "x", "firstAd", "y"), JsonNode.class, 999_999_999L);
        assertThat(none.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(none.getBody().get("message").asText()).contains("company 999999999 does not exist");
    }

    @Test
    @Order(2)
    void aCampaignAndItsFirstAdAreWrittenTogetherOrNotAtAll() throws SQLException {
        long c = FIRST_COMPANY + 11;
        String tooLong = "x".repeat(91);
        ResponseEntity<JsonNode> refused = rest.postForEntity("/companies/{c}/campaigns",
                Map.of("name", "refused campaign", "firstAd", tooLong), JsonNode.class, c);
        assertThat(refused.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(refused.getBody().get("message").asText()).contains("1 to 90 characters", "has 91");
        // the campaign's insert ran (flushed before the ad's): the transaction rolled it back with the ad
        assertThat(count("SELECT count(*) FROM campaigns WHERE name = 'refused campaign'")).isZero();
        assertThat(count("SELECT count(*) FROM ads WHERE char_length(text) > 90")).isZero();
        assertThat(count("SELECT count(*) FROM campaigns WHERE company_id = " + c)).isEqualTo(1);
    }

    /**
     * A move's cutover as a request meets it, on one company: its shard refuses the company's writes (the real
     * guard, SQLSTATE SR001) until the new owner takes it. Here the shard stops owning anything for a moment and
     * owns its ranges again, as a cutover that gives the ranges back does. The ad is inserted at commit (Hibernate's
     * flush), so this is the refusal at commit, which the request waits out and runs again.
     */
    @Test
    @Order(3)
    void aRequestDuringACutoverWaitsItOutAndIsWrittenOnce() throws Exception {
        assumeTrue(firstCampaign.size() == COMPANIES, "needs the companies of the first test");
        long c = FIRST_COMPANY + 13;
        String node = router.nodeFor(c);
        List<TokenRange> owned = router.topology().ownedRanges(node);
        own(node, List.of());
        CompletableFuture<ResponseEntity<JsonNode>> call;
        try {
            call = CompletableFuture.supplyAsync(() -> rest.postForEntity("/companies/{c}/campaigns/{k}/ads",
                    Map.of("text", "Written during a cutover"), JsonNode.class, c, firstCampaign.get(c)));
            Thread.sleep(400);
            assertThat(call).as("waits while the company's shard refuses it").isNotDone();
        } finally {
            own(node, owned);
        }
        ResponseEntity<JsonNode> r = call.get(10, TimeUnit.SECONDS);
        assertThat(r.getStatusCode()).as("%s", r.getBody()).isEqualTo(HttpStatus.CREATED);
        moreAds.incrementAndGet();
        assertThat(count("SELECT count(*) FROM ads WHERE text = 'Written during a cutover'")).isEqualTo(1);
    }

    @Test
    @Order(4)
    void aRebalanceDuringRequestsLosesNothingAndAnswersNoErrors() throws Exception {
        assumeTrue(firstCampaign.size() == COMPANIES, "needs the companies of the first test");
        Map<String, Long> campaigns = new ConcurrentHashMap<>(); // "company/campaign" acknowledged -> company
        Map<String, Long> ads = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                while (running.get()) {
                    long c = FIRST_COMPANY + ThreadLocalRandom.current().nextLong(COMPANIES);
                    try {
                        if (ThreadLocalRandom.current().nextBoolean()) {
                            ResponseEntity<JsonNode> r = rest.postForEntity("/companies/{c}/campaigns",
                                    Map.of("name", "spring sale", "firstAd", "Up to 30% off"), JsonNode.class, c);
                            if (r.getStatusCode() == HttpStatus.CREATED) {
                                campaigns.put(c + "/" + r.getBody().get("campaignId").asLong(), c);
                                ads.put(c + "/" + r.getBody().get("adId").asLong(), c);
                            } else {
                                failures.add("campaign of company " + c + ": " + r.getStatusCode() + " " + r.getBody());
                            }
                        } else {
                            ResponseEntity<JsonNode> r = rest.postForEntity("/companies/{c}/campaigns/{k}/ads",
                                    Map.of("text", "Free shipping"), JsonNode.class, c, firstCampaign.get(c));
                            if (r.getStatusCode() == HttpStatus.CREATED) {
                                ads.put(c + "/" + r.getBody().get("id").asLong(), c);
                            } else {
                                failures.add("ad of company " + c + ": " + r.getStatusCode() + " " + r.getBody());
                            }
                        }
                    } catch (RuntimeException e) {
                        failures.add("company " + c + ": " + e);
                    }
                }
            }, "client-" + i);
            t.start();
            clients.add(t);
        }
        Timer waits = meters.find("shardring.cutover.wait").timer();
        long waitedBefore = waits == null ? 0 : waits.count();
        long versionBefore = router.topology().version();
        Topology after;
        try (NodePools pools = new NodePools(System::getenv)) {
            initial.topology().nodes().values().forEach(pools::add);
            NodeConfig added = node(cluster.shard(3));
            pools.add(added);
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            Thread.sleep(300);
            Plan plan = Planner.plan(catalog.load(), TopologyChange.addNode(added), pools);
            assertThat(plan.isExecutable()).as("plan errors %s", plan.errors()).isTrue();
            new Mover(catalog, pools, new Mover.Options().appLocations(MIGRATIONS), MoveListener.NONE).execute(plan);
            after = catalog.load();
            Thread.sleep(500); // requests go on a moment on the new topology, new ids from the added shard's sequences
        } finally {
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
        }

        waits = meters.find("shardring.cutover.wait").timer();
        System.out.printf("JpaAppTest rebalance: %d campaigns and %d ads acknowledged, %d requests waited out a"
                + " cutover%n", campaigns.size(), ads.size(), (waits == null ? 0 : waits.count()) - waitedBefore);
        assertThat(failures).as("requests that were not 201").isEmpty();
        assertThat(campaigns).hasSizeGreaterThan(25);
        assertThat(ads).hasSizeGreaterThan(50);
        assertThat(after.version()).isGreaterThan(versionBefore);
        assertThat(router.topology().version()).as("the app's router follows the catalog").isEqualTo(after.version());

        // every acknowledged row exactly once, on its company's owner in the new ring
        for (Map.Entry<String, Map<String, Long>> t : Map.of("campaigns", campaigns, "ads", ads).entrySet()) {
            Map<String, List<String>> rows = rowsByShard(t.getKey());
            int onAdded = 0;
            for (Map.Entry<String, Long> e : t.getValue().entrySet()) {
                String owner = after.ring().route(e.getValue()).id();
                assertThat(rows.get(e.getKey())).as("%s %s", t.getKey(), e.getKey()).containsExactly(owner);
                onAdded += owner.equals("shard3") ? 1 : 0;
            }
            assertThat(onAdded).as("%s of companies that moved to shard3", t.getKey()).isPositive();
        }
        // and nothing else: no run of a request left a row of its own besides the acknowledged one
        assertThat(rowsByShard("campaigns").size()).as("campaigns").isEqualTo(COMPANIES + campaigns.size());
        assertThat(rowsByShard("ads").size()).as("ads").isEqualTo(COMPANIES + moreAds.get() + ads.size());
    }

    private void own(String node, List<TokenRange> ranges) throws SQLException {
        try (Connection c = cluster.shards().stream().filter(s -> s.name().equals(node)).findFirst().orElseThrow()
                .connect()) {
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, node, router.topology().version(), KeyType.BIGINT, ranges);
            c.commit();
        }
    }

    /** Company to the shards whose table holds it. */
    private static Map<Long, List<String>> companiesByShard(String table) throws SQLException {
        String key = table.equals("companies") ? "id" : "company_id";
        Map<Long, List<String>> where = new HashMap<>();
        for (PgShard s : migratedShards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT DISTINCT " + key + " FROM " + table)) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }

    /** "company/id" of every row of the table, to the shards holding it. */
    private static Map<String, List<String>> rowsByShard(String table) throws SQLException {
        Map<String, List<String>> where = new HashMap<>();
        for (PgShard s : migratedShards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT company_id, id FROM " + table)) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getLong(1) + "/" + rs.getLong(2), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }

    private static long count(String sql) throws SQLException {
        long n = 0;
        for (PgShard s : migratedShards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }

    /** The servers with the app's schema: the fourth has it once a rebalance added it. */
    private static List<PgShard> migratedShards() throws SQLException {
        List<PgShard> migrated = new ArrayList<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT to_regclass('public.ads') IS NOT NULL")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    migrated.add(s);
                }
            }
        }
        return migrated;
    }
}
