package io.shardring.benchmarks.replicas;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.benchmarks.Machine;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.ring.TokenPlacement;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.sql.DataSource;

/**
 * The replicas benchmark: 4 embedded PostgreSQL nodes in 3 zones, ring.replicationFactor 2, secondary stores kept by
 * {@link ReplicaSync}. Writers increment counters at a fixed rate through the router; readers read them at SECONDARY
 * with a staleness bound, then (same threads, same time) at PRIMARY; a prober measures how long a write takes to
 * become visible on its key's secondary; then one primary (not the catalog's) is SIGKILLed while everything runs.
 *
 * <p>Figures: lag_p99_ms (write acknowledged to visible on the secondary, sampled continuously), read_tps_secondary
 * and read_tps_primary, failover_ms (from the SIGKILL, before the testkit's wait for the processes to be gone, to the
 * first successful read of an affected key served by a copy, with PRIMARY_PREFERRED and the bound), stale_reads (reads whose value is older than a write acknowledged more than the
 * bound before the read began, checked against each key's acknowledgement times), spread (ReplicaLayout.spread()).
 *
 * <p>Usage: {@code ReplicaBench OUT_DIR [seconds_per_phase=15] [writes_per_s=400] [bound_ms=500]}
 */
public final class ReplicaBench {
    static final String LOCATION = "classpath:db/replicabench";
    static final int KEYS = 4000;
    static final int WRITERS = 2;
    static final int READERS = 4;
    /** Acknowledgement times per key, indexed by the value the write set; writes per key are bounded by this. */
    static final int MAX_WRITES_PER_KEY = 4096;

    private ReplicaBench() {
    }

    static void log(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    static NodeConfig node(PgShard s) {
        int i = Integer.parseInt(s.name().replaceAll("\\D", ""));
        NodeConfig.Builder n = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user()).zone("zone-" + (i % 3))
                .pool(p -> p.maximumPoolSize(8).connectionTimeout(Duration.ofSeconds(2)));
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n.build();
    }

    /** Per key: the nanoTime at which the write of each value was acknowledged (0: not yet). */
    static final class AckLog {
        final AtomicLongArray[] acks = new AtomicLongArray[KEYS];
        final long[] value = new long[KEYS];

        AckLog() {
            for (int i = 0; i < KEYS; i++) {
                acks[i] = new AtomicLongArray(MAX_WRITES_PER_KEY);
            }
        }

        /** Whether a read of {@code v} that began at {@code readStart} missed a write acknowledged before the bound. */
        boolean stale(int key, long v, long readStart, long boundNanos) {
            long next = v + 1 < MAX_WRITES_PER_KEY ? acks[key].get((int) v + 1) : 0;
            return next != 0 && readStart - next > boundNanos;
        }
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        double writeRate = args.length > 2 ? Double.parseDouble(args[2]) : 400;
        long boundMs = args.length > 3 ? Long.parseLong(args[3]) : 500;
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode out = mapper.createObjectNode();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        out.put("timestamp", stamp);
        out.put("cpu", Machine.cpuModel());
        out.put("load_before", Machine.loadAverage());
        out.put("seconds_per_phase", seconds);
        out.put("writes_per_s", writeRate);
        out.put("bound_ms", boundMs);
        try (PgCluster pg = PgCluster.builder().shards(4).start(); NodePools pools = new NodePools(System::getenv)) {
            if (!pg.canCrashShards()) {
                throw new IllegalStateException("this backend cannot SIGKILL a shard's server");
            }
            Topology.Builder b = Topology.builder().version(1).ring(new RingSettings(KeyType.BIGINT,
                    HashRing.DEFAULT_VNODES, TokenPlacement.ALLOCATED, 2)).table("counters", "tenant_id");
            for (PgShard s : pg.shards()) {
                NodeConfig n = node(s);
                pools.add(n);
                b.node(n);
            }
            Topology v1 = b.build().withStoredTokens();
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            catalog.initialize(v1);
            try (ShardedDataSource router = ShardedDataSource.builder(v1).followCatalog(pools.apply("shard0"))
                    .settings(RouterSettings.DEFAULTS.withDownBackoff(Duration.ofSeconds(1))).build()) {
                ShardedFlyway.configure(router).locations(LOCATION).load().migrate().orThrow();
                long syncStart = System.nanoTime();
                new ReplicaSync(catalog, pools, new ReplicaSync.Options().appLocations(LOCATION), m -> log("%s", m))
                        .sync();
                out.put("initial_sync_ms", (System.nanoTime() - syncStart) / 1e6);
                run(out, pg, router, v1, seconds, writeRate, boundMs);
            }
        }
        Files.createDirectories(outDir);
        mapper.writeValue(outDir.resolve("replicas-" + stamp + ".json").toFile(), out);
        mapper.writeValue(outDir.resolve("replicas-latest.json").toFile(), out);
        log("wrote %s", outDir.resolve("replicas-" + stamp + ".json"));
        log("RESULT replicas lag_p99_ms=%.1f read_tps_secondary=%.0f read_tps_primary=%.0f failover_ms=%.0f"
                + " stale_reads=%d spread=%.3f", out.get("lag_p99_ms").asDouble(),
                out.get("read_tps_secondary").asDouble(), out.get("read_tps_primary").asDouble(),
                out.get("failover_ms").asDouble(), out.get("stale_reads").asLong(), out.get("spread").asDouble());
        System.exit(0);
    }

