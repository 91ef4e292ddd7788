package io.shardring.examples.tenant;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.examples.ExampleLogs;
import io.shardring.router.jdbc.ShardResult;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.jooq.ShardedDsl;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.PrintStream;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How an application wires the tenant DAO, in the order it must happen: the configuration (which shards, which
 * tables carry which shard key, which node holds the catalog), one router with a pool per shard that follows the
 * catalog (so moves made by the {@code shardring} tool are a short pause here, never an error), the schema
 * migrated on every shard (which also installs the ownership guard), then the DAO. The router owns the pools, so
 * closing this closes them.
 *
 * <p>{@link #main} runs {@link #run} on three embedded PostgreSQL servers: it writes three tenants through the DAO and
 * prints which shard owns each (the ring's answer, {@code nodeFor}) and what the DAO reads back there. From the
 * repository's root:
 *
 * <pre>
 * ./mvnw -q -pl examples -am install -DskipTests &amp;&amp; \
 *   ./mvnw -q -pl examples exec:java -Dexec.mainClass=io.shardring.examples.tenant.TenantApp
 * </pre>
 *
 * (the first command once).
 * {@code TenantDaoTest} runs it on its cluster and checks each tenant's rows on the shard it printed.
 */
public final class TenantApp implements AutoCloseable {
    /** Where the application's Flyway migrations are; applied to every shard. */
    public static final String MIGRATIONS = "classpath:db/tenants";

    private final ShardedDataSource shards;
    private final TenantDao dao;

    private TenantApp(ShardedDataSource shards, TenantDao dao) {
        this.shards = shards;
        this.dao = dao;
    }

    /**
     * Version 1 of a topology over {@code nodes}: bigint tenant ids, and both tables sharded by
     * {@code tenant_id}, which makes ShardedFlyway put the ownership guard on them.
     */
    public static Topology topology(Collection<NodeConfig> nodes) {
        return topology(nodes, 1);
    }

    /**
     * The same with {@code replicationFactor} copies of every tenant: each arc's secondaries keep a copy in their
     * secondary store, which {@code shardring replicas sync} creates and fills, for reports ({@link
     * TenantDao#orderReport}) and for reads while a primary is down.
     */
    public static Topology topology(Collection<NodeConfig> nodes, int replicationFactor) {
        Topology.Builder b = Topology.builder().version(1).ring(new RingSettings(KeyType.BIGINT,
                io.shardring.router.ring.HashRing.DEFAULT_VNODES, io.shardring.router.ring.TokenPlacement.ALLOCATED,
                replicationFactor))
                .table("customers", "tenant_id")
                .table("orders", "tenant_id");
        nodes.forEach(b::node);
        return b.build();
    }

    /**
     * Opens the router from a configuration (it follows the catalog when the configuration names one, as
     * {@code shardring.yaml} with {@code catalog.node} does), migrates every shard (failing if any shard fails) and
     * creates the DAO.
     */
    public static TenantApp start(ShardringConfig config, MeterRegistry registry) {
        return start(ShardedDataSource.builder(config).meterRegistry(registry));
    }

    /** Like {@link #start(ShardringConfig, MeterRegistry)} on a fixed topology that never changes: for tests. */
    public static TenantApp start(Topology topology, MeterRegistry registry) {
        return start(ShardedDataSource.builder(topology).meterRegistry(registry));
    }

    private static TenantApp start(ShardedDataSource.Builder router) {
        ShardedDataSource shards = router.build();
        try {
            ShardedFlyway.configure(shards).locations(MIGRATIONS).load().migrate().orThrow();
            return new TenantApp(shards, new TenantDao(ShardedDsl.of(shards)));
        } catch (RuntimeException e) {
            shards.close();
            throw e;
        }
    }

    public TenantDao dao() {
        return dao;
    }

    /** The router, for routing questions ({@code nodeFor}) and metrics. */
    public ShardedDataSource shards() {
        return shards;
    }

    @Override
    public void close() {
        shards.close();
    }

    /**
     * A node of a test or demo cluster. A real application would read nodes from its configuration and
     * give the password as a reference, {@code ${SHARD0_PASSWORD}} or {@code file:/run/secrets/shard0}.
     */
    public static NodeConfig node(PgShard shard) {
        return NodeConfig.builder(shard.name()).jdbcUrl(shard.jdbcUrl()).user(shard.user())
                .password(shard.password()) // null or empty: none (the embedded servers trust local connections)
                .zone("zone-" + shard.name())
                // a fresh builder, not pool(p -> p.maximumPoolSize(4)): that copies the default pool's resolved
                // minimumIdle of 10 and fails validation (PoolSettings.toBuilder)
                .pool(PoolSettings.builder().maximumPoolSize(4).build())
                .build();
    }

    /**
     * The configuration an operator's {@code shardring init} starts from, as Java: the catalog on the first node.
     * Stores it as the catalog's first version unless the catalog has one already.
     */
    public static ShardringConfig initialized(List<PgShard> shards) {
        return initialized(shards, 1);
    }

    /** The same with {@code replicationFactor} copies of every tenant (then run {@code ReplicaSync}, as init does). */
    public static ShardringConfig initialized(List<PgShard> shards, int replicationFactor) {
        Topology topology = topology(shards.stream().map(TenantApp::node).toList(), replicationFactor)
                .withStoredTokens();
        Catalog.open(shards.get(0).dataSource()).initialize(topology);
        return new ShardringConfig(topology, RouterSettings.DEFAULTS, "shard0", List.of(MIGRATIONS));
    }

    /** The tenants {@link #run} writes. */
    public static final List<Long> EXAMPLE_TENANTS = List.of(7L, 42L, 1001L);

    /** Starts three embedded PostgreSQL servers and {@link #run}s the example on them. */
    public static void main(String[] args) {
        ExampleLogs.quiet();
        try (PgCluster cluster = PgCluster.start(3)) {
            run(cluster, System.out);
        }
    }

    /**
     * The example on {@code cluster}'s shards: the catalog on the first (kept if it exists), the tenant schema migrated
     * on all, then customers and orders of {@link #EXAMPLE_TENANTS} written through the DAO. Prints, per tenant, the
     * shard the ring gives it and what the DAO reads back from there; then the customers per shard, counted on every
     * shard at once ({@code onAllShards}).
     */
    public static void run(PgCluster cluster, PrintStream out) {
        ShardringConfig config = initialized(cluster.shards());
        try (TenantApp app = start(config, new SimpleMeterRegistry())) {
            out.printf("%d shards %s, topology version %d, catalog on %s%n", app.shards().topology().nodes().size(),
                    app.shards().topology().nodes().keySet(), app.shards().topology().version(),
                    config.catalogNode());
            TenantDao dao = app.dao();
            for (long tenant : EXAMPLE_TENANTS) {
                UUID ada = dao.createCustomer(tenant, "Ada", "ada@example.com");
                dao.placeOrder(tenant, ada, 1250);
                dao.placeOrder(tenant, ada, 399);
                out.printf("tenant %d on %s: customers %d, orders %d, total %d cents%n", tenant,
                        app.shards().nodeFor(tenant), dao.customers(tenant).size(), dao.ordersOf(tenant, ada).size(),
                        dao.totalCents(tenant));
            }
            Map<String, ShardResult<Long>> perShard = app.shards().onAllShards(c -> {
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT count(*) FROM customers")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            perShard.forEach((node, count) -> out.printf("customers on %s: %d%n", node, count.get()));
            out.println("customers on all shards: " + dao.countAllCustomers());
        }
    }
}
