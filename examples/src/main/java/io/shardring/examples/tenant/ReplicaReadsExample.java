package io.shardring.examples.tenant;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.examples.ExampleLogs;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Replica reads within a staleness bound: with {@code ring.replicationFactor 2} every tenant has its primary and a copy
 * in another node's secondary store ({@code <database>_secondary}), kept by logical replication. The tenant's own
 * writes are read back from the primary at once; its report ({@link TenantDao#orderReport}) reads the copy as long as
 * the router sampled it at most {@link TenantDao#REPORTING}'s bound behind, and the primary otherwise.
 *
 * <p>{@link #run} does what an operator's {@code shardring init} does for such a ring (store the catalog, migrate every
 * shard, then {@code replicas sync}: create, migrate and seed the secondary stores) with {@link ReplicaSync}, writes a
 * tenant through the DAO, then reads its report and prints where each read was served (the router's
 * {@code shardring.routes} counter of the pool that gave the connection) and how far the copy was behind (the router's
 * {@code shardring.replica.staleness} gauge). A bound tighter than any copy can be ({@link #TOO_TIGHT}) shows the
 * fallback: {@code secondaryPreferred} reads the primary, {@code secondary} refuses and names the copy's lag.
 *
 * <p>{@link #main} runs it on three embedded PostgreSQL servers. From the repository's root:
 *
 * <pre>
 * ./mvnw -q -pl examples -am install -DskipTests &amp;&amp; \
 *   ./mvnw -q -pl examples exec:java -Dexec.mainClass=io.shardring.examples.tenant.ReplicaReadsExample
 * </pre>
 *
 * (the first command once). {@code TenantDaoReplicaTest} runs it on its cluster and checks what it printed and the
 * tenant's rows in the copy.
 */
public final class ReplicaReadsExample {
    /** The tenant the example writes. */
    public static final long TENANT = 2024;

    /**
     * A bound no copy meets: a copy's staleness is the lag at the router's last sample (replication's delay at least)
     * plus the time since that sample (a round trip at least), so reads with it never use a copy.
     */
    public static final Duration TOO_TIGHT = Duration.ofNanos(1_000);

    /** How long the example waits for the copy to hold the tenant's writes before it gives up. */
    private static final Duration CATCH_UP = Duration.ofSeconds(15);

    private ReplicaReadsExample() {
    }

    /**
     * What {@link #run} saw.
     *
     * @param primary the tenant's primary node
     * @param copy the node whose secondary store holds the tenant's copy
     * @param fromPrimary the report read from the primary right after the writes
     * @param fromCopy the first report within {@link TenantDao#REPORTING}'s bound that a copy served complete
     * @param copyServedBy where that report was served: "primary shardN" or "secondary store on shardN"
     * @param stalenessMs how far behind the router had the copy right after that read, in milliseconds
     * @param tooTightServedBy where the {@code secondaryPreferred} report with {@link #TOO_TIGHT} was served
     * @param refusal the message of the {@code secondary} read with {@link #TOO_TIGHT}, or null if it was not refused
     */
    public record Result(String primary, String copy, List<TenantDao.StatusTotal> fromPrimary,
            List<TenantDao.StatusTotal> fromCopy, String copyServedBy, double stalenessMs, String tooTightServedBy,
            String refusal) {
    }

    public static void main(String[] args) throws InterruptedException {
        ExampleLogs.quiet();
        try (PgCluster cluster = PgCluster.start(3)) {
            run(cluster, System.out);
        }
    }

    /**
     * The example on {@code cluster}'s shards (at least two): the catalog on the first, kept if it exists. Writes
     * {@link #TENANT}'s rows; run it once per cluster.
     */
    public static Result run(PgCluster cluster, PrintStream out) throws InterruptedException {
        ShardringConfig config = TenantApp.initialized(cluster.shards(), 2);
        MeterRegistry registry = new SimpleMeterRegistry();
        try (TenantApp app = TenantApp.start(config, registry);
                NodePools pools = new NodePools(System::getenv)) {
            Topology topology = app.shards().topology();
            out.printf("%d shards %s, ring.replicationFactor %d, topology version %d, catalog on %s%n",
                    topology.nodes().size(), topology.nodes().keySet(), topology.ringSettings().replicationFactor(),
                    topology.version(), config.catalogNode());

            // what `shardring init` runs next with replicationFactor >= 2: `shardring replicas sync`
            pools.add(config.topology().node(config.catalogNode()));
            // its progress lines end with the report: pieces (publication and subscription per link) created, seeded
            new ReplicaSync(Catalog.open(pools.apply(config.catalogNode())), pools,
                    new ReplicaSync.Options().appLocations(TenantApp.MIGRATIONS),
                    line -> out.println("replicas sync: " + line)).sync();

            List<String> nodes = ReplicaLayout.of(topology.ring(), topology.ringSettings().replicationFactor())
                    .nodesFor(TENANT).stream().map(n -> n.id()).toList();
            String primary = nodes.get(0);
            String copy = nodes.get(1);
            out.printf("tenant %d: primary %s, copy in the secondary store on %s (database %s)%n", TENANT, primary,
                    copy, topology.node(copy).secondaryStoreDatabase());

            TenantDao dao = app.dao();
            UUID ada = dao.createCustomer(TENANT, "Ada", "ada@example.com");
            UUID paid = dao.placeOrder(TENANT, ada, 1250);
            dao.placeOrder(TENANT, ada, 399);
            dao.placeOrder(TENANT, ada, 2500);
            dao.updateOrderStatus(TENANT, paid, "paid");
            List<TenantDao.StatusTotal> fromPrimary = dao.orderReport(TENANT, ReadPreference.primary());
            out.printf("wrote 1 customer and 3 orders through the DAO; read back at once (primary): total %d cents,"
                    + " report %s%n", dao.totalCents(TENANT), format(fromPrimary));

            // the report as TenantDao reads it: a copy within a second, else the primary. The copy may lag a little
            // behind the writes above; the reads show it catching up
            out.printf("report with %s (TenantDao.REPORTING):%n", TenantDao.REPORTING);
            long start = System.nanoTime();
            String last = null;
            String servedBy;
            List<TenantDao.StatusTotal> report;
            int reads = 0;
            while (true) {
                Served<List<TenantDao.StatusTotal>> read = served(registry, () -> dao.orderReport(TENANT));
                servedBy = read.where();
                report = read.value();
                reads++;
                long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
                String line = servedBy + (servedBy.startsWith("primary") ? "" : String.format(Locale.ROOT,
                        ", %.1f ms behind", staleness(registry, primary, copy))) + ": " + format(report);
                String what = servedBy + format(report);
                if (!what.equals(last)) {
                    out.printf("  read %d after %d ms: %s%n", reads, ms, line);
                    last = what;
                }
                if (!servedBy.startsWith("primary") && report.equals(fromPrimary)) {
                    break;
                }
                if (ms > CATCH_UP.toMillis()) {
                    throw new IllegalStateException("no copy of tenant " + TENANT + " served its complete report"
                            + " within " + CATCH_UP.toSeconds() + " s; the last read: " + line);
                }
                Thread.sleep(20);
            }
            double stalenessMs = staleness(registry, primary, copy);
            out.printf(Locale.ROOT, "the copy holds all the writes: read %d, from the %s, %.1f ms behind"
                    + " (bound %d ms)%n", reads, servedBy, stalenessMs, TenantDao.REPORTING.maxStaleness().toMillis());

            // a bound no copy meets: secondaryPreferred falls back to the primary, secondary refuses
            ReadPreference tooTight = ReadPreference.secondaryPreferred().maxStaleness(TOO_TIGHT);
            Served<List<TenantDao.StatusTotal>> tight = served(registry, () -> dao.orderReport(TENANT, tooTight));
            out.printf(Locale.ROOT, "report with secondary_preferred(maxStaleness=%s): the copy is %.1f ms behind,"
                    + " over the bound: read from %s: %s%n", millis(TOO_TIGHT), staleness(registry, primary, copy),
                    tight.where(), format(tight.value()));
            String refusal = null;
            try {
                dao.orderReport(TENANT, ReadPreference.secondary().maxStaleness(TOO_TIGHT));
                out.printf("report with secondary(maxStaleness=%s): read from a copy%n", millis(TOO_TIGHT));
            } catch (ShardUnavailableException e) {
                refusal = e.getMessage();
                out.printf("report with secondary(maxStaleness=%s): refused: %s%n", millis(TOO_TIGHT), refusal);
            }
            return new Result(primary, copy, fromPrimary, report, servedBy, stalenessMs, tight.where(), refusal);
        }
    }

    /** What a read returned and where it was served. */
    private record Served<T>(String where, T value) {
    }

    /**
     * Runs {@code read} and tells where it got its connection: the pool whose {@code shardring.routes} counter it
     * moved, as "primary shardN" or "secondary store on shardN". Exact while nothing else uses the router meanwhile.
     */
    private static <T> Served<T> served(MeterRegistry registry, Supplier<T> read) {
        Map<String, Double> before = routes(registry);
        T value = read.get();
        Map<String, Double> after = routes(registry);
        List<String> moved = after.entrySet().stream()
                .filter(e -> e.getValue() > before.getOrDefault(e.getKey(), 0.0)).map(Map.Entry::getKey).toList();
        if (moved.size() != 1) {
            return new Served<>("one of " + moved, value);
        }
        String pool = moved.get(0);
        String suffix = "-secondary";
        return new Served<>(pool.endsWith(suffix) ? "secondary store on " + pool.substring(0, pool.length()
                - suffix.length()) : "primary " + pool, value);
    }

    private static Map<String, Double> routes(MeterRegistry registry) {
        Map<String, Double> out = new HashMap<>();
        for (Counter c : registry.find("shardring.routes").counters()) {
            out.put(c.getId().getTag("node"), c.count());
        }
        return out;
    }

    /** The router's estimate of how far the copy of {@code primary}'s rows on {@code copy} is behind, in ms. */
    private static double staleness(MeterRegistry registry, String primary, String copy) {
        Gauge g = registry.find("shardring.replica.staleness").tag("kind", "store").tag("copy", primary + ">" + copy)
                .gauge();
        return g == null ? Double.NaN : g.value();
    }

    private static String format(List<TenantDao.StatusTotal> report) {
        return report.isEmpty() ? "no orders" : report.stream().map(s -> String.format(Locale.ROOT,
                "%s: orders %d, %d cents", s.status(), s.orders(), s.cents())).collect(Collectors.joining("; "));
    }

    private static String millis(Duration d) {
        return String.format(Locale.ROOT, "%.3fms", d.toNanos() / 1e6);
    }

}
