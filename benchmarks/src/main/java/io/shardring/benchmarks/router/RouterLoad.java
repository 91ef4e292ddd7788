package io.shardring.benchmarks.router;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shardring.benchmarks.Machine;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.PoolSettings;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * The router-overhead benchmark: one single-row OLTP mix (70% point select by (tenant_id, id), 20% insert,
 * 10% update) for a fixed time with the same client threads and the same total pool size,
 * (a) through {@link ShardedDataSource} over 4 shard databases, and (b) through one plain HikariCP pool
 * per database chosen by the benchmark's own code (a precomputed tenant-to-database array: the cheapest
 * routing a user could write by hand), in one run on one embedded PostgreSQL; then (c) the router again
 * with the ownership guard dropped. Phases alternate in rounds so that drift hits both sides alike.
 *
 * <p>Usage: {@code RouterLoad OUT_DIR [seconds-per-phase] [rounds] [threads]}
 */
public final class RouterLoad {
    private static final int SHARDS = 4;
    private static final int TENANTS = 10_000;
    private static final int ROWS_PER_TENANT = 10;
    private static final String SELECT = "SELECT payload, counter FROM items WHERE tenant_id = ? AND id = ?";
    private static final String INSERT = "INSERT INTO items (tenant_id, id, payload) VALUES (?, ?, ?)";
    private static final String UPDATE = "UPDATE items SET counter = counter + 1 WHERE tenant_id = ? AND id = ?";

    /** How a phase gets a connection for a tenant. */
    private interface Routing {
        DataSource forTenant(long tenant);
    }

