package io.shardring.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
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
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The Spring tenant app on four embedded PostgreSQL servers: three in the ring (the catalog on the first, as
 * {@code shardring init} leaves it), the fourth added by a rebalance while requests run. The application knows nothing
 * of shards: the starter does the routing, the cutover waits and the health.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// the routers close with the context after the class; the servers after that, with the testkit's shutdown hook
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class TenantAppTest {
    private static final int TENANTS = 200;
    private static final String MIGRATIONS = "classpath:db/migration";

    private static PgCluster cluster;
    private static ShardringConfig initial;
    /** Each tenant's customer, created by the first test. */
    private static final Map<Long, UUID> customers = new ConcurrentHashMap<>();

    @Autowired
    private TestRestTemplate rest;
    @Autowired
    private ShardedDataSource router;

    /** What `shardring init` does for this app, then the app's configuration: the file init wrote. */
    @DynamicPropertySource
    static void shards(DynamicPropertyRegistry registry) throws Exception {
        cluster = PgCluster.start(4);
        List<NodeConfig> ring = cluster.shards().subList(0, 3).stream().map(TenantAppTest::node).toList();
        Topology.Builder b = Topology.builder().version(1)
                .ring(new RingSettings(KeyType.BIGINT, HashRing.DEFAULT_VNODES, TokenPlacement.ALLOCATED, 1))
                .table("customers", "tenant_id").table("orders", "tenant_id");
        ring.forEach(b::node);
        Topology topology = b.build().withStoredTokens();
        Catalog.open(cluster.shard(0).dataSource()).initialize(topology);
        initial = new ShardringConfig(topology, RouterSettings.DEFAULTS, "shard0", List.of(MIGRATIONS));
        Path file = Files.createTempFile("shardring-spring-", ".yaml");
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
    void requestsForTwoHundredTenantsLandOnTheirOwners() throws SQLException {
        for (long t = 0; t < TENANTS; t++) {
            ResponseEntity<JsonNode> c = rest.postForEntity("/tenants/{t}/customers", Map.of("name", "customer " + t),
                    JsonNode.class, t);
            assertThat(c.getStatusCode()).as("tenant %d: %s", t, c.getBody()).isEqualTo(HttpStatus.CREATED);
            UUID customer = UUID.fromString(c.getBody().get("id").asText());
            customers.put(t, customer);
            ResponseEntity<JsonNode> o = rest.postForEntity("/tenants/{t}/orders",
                    Map.of("customerId", customer, "amountCents", 100 + t), JsonNode.class, t);
            assertThat(o.getStatusCode()).as("tenant %d: %s", t, o.getBody()).isEqualTo(HttpStatus.CREATED);
        }

        // by SQL on every server: each tenant's rows on one shard, the one the ring names
        Map<Long, List<String>> where = tenantsByShard(4);
        Map<String, Integer> perShard = new HashMap<>();
        for (long t = 0; t < TENANTS; t++) {
            assertThat(where.get(t)).as("shards holding tenant %d", t).containsExactly(initial.topology().ring()
                    .route(t).id());
            perShard.merge(where.get(t).get(0), 1, Integer::sum);
        }
        assertThat(perShard).containsOnlyKeys("shard0", "shard1", "shard2");
        assertThat(perShard.values()).allSatisfy(n -> assertThat(n).isGreaterThan(20));

        JsonNode orders = rest.getForObject("/tenants/{t}/orders", JsonNode.class, 42);
        assertThat(orders).hasSize(1);
        assertThat(orders.get(0).get("amountCents").asLong()).isEqualTo(142);

        // the tenant from the X-Tenant-Id header (shardring.web.header), for a method without @ShardKey
        HttpHeaders h = new HttpHeaders();
        h.set("X-Tenant-Id", "42");
        ResponseEntity<JsonNode> summary = rest.exchange("/orders/summary", HttpMethod.GET, new HttpEntity<>(h),
                JsonNode.class);
        assertThat(summary.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(summary.getBody().get("totalCents").asLong()).isEqualTo(142);

        // no tenant: the starter's error names the method and how to bind; the app answers 400 with it
        ResponseEntity<JsonNode> none = rest.getForEntity("/orders/summary", JsonNode.class);
        assertThat(none.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(none.getBody().get("code").asText()).isEqualTo("NO_KEY_BOUND");
        assertThat(none.getBody().get("message").asText()).contains("OrderService.summary", "@ShardKey",
                "shardring.web.header");
        h.set("X-Tenant-Id", "forty-two");
        ResponseEntity<String> bad = rest.exchange("/orders/summary", HttpMethod.GET, new HttpEntity<>(h),
                String.class);
        assertThat(bad.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
    }

    @Test
    @Order(2)
    void aRebalanceDuringRequestsLosesNothingAndAnswersNo5xx() throws Exception {
        assumeTrue(customers.size() == TENANTS, "needs the tenants of the first test");
        Map<UUID, Long> acknowledged = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread c = new Thread(() -> {
                while (running.get()) {
                    long t = ThreadLocalRandom.current().nextLong(TENANTS);
                    try {
                        ResponseEntity<JsonNode> r = rest.postForEntity("/tenants/{t}/orders",
                                Map.of("customerId", customers.get(t), "amountCents", 7), JsonNode.class, t);
                        if (r.getStatusCode() == HttpStatus.CREATED) {
                            acknowledged.put(UUID.fromString(r.getBody().get("id").asText()), t);
                        } else {
                            failures.add("tenant " + t + ": " + r.getStatusCode() + " " + r.getBody());
                        }
                    } catch (RuntimeException e) {
                        failures.add("tenant " + t + ": " + e);
                    }
                }
            }, "client-" + i);
            c.start();
            clients.add(c);
        }
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
            Thread.sleep(300); // requests go on a moment on the new topology
        } finally {
            running.set(false);
            for (Thread c : clients) {
                c.join(30_000);
            }
        }

        assertThat(failures).as("requests that were not 201").isEmpty();
        assertThat(acknowledged).hasSizeGreaterThan(50);
        assertThat(after.version()).isGreaterThan(versionBefore);
        assertThat(router.topology().version()).as("the app's router follows the catalog").isEqualTo(after.version());

        // every acknowledged order exactly once, on its tenant's owner in the new ring
        Map<UUID, List<String>> orders = ordersByShard();
        int onAdded = 0;
        for (Map.Entry<UUID, Long> e : acknowledged.entrySet()) {
            String owner = after.ring().route(e.getValue()).id();
            assertThat(orders.get(e.getKey())).as("order %s of tenant %d", e.getKey(), e.getValue())
                    .containsExactly(owner);
            onAdded += owner.equals("shard3") ? 1 : 0;
        }
        assertThat(onAdded).as("orders of tenants that moved to shard3").isPositive();
        assertThat(orders).hasSize(TENANTS + acknowledged.size());
    }

    @Test
    @Order(3)
    void healthReportsAStoppedShard() {
        assumeTrue(cluster.canCrashShards(), "needs embedded servers to stop one");
        JsonNode up = rest.getForObject("/actuator/health", JsonNode.class);
        JsonNode shardring = up.at("/components/shardring");
        assertThat(shardring.get("status").asText()).as("%s", up).isEqualTo("UP");
        assertThat(shardring.at("/details/nodes").size()).isEqualTo(4);
        assertThat(shardring.at("/details/topologyVersion").asLong()).isEqualTo(router.topology().version());

        cluster.kill(1);
        ResponseEntity<JsonNode> down = rest.getForEntity("/actuator/health", JsonNode.class);
        assertThat(down.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        JsonNode nodes = down.getBody().at("/components/shardring/details/nodes");
        assertThat(nodes.at("/shard1/status").asText()).as("%s", down.getBody()).isEqualTo("DOWN");
        assertThat(nodes.at("/shard1/problem").asText()).isNotBlank();
        for (String other : List.of("shard0", "shard2", "shard3")) {
            assertThat(nodes.at("/" + other + "/status").asText()).as(other).isEqualTo("UP");
        }

        JsonNode endpoint = rest.getForObject("/actuator/shardring", JsonNode.class);
        assertThat(endpoint.get("topologyVersion").asLong()).isEqualTo(router.topology().version());
        assertThat(endpoint.get("nodes")).hasSize(4);
        assertThat(endpoint.get("routers")).isNotEmpty();
        assertThat(endpoint.get("routersBehind")).isEmpty();
        assertThat(endpoint.toString()).doesNotContain("password");

        JsonNode meter = rest.getForObject("/actuator/metrics/shardring.topology.version", JsonNode.class);
        assertThat(meter.at("/measurements/0/value").asDouble()).isEqualTo(router.topology().version());

        cluster.restart(1);
        JsonNode again = rest.getForObject("/actuator/health", JsonNode.class);
        assertThat(again.at("/components/shardring/status").asText()).isEqualTo("UP");
    }

    /** Tenant to the shards whose orders table holds it. */
    private static Map<Long, List<String>> tenantsByShard(int shards) throws SQLException {
        Map<Long, List<String>> where = new HashMap<>();
        for (int i = 0; i < shards; i++) {
            PgShard s = cluster.shard(i);
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT to_regclass('public.orders') IS NOT NULL")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    continue; // not migrated: not in the ring yet
                }
            }
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT DISTINCT tenant_id FROM orders")) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }

    private static Map<UUID, List<String>> ordersByShard() throws SQLException {
        Map<UUID, List<String>> where = new HashMap<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id FROM orders")) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }
}