    private static void run(ObjectNode out, PgCluster pg, ShardedDataSource router, Topology t, int seconds,
            double writeRate, long boundMs) throws Exception {
        ReplicaLayout layout = ReplicaLayout.of(t.ring(), 2);
        out.put("spread", layout.spread());
        out.put("links", layout.links().size());
        long boundNanos = Duration.ofMillis(boundMs).toNanos();
        ReadPreference bounded = ReadPreference.secondary().maxStaleness(Duration.ofMillis(boundMs));
        for (int k = 0; k < KEYS; k++) {
            final long tenant = k;
            router.inTransaction(tenant, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO counters VALUES (?, 0, 0)")) {
                    ps.setLong(1, tenant);
                    return ps.executeUpdate();
                }
            });
        }
        AckLog acks = new AckLog();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writeErrors = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        // writers: key k belongs to writer k % WRITERS, so each key's values rise one at a time
        for (int w = 0; w < WRITERS; w++) {
            final int writer = w;
            threads.add(start("writer-" + w, () -> {
                SplittableRandom rnd = new SplittableRandom(writer);
                long interval = (long) (1e9 / (writeRate / WRITERS));
                long next = System.nanoTime();
                while (!stop.get()) {
                    int key = rnd.nextInt(KEYS / WRITERS) * WRITERS + writer;
                    long v = acks.value[key] + 1;
                    if (v >= MAX_WRITES_PER_KEY) {
                        continue;
                    }
                    try {
                        router.inTransaction((long) key, c -> {
                            try (PreparedStatement ps = c.prepareStatement(
                                    "UPDATE counters SET val = ? WHERE tenant_id = ? AND id = 0")) {
                                ps.setLong(1, v);
                                ps.setLong(2, key);
                                return ps.executeUpdate();
                            }
                        });
                        acks.acks[key].set((int) v, System.nanoTime());
                        acks.value[key] = v;
                    } catch (RuntimeException e) {
                        writeErrors.incrementAndGet(); // the killed primary's keys: not acknowledged
                    }
                    next += interval;
                    long sleep = next - System.nanoTime();
                    if (sleep > 0) {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    } else {
                        next = System.nanoTime();
                    }
                }
            }));
        }
        // the prober: write acknowledged -> visible on the key's secondary
        List<Long> lags = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean probing = new AtomicBoolean(true);
        threads.add(start("prober", () -> {
            SplittableRandom rnd = new SplittableRandom(99);
            long seq = 0;
            while (!stop.get()) {
                if (!probing.get()) {
                    Thread.sleep(50);
                    continue;
                }
                long tenant = rnd.nextInt(KEYS);
                long s = ++seq;
                try {
                    router.inTransaction(tenant, c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO counters VALUES (?, 1, ?)"
                                + " ON CONFLICT (tenant_id, id) DO UPDATE SET val = EXCLUDED.val")) {
                            ps.setLong(1, tenant);
                            ps.setLong(2, s);
                            return ps.executeUpdate();
                        }
                    });
                    long acked = System.nanoTime();
                    DataSource copy = router.forKey(tenant, ReadPreference.secondary());
                    try (Connection c = copy.getConnection(); PreparedStatement ps = c.prepareStatement(
                            "SELECT val FROM counters WHERE tenant_id = ? AND id = 1")) {
                        ps.setLong(1, tenant);
                        while (!stop.get()) {
                            try (ResultSet rs = ps.executeQuery()) {
                                if (rs.next() && rs.getLong(1) == s) {
                                    lags.add(System.nanoTime() - acked);
                                    break;
                                }
                            }
                            if (System.nanoTime() - acked > 10_000_000_000L) {
                                break;
                            }
                        }
                    }
                } catch (RuntimeException | SQLException e) {
                    Thread.sleep(20);
                }
                Thread.sleep(20);
            }
        }));
        Thread.sleep(2000); // warm up: pools, the monitor's first samples
        // phase 1: bounded SECONDARY reads; phase 2: PRIMARY reads, the same threads for the same time
        long[] secondary = readPhase(router, acks, bounded, boundNanos, seconds, out, "secondary");
        long[] primary = readPhase(router, acks, ReadPreference.primary(), boundNanos, seconds, out, "primary");
        out.put("read_tps_secondary", secondary[0] / (double) seconds);
        out.put("read_tps_primary", primary[0] / (double) seconds);
        probing.set(false);
        long[] sorted = lags.stream().mapToLong(Long::longValue).sorted().toArray();
        out.put("lag_samples", sorted.length);
        out.put("lag_p50_ms", pct(sorted, 0.50) / 1e6);
        out.put("lag_p99_ms", pct(sorted, 0.99) / 1e6);
        out.put("lag_max_ms", sorted.length == 0 ? -1 : sorted[sorted.length - 1] / 1e6);

        // phase 3: kill one primary (not the catalog's) while writers and bounded readers run
        int victim = 2;
        String victimId = pg.shard(victim).name();
        List<Long> affected = new ArrayList<>();
        for (long k = 0; k < KEYS && affected.size() < 200; k++) {
            if (t.ring().route(k).id().equals(victimId)) {
                affected.add(k);
            }
        }
        AtomicLong stale = new AtomicLong(secondary[2] + primary[2]);
        AtomicLong reads = new AtomicLong();
        AtomicLong readErrors = new AtomicLong();
        AtomicBoolean phase = new AtomicBoolean(true);
        List<Thread> readers = startReaders(router, acks, bounded, boundNanos, phase, reads, stale, readErrors);
        Thread.sleep(1000);
        ReadPreference failover = ReadPreference.primaryPreferred().maxStaleness(Duration.ofMillis(boundMs));
        // a reader of the victim's keys that runs from before the kill: the first read after the kill that a copy
        // served (its database is a secondary store) ends the failover time
        AtomicLong killedAt = new AtomicLong();
        AtomicLong firstCopyRead = new AtomicLong();
        AtomicLong affectedReads = new AtomicLong();
        AtomicLong affectedErrors = new AtomicLong();
        java.util.Set<String> errorSamples = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = start("failover-reader", () -> {
            int i = 0;
            while (watching.get()) {
                long key = affected.get(i++ % affected.size());
                try {
                    String db = router.read(key, failover, c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "SELECT current_database() FROM counters WHERE tenant_id = ? AND id = 0")) {
                            ps.setLong(1, key);
                            try (ResultSet rs = ps.executeQuery()) {
                                return rs.next() ? rs.getString(1) : null;
                            }
                        }
                    });
                    long now = System.nanoTime();
                    if (killedAt.get() != 0 && db != null) {
                        affectedReads.incrementAndGet();
                        if (db.endsWith("_secondary")) {
                            firstCopyRead.compareAndSet(0, now);
                        }
                    }
                } catch (RuntimeException e) {
                    if (killedAt.get() != 0) {
                        affectedErrors.incrementAndGet();
                        if (errorSamples.size() < 3) {
                            errorSamples.add(String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
                        }
                    }
                }
            }
        });
        Thread.sleep(500);
        log("killing %s (%d of the first keys are its)", victimId, affected.size());
        long killed = System.nanoTime();
        killedAt.set(killed);
        pg.kill(victim); // SIGKILL to every process of the server at once, then a wait until they are gone
        out.put("kill_returned_ms", (System.nanoTime() - killed) / 1e6);
        Thread.sleep(3000); // the victim's keys keep being read from their copies while it is down
        watching.set(false);
        watcher.join();
        out.put("failover_ms", firstCopyRead.get() == 0 ? -1 : (firstCopyRead.get() - killed) / 1e6);
        out.putPOJO("affected_read_error_samples", new ArrayList<>(errorSamples));
        out.put("affected_reads_after_kill", affectedReads.get());
        out.put("affected_read_errors_after_kill", affectedErrors.get());
        phase.set(false);
        for (Thread r : readers) {
            r.join();
        }
        stop.set(true);
        for (Thread th : threads) {
            th.join(15_000);
        }
        out.put("reads_during_kill_phase", reads.get());
        out.put("read_errors_during_kill_phase", readErrors.get());
        out.put("write_errors", writeErrors.get());
        out.put("stale_reads", stale.get());
        pg.restart(victim);
    }

    /** Readers at {@code pref} for {@code seconds}: {reads, errors, stale}. */
    private static long[] readPhase(ShardedDataSource router, AckLog acks, ReadPreference pref, long boundNanos,
            int seconds, ObjectNode out, String name) throws InterruptedException {
        AtomicLong reads = new AtomicLong();
        AtomicLong stale = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> readers = startReaders(router, acks, pref, boundNanos, running, reads, stale, errors);
        Thread.sleep(seconds * 1000L);
        running.set(false);
        for (Thread r : readers) {
            r.join();
        }
        out.put("reads_" + name, reads.get());
        out.put("read_errors_" + name, errors.get());
        out.put("stale_reads_" + name, stale.get());
        log("%s: %d reads in %d s, %d errors, %d stale", name, reads.get(), seconds, errors.get(), stale.get());
        return new long[] {reads.get(), errors.get(), stale.get()};
    }

    private static List<Thread> startReaders(ShardedDataSource router, AckLog acks, ReadPreference pref,
            long boundNanos, AtomicBoolean running, AtomicLong reads, AtomicLong stale, AtomicLong errors) {
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            final int reader = r;
            readers.add(start("reader-" + r, () -> {
                SplittableRandom rnd = new SplittableRandom(1000 + reader);
                while (running.get()) {
                    int key = rnd.nextInt(KEYS);
                    long began = System.nanoTime();
                    try {
                        long v = router.read((long) key, pref, c -> {
                            try (PreparedStatement ps = c.prepareStatement(
                                    "SELECT val FROM counters WHERE tenant_id = ? AND id = 0")) {
                                ps.setLong(1, key);
                                try (ResultSet rs = ps.executeQuery()) {
                                    return rs.next() ? rs.getLong(1) : -1L;
                                }
                            }
                        });
                        reads.incrementAndGet();
                        if (v < 0 || acks.stale(key, v, began, boundNanos)) {
                            stale.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                    }
                }
            }));
        }
        return readers;
    }

    private interface Body {
        void run() throws Exception;
    }

    private static Thread start(String name, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                throw new IllegalStateException(name + " failed", e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