    private RouterLoad() {
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        int poolPerShard = threads / SHARDS;
        try (PgCluster pg = PgCluster.builder().shards(1).serverSetting("max_connections", "300").start()) {
            PgShard server = pg.shard(0);
            Topology.Builder tb = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT))
                    .table(ShardedTable.of("items", "tenant_id"));
            List<String> urls = new ArrayList<>();
            try (Connection c = server.connect(); Statement s = c.createStatement()) {
                for (int i = 0; i < SHARDS; i++) {
                    s.execute("CREATE DATABASE bench_shard" + i);
                    String url = "jdbc:postgresql://" + server.host() + ":" + server.port() + "/bench_shard" + i;
                    urls.add(url);
                    NodeConfig.Builder n = NodeConfig.builder("shard" + i).jdbcUrl(url).user(server.user())
                            .pool(PoolSettings.builder().maximumPoolSize(poolPerShard).build());
                    if (server.password() != null && !server.password().isEmpty()) {
                        n.password(server.password());
                    }
                    tb.node(n.build());
                }
            }
            Topology topology = tb.build();
            try (ShardedDataSource router = ShardedDataSource.builder(topology).build()) {
                ShardedFlyway.configure(router).locations("classpath:db/bench").load().migrate().orThrow();
                preload(router);
                List<HikariDataSource> direct = new ArrayList<>();
                for (int i = 0; i < SHARDS; i++) {
                    HikariConfig hc = new HikariConfig();
                    hc.setJdbcUrl(urls.get(i));
                    hc.setUsername(server.user());
                    if (server.password() != null && !server.password().isEmpty()) {
                        hc.setPassword(server.password());
                    }
                    hc.setMaximumPoolSize(poolPerShard);
                    hc.setMinimumIdle(poolPerShard);
                    hc.setPoolName("direct" + i);
                    direct.add(new HikariDataSource(hc));
                }
                // the hand-written routing: tenant -> database index, computed once
                DataSource[] byTenant = new DataSource[TENANTS];
                for (int t = 0; t < TENANTS; t++) {
                    byTenant[t] = direct.get(Integer.parseInt(router.nodeFor((long) t).substring("shard".length())));
                }
                Routing viaRouter = router::forKey;
                Routing viaDirect = t -> byTenant[(int) t];
                AtomicLong nextId = new AtomicLong(ROWS_PER_TENANT);

                run("warmup", viaRouter, threads, 5, nextId);
                run("warmup", viaDirect, threads, 5, nextId);
                List<Double> routerTps = new ArrayList<>();
                List<Double> directTps = new ArrayList<>();
                List<Double> noGuardTps = new ArrayList<>();
                ArrayNode phases = new ObjectMapper().createArrayNode();
                // each round: router and direct (alternating which goes first) with the guard, then the router
                // without it; the guard is put back after each round so that table growth hits all alike
                for (int r = 0; r < rounds; r++) {
                    boolean routerFirst = r % 2 == 0;
                    for (int k = 0; k < 2; k++) {
                        boolean isRouter = routerFirst == (k == 0);
                        double tps = run(isRouter ? "router" : "direct", isRouter ? viaRouter : viaDirect, threads,
                                seconds, nextId);
                        (isRouter ? routerTps : directTps).add(tps);
                        phases.addObject().put("phase", isRouter ? "router" : "direct").put("round", r).put("tps", tps);
                    }
                    setGuard(router, topology, false);
                    double tps = run("router-noguard", viaRouter, threads, seconds, nextId);
                    noGuardTps.add(tps);
                    phases.addObject().put("phase", "router-noguard").put("round", r).put("tps", tps);
                    setGuard(router, topology, true);
                }
                direct.forEach(HikariDataSource::close);

                double a = median(routerTps);
                double b = median(directTps);
                double c = median(noGuardTps);
                double ratio = a / b;
                double guardPct = 100.0 * (c - a) / c;
                ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                ObjectNode out = json.createObjectNode();
                String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
                        .format(Instant.now());
                out.put("suite", "router");
                out.put("timestamp", stamp);
                out.put("workload", "70% select by (tenant_id, id), 20% insert, 10% update; single-row, autocommit");
                out.put("shards", SHARDS);
                out.put("tenants", TENANTS);
                out.put("threads", threads);
                out.put("pool_per_shard", poolPerShard);
                out.put("seconds_per_phase", seconds);
                out.put("rounds", rounds);
                out.put("tps_router", a);
                out.put("tps_direct", b);
                out.put("tps_router_noguard", c);
                out.put("ratio", ratio);
                out.put("guard_overhead_pct", guardPct);
                out.put("postgresql", Machine.serverVersion(server));
                out.put("java", System.getProperty("java.version"));
                out.put("cores", Runtime.getRuntime().availableProcessors());
                out.set("phases", phases);
                Files.createDirectories(outDir);
                json.writeValue(outDir.resolve("router-" + stamp + ".json").toFile(), out);
                json.writeValue(outDir.resolve("router-latest.json").toFile(), out);
                System.out.println("wrote " + outDir.resolve("router-" + stamp + ".json"));
                System.out.println(String.format(Locale.ROOT,
                        "RESULT router tps_router=%.0f tps_direct=%.0f ratio=%.3f guard_overhead_pct=%.1f", a, b, ratio,
                        guardPct));
            }
        }
    }

    private static void setGuard(ShardedDataSource router, Topology topology, boolean on) throws SQLException {
        for (String node : topology.nodes().keySet()) {
            try (Connection c = router.node(node).getConnection()) {
                if (on) {
                    c.setAutoCommit(false);
                    OwnershipGuard.install(c, node, topology.ring().keyType(), topology.tables());
                    c.commit();
                    c.setAutoCommit(true);
                } else {
                    OwnershipGuard.drop(c, topology.tables().get(0));
                }
            }
        }
    }

    private static void preload(ShardedDataSource router) throws SQLException {
        String payload = "x".repeat(100);
        for (String node : router.topology().nodes().keySet()) {
            try (Connection c = router.node(node).getConnection();
                    PreparedStatement ps = c.prepareStatement(INSERT)) {
                c.setAutoCommit(false);
                for (long t = 0; t < TENANTS; t++) {
                    if (!router.nodeFor(t).equals(node)) {
                        continue;
                    }
                    for (long id = 0; id < ROWS_PER_TENANT; id++) {
                        ps.setLong(1, t);
                        ps.setLong(2, id);
                        ps.setString(3, payload);
                        ps.addBatch();
                    }
                }
                ps.executeBatch();
                c.commit();
                c.setAutoCommit(true);
                try (Statement s = c.createStatement()) {
                    s.execute("VACUUM ANALYZE items");
                }
            }
        }
    }

    private static double run(String name, Routing routing, int threads, int seconds, AtomicLong nextId)
            throws InterruptedException {
        LongAdder ops = new LongAdder();
        LongAdder errors = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(threads);
        String payload = "y".repeat(100);
        long start = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            long seed = i * 7919L + name.hashCode();
            Thread t = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                try {
                    while (!stop.get()) {
                        long tenant = rnd.nextInt(TENANTS);
                        int op = rnd.nextInt(100);
                        try (Connection c = routing.forTenant(tenant).getConnection()) {
                            if (op < 70) {
                                try (PreparedStatement ps = c.prepareStatement(SELECT)) {
                                    ps.setLong(1, tenant);
                                    ps.setLong(2, rnd.nextInt(ROWS_PER_TENANT));
                                    try (ResultSet rs = ps.executeQuery()) {
                                        if (!rs.next()) {
                                            errors.increment();
                                        }
                                    }
                                }
                            } else if (op < 90) {
                                try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                                    ps.setLong(1, tenant);
                                    ps.setLong(2, nextId.getAndIncrement());
                                    ps.setString(3, payload);
                                    ps.executeUpdate();
                                }
                            } else {
                                try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
                                    ps.setLong(1, tenant);
                                    ps.setLong(2, rnd.nextInt(ROWS_PER_TENANT));
                                    if (ps.executeUpdate() != 1) {
                                        errors.increment();
                                    }
                                }
                            }
                            ops.increment();
                        } catch (SQLException | RuntimeException e) {
                            errors.increment();
                        }
                    }
                } finally {
                    done.countDown();
                }
            }, "load-" + name + "-" + i);
            t.setDaemon(true);
            t.start();
        }
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        double tps = ops.sum() / elapsed;
        System.out.println(String.format(Locale.ROOT, "%-15s %8.0f tps  (%d ops, %d errors, %.1f s)", name, tps,
                ops.sum(), errors.sum(), elapsed));
        if (errors.sum() > 0) {
            throw new IllegalStateException(name + ": " + errors.sum() + " operations failed; the benchmark is invalid");
        }
        return tps;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

}
