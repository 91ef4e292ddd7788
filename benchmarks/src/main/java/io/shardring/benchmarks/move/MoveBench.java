package io.shardring.benchmarks.move;

import static io.shardring.benchmarks.Longs.pct;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.benchmarks.Longs;
import io.shardring.benchmarks.Machine;
import io.shardring.benchmarks.MoveEvent;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyHash;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * The move benchmark: one online move of a key range (adding shard1 to a ring of shard0 alone) holding
 * {@code rows} rows, while 4 writers keep upserting through the router, against a hand-made baseline that
 * copies the same rows with {@code COPY ... TO STDOUT | COPY ... FROM STDIN} into a table of the same
 * shape on the target.
 *
 * <p>Figures: mover_rows_per_s = rows / (execute() start .. cutover finished), cleanup excluded;
 * copy_rows_per_s of the baseline; the pause seen by writes to the moving keys that started within
 * [cutover started - 100 ms, cutover finished] (the latency of inTransaction, which waits out the cutover; the
 * writers retry nothing themselves, and every exception they see is counted as app_errors); lost
 * acknowledged writes and rows present on a node that does not own them, checked over all rows.
 *
 * <p>Usage: {@code MoveBench OUT_DIR [rows=1200000] [writes_per_s=0 (unthrottled)]}
 */
public final class MoveBench {
    static final String LOCATION = "classpath:db/movebench";
    static final int ROWS_PER_TENANT = 100;
    static final int WRITERS = 4;
    /** The router's meters, read for the JSON. */
    static final io.micrometer.core.instrument.simple.SimpleMeterRegistry METERS =
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    static final int ID_BITS = 20;
    static final String UPSERT = "INSERT INTO items (tenant_id, id, payload, val) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (tenant_id, id) DO UPDATE SET val = EXCLUDED.val";
    static final String FILLER = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-abcdefghijklmnopqrstuvwxyz";

    private MoveBench() {
    }

    /** One writer's records: start nanos, duration nanos, moving-range flag; and its acknowledged values. */
    static final class WriterLog {
        final Longs start = new Longs();
        final Longs dur = new Longs();
        final Longs moving = new Longs();
        final Map<Long, Integer> acked = new HashMap<>();
        /** Writes that threw: the application saw the move. Their keys' final value is unknown to it. */
        long appErrors;
        String firstAppError;
        final Set<Long> uncertain = new HashSet<>();
        Throwable error;
    }

    static NodeConfig node(PgShard s) {
        NodeConfig.Builder n = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user())
                .pool(p -> p.maximumPoolSize(6).connectionTimeout(Duration.ofSeconds(5)));
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n.build();
    }

    static long key(long tenant, long id) {
        return (tenant << ID_BITS) | id;
    }

    static String payload(long tenant, long id) {
        return (tenant + "-" + id + "-" + FILLER + FILLER).substring(0, 100);
    }

    static void log(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        long rowsWanted = args.length > 1 ? Long.parseLong(args[1]) : 1_200_000L;
        double writeRate = args.length > 2 ? Double.parseDouble(args[2]) : 0;
        long runStart = System.nanoTime();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode out = mapper.createObjectNode();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());

        try (PgCluster pg = PgCluster.builder().shards(2).serverSetting("max_wal_size", "4GB")
                .serverSetting("checkpoint_timeout", "30min").serverSetting("shared_buffers", "256MB")
                .serverSetting("maintenance_work_mem", "256MB")
                // off as in the runs before (the testkit's default is on); -Dmovebench.synchronous_commit=on to compare
                .serverSetting("synchronous_commit", System.getProperty("movebench.synchronous_commit", "off")).start();
                NodePools pools = new NodePools(System::getenv)) {
            PgShard s0 = pg.shard(0);
            PgShard s1 = pg.shard(1);
            NodeConfig n0 = node(s0);
            NodeConfig n1 = node(s1);
            pools.add(n0).add(n1);

            // ---- 1. topology v1: shard0 alone; catalog on shard0; items by ShardedFlyway
            Topology v1 = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT)).table("items", "tenant_id")
                    .node(n0).build().withStoredTokens();
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            if (!catalog.initialize(v1)) {
                throw new IllegalStateException("the catalog on shard0 was already initialized");
            }
            // the application's router, following the catalog as an application's does
            try (ShardedDataSource router = ShardedDataSource.builder(v1).followCatalog(pools.apply("shard0"))
                    .settings(RouterSettings.DEFAULTS.withDownBackoff(Duration.ofMillis(200))).meterRegistry(METERS)
                    .build()) {
                ShardedFlyway.configure(router).locations(LOCATION).load().migrate().orThrow();
                run(out, stamp, pg, pools, catalog, router, n1, rowsWanted, writeRate, runStart);
            }
        }
        Files.createDirectories(outDir);
        mapper.writeValue(outDir.resolve("move-" + stamp + ".json").toFile(), out);
        mapper.writeValue(outDir.resolve("move-latest.json").toFile(), out);
        log("wrote %s", outDir.resolve("move-" + stamp + ".json"));
        log("RESULT move rows=%d mover_rows_per_s=%.0f copy_rows_per_s=%.0f ratio=%.3f pause_p99_ms=%.1f lost=%d"
                + " duplicated=%d app_errors=%d", out.get("rows").asLong(), out.get("mover_rows_per_s").asDouble(),
                // both sides under the same writers: the baseline COPY pipe runs while they write, as the mover does
                out.get("copy_under_writers_rows_per_s").asDouble(), out.get("ratio_vs_copy_under_writers").asDouble(),
                // closed-loop writers blocked by the fence give one sample each: report the p99 corrected for that
                out.get("pause_corrected_p99_ms").asDouble(), out.get("lost").asLong(), out.get("duplicated").asLong(),
                out.get("app_errors").asLong());
        // embedded servers and pools are closed; daemon threads do not hold the JVM
        System.exit(0);
    }

    private static void run(ObjectNode out, String stamp, PgCluster pg, NodePools pools, Catalog catalog,
            ShardedDataSource router, NodeConfig n1, long rowsWanted, double writeRate, long runStart) throws Exception {
        PgShard s0 = pg.shard(0);
        PgShard s1 = pg.shard(1);
        TopologyChange add = TopologyChange.addNode(n1);

        // ---- 2. learn the moving ranges, generate tenants in them, load with COPY
        Plan plan0 = Planner.plan(catalog.load(), add, pools, false);
        if (plan0.jobs().size() != 1) {
            throw new IllegalStateException("expected one job shard0 -> shard1, got " + plan0.render());
        }
        MoveJob job0 = plan0.jobs().get(0);
        long movingTenantsNeeded = (rowsWanted + ROWS_PER_TENANT - 1) / ROWS_PER_TENANT;
        long stayingTenantsNeeded = Math.max(1, movingTenantsNeeded / 10);
        List<Long> moving = new ArrayList<>();
        List<Long> staying = new ArrayList<>();
        for (long t = 1; moving.size() < movingTenantsNeeded || staying.size() < stayingTenantsNeeded; t++) {
            if (job0.containsHash(KeyHash.ofLong(t))) {
                if (moving.size() < movingTenantsNeeded) {
                    moving.add(t);
                }
            } else if (staying.size() < stayingTenantsNeeded) {
                staying.add(t);
            }
        }
        Topology after0 = plan0.after();
        for (long t : moving) {
            if (!after0.ring().route(t).id().equals("shard1")) {
                throw new IllegalStateException("tenant " + t + " is in the moving range but routes to "
                        + after0.ring().route(t).id() + " after the change");
            }
        }
        long movingRows = moving.size() * (long) ROWS_PER_TENANT;
        long stayingRows = staying.size() * (long) ROWS_PER_TENANT;
        log("moving share %.4f, %d ranges; loading %d rows in the moving range (%d tenants) and %d staying",
                job0.share(), job0.ranges().size(), movingRows, moving.size(), stayingRows);
        long loadStart = System.nanoTime();
        try (Connection c = s0.connect()) {
            try (Statement st = c.createStatement()) {
                st.execute("SET shardring.bypass_guard = on"); // shard0 owns all keys; spare the trigger
            }
            CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
            CopyIn ci = cm.copyIn("COPY items (tenant_id, id, payload, val) FROM STDIN");
            StringBuilder sb = new StringBuilder(1 << 20);
            List<Long> all = new ArrayList<>(moving);
            all.addAll(staying);
            for (long t : all) {
                for (long id = 0; id < ROWS_PER_TENANT; id++) {
                    sb.append(t).append('\t').append(id).append('\t').append(payload(t, id)).append("\t0\n");
                }
                if (sb.length() > (1 << 20) - 20_000) {
                    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
                    ci.writeToCopy(b, 0, b.length);
                    sb.setLength(0);
                }
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            ci.writeToCopy(b, 0, b.length);
            ci.endCopy();
            try (Statement st = c.createStatement()) {
                st.execute("VACUUM ANALYZE items");
                st.execute("CHECKPOINT");
            }
        }
        double loadS = (System.nanoTime() - loadStart) / 1e9;
        log("loaded in %.1f s", loadS);

        // the plan executed: made after the load, so that it counts the rows; the ranges are the same
        Plan plan = Planner.plan(catalog.load(), add, pools);
        if (plan.jobs().size() != 1 || !plan.jobs().get(0).ranges().equals(job0.ranges()) || !plan.isExecutable()) {
            throw new IllegalStateException("the plan changed after loading:\n" + plan.render());
        }
        MoveJob job = plan.jobs().get(0);
        if (job.rows() != movingRows) {
            throw new IllegalStateException("the plan counts " + job.rows() + " rows in the moving range, loaded "
                    + movingRows);
        }
        String pred = job.sqlPredicate(KeyType.BIGINT, "tenant_id");

        // ---- 3. baseline: COPY out of shard0 piped into COPY in on shard1
        try (Connection c = s1.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items_copy (tenant_id bigint NOT NULL, id bigint NOT NULL, payload text NOT NULL,"
                    + " val integer NOT NULL, PRIMARY KEY (tenant_id, id))");
        }
        checkpoint(s0);
        checkpoint(s1);
        double warmBaselineS = warm(s0, pred);
        long copyStart = System.nanoTime();
        long copied = pipeCopy(s0, s1, "COPY (SELECT tenant_id, id, payload, val FROM items WHERE " + pred + ") TO STDOUT",
                "COPY items_copy (tenant_id, id, payload, val) FROM STDIN");
        double copyS = (System.nanoTime() - copyStart) / 1e9;
        if (copied != movingRows) {
            throw new IllegalStateException("the baseline copied " + copied + " rows, expected " + movingRows);
        }
        double copyRowsPerS = movingRows / copyS;
        log("baseline COPY|COPY: %d rows in %.2f s = %.0f rows/s (warm-up count(*) %.2f s)", copied, copyS,
                copyRowsPerS, warmBaselineS);
        try (Connection c = s1.connect(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE items_copy");
        }
        checkpoint(s0);
        checkpoint(s1);

        // ---- 4. the move under writes
        AtomicBoolean stop = new AtomicBoolean();
        List<WriterLog> logs = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        long[] mv = moving.stream().mapToLong(Long::longValue).toArray();
        long[] sv = staying.stream().mapToLong(Long::longValue).toArray();
        long writerNanosPerOp = writeRate > 0 ? (long) (1e9 * WRITERS / writeRate) : 0;
        for (int w = 0; w < WRITERS; w++) {
            WriterLog wl = new WriterLog();
            logs.add(wl);
            int me = w;
            Thread th = new Thread(() -> writer(router, me, mv, sv, wl, stop, writerNanosPerOp), "writer-" + w);
            th.setDaemon(true);
            writers.add(th);
        }
        long writersStart = System.nanoTime();
        writers.forEach(Thread::start);
        Thread.sleep(3000);
        // reference: the same baseline while the writers run (the move competes with them for the 2 cores)
        try (Connection c = s1.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items_copy (tenant_id bigint NOT NULL, id bigint NOT NULL, payload text NOT NULL,"
                    + " val integer NOT NULL, PRIMARY KEY (tenant_id, id))");
        }
        warm(s0, pred);
        long copyWStart = System.nanoTime();
        long copiedW = pipeCopy(s0, s1, "COPY (SELECT tenant_id, id, payload, val FROM items WHERE " + pred
                + ") TO STDOUT", "COPY items_copy (tenant_id, id, payload, val) FROM STDIN");
        double copyWS = (System.nanoTime() - copyWStart) / 1e9;
        log("baseline COPY|COPY under the writers: %d rows in %.2f s = %.0f rows/s", copiedW, copyWS, copiedW / copyWS);
        try (Connection c = s1.connect(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE items_copy");
        }
        checkpoint(s1);
        double warmMoveS = warm(s0, pred);

        List<MoveEvent> events = new ArrayList<>();
        AtomicLong lastProgressLog = new AtomicLong();
        MoveListener listener = (moveId, j, phase, event, detail, rows, lag) -> {
            long now = System.nanoTime();
            synchronized (events) {
                events.add(new MoveEvent(now, j, phase, event, detail, rows, lag));
            }
            if (!"progress".equals(event)) {
                log("  %8.3f s  move %d job %d %-8s %-8s %s%s", (now - runStart) / 1e9, moveId, j, phase, event,
                        detail == null ? "" : detail, rows >= 0 ? " rows=" + rows : "");
            } else if (now - lastProgressLog.get() > 5_000_000_000L) {
                lastProgressLog.set(now);
                log("  %8.3f s  %s %s rows=%d", (now - runStart) / 1e9, phase, detail, rows);
            }
        };
        SubscriptionMonitor monitor = new SubscriptionMonitor(s0, s1, runStart);
        monitor.start();
        Mover mover = new Mover(catalog, pools, new Mover.Options().appLocations(LOCATION), listener);
        // when the application's router switched to the version the cutover published
        long versionBefore = router.topology().version();
        java.util.concurrent.atomic.AtomicLong switchedAt = new java.util.concurrent.atomic.AtomicLong();
        Thread switchWatch = new Thread(() -> {
            while (switchedAt.get() == 0 && !Thread.currentThread().isInterrupted()) {
                if (router.topology().version() > versionBefore) {
                    switchedAt.set(System.nanoTime());
                }
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
        }, "switch-watch");
        switchWatch.setDaemon(true);
        switchWatch.start();
        long execStart = System.nanoTime();
        long moveId = mover.execute(plan);
        long execEnd = System.nanoTime();
        switchWatch.interrupt();
        monitor.stopAndJoin();
        Thread.sleep(2000);
        stop.set(true);
        for (Thread th : writers) {
            th.join(180_000);
        }
        long writersEnd = System.nanoTime();
        for (WriterLog wl : logs) {
            if (wl.error != null) {
                throw new IllegalStateException("a writer failed", wl.error);
            }
        }

        // phase times from the listener
        long cutStart = first(events, "cutover", "started");
        long cutEnd = last(events, "cutover", "finished");
        // the cutover's "paused N ms" info event: the topology is published
        MoveEvent published = events.stream().filter(e -> e.phase().equals("cutover") && e.event().equals("info")
                && e.detail() != null && e.detail().startsWith("paused")).findFirst()
                .orElseThrow(() -> new IllegalStateException("the mover reported no cutover pause"));
        long pauseInfo = published.nanos();
        String pauseDetail = published.detail();
        out.put("router_switched_ms_after_publish", switchedAt.get() == 0 ? -1 : (switchedAt.get() - pauseInfo) / 1e6);
        // the router's own account of the units of work that waited out the cutover (from their first rejection)
        io.micrometer.core.instrument.Timer waited = METERS.find("shardring.cutover.wait").timer();
        if (waited != null) {
            out.put("router_cutover_waits", waited.count());
            out.put("router_cutover_wait_max_ms", waited.max(java.util.concurrent.TimeUnit.MILLISECONDS));
            out.put("router_cutover_wait_mean_ms", waited.mean(java.util.concurrent.TimeUnit.MILLISECONDS));
        }
        long verifiedRows = events.stream().filter(e -> e.phase().equals("verify") && e.rows() >= 0)
                .mapToLong(MoveEvent::rows).sum();
        long cleanStart = first(events, "cleanup", "started");
        long cleanEnd = last(events, "cleanup", "finished");
        double moverS = (cutEnd - execStart) / 1e9;
        double moverRowsPerS = movingRows / moverS;
        double ratio = moverRowsPerS / copyRowsPerS;

        // ---- 5. pause seen by writes to the moving keys
        long winLo = cutStart - 100_000_000L;
        Longs inWin = new Longs();
        Longs outWin = new Longs();
        Longs stayingAll = new Longs();
        Longs inPauseWin = new Longs(); // [cutover started - 100 ms, topology published]
        long writes = 0;
        long appErrors = 0;
        String firstAppError = null;
        for (WriterLog wl : logs) {
            appErrors += wl.appErrors;
            if (firstAppError == null) {
                firstAppError = wl.firstAppError;
            }
            for (int i = 0; i < wl.start.n; i++) {
                writes++;
                long st = wl.start.a[i];
                long d = wl.dur.a[i];
                if (wl.moving.a[i] == 1) {
                    if (st >= winLo && st <= cutEnd) {
                        inWin.add(d);
                    } else {
                        outWin.add(d);
                    }
                    if (st >= winLo && st <= pauseInfo) {
                        inPauseWin.add(d);
                    }
                } else {
                    stayingAll.add(d);
                }
            }
        }

        // coordinated omission: a writer blocked in the fence issues no other writes, so the pause is one
        // sample per writer; add the writes it would have issued at its pace outside the window (HdrHistogram's
        // expected-interval correction), each with the latency it would have seen
        Longs corrected = new Longs();
        for (WriterLog wl : logs) {
            long outsideMoving = 0;
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (int i = 0; i < wl.start.n; i++) {
                long st = wl.start.a[i];
                lo = Math.min(lo, st);
                hi = Math.max(hi, st);
                if (wl.moving.a[i] == 1 && (st < winLo || st > cutEnd)) {
                    outsideMoving++;
                }
            }
            long activeOutside = Math.max(1, (hi - lo) - (cutEnd - winLo));
            long interval = outsideMoving == 0 ? Long.MAX_VALUE : activeOutside / outsideMoving;
            for (int i = 0; i < wl.start.n; i++) {
                long st = wl.start.a[i];
                if (wl.moving.a[i] == 1 && st >= winLo && st <= cutEnd) {
                    long d = wl.dur.a[i];
                    corrected.add(d);
                    for (long m = d - interval; interval > 0 && m >= interval; m -= interval) {
                        corrected.add(m);
                    }
                }
            }
        }

        // ---- 6. every row on every shard against the acknowledged writes and the loaded rows
        Map<Long, Integer> acked = new HashMap<>();
        for (WriterLog wl : logs) {
            acked.putAll(wl.acked); // writers use disjoint ids
            wl.uncertain.forEach(acked::remove); // a write that threw may or may not have landed
        }
        Set<Long> loadedTenants = new HashSet<>(moving);
        loadedTenants.addAll(staying);
        Check check = check(pg, catalog.load(), acked, loadedTenants);

        // diagnostics: what the verify's checksum costs on one node, and a cheaper row hash
        double verifyText = timeQuery(s1, "SELECT count(*), coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text"
                + " FROM items x WHERE " + pred);
        double verifyRecord = timeQuery(s1, "SELECT count(*), coalesce(sum(hash_record_extended(x, 0)::numeric), 0)::text"
                + " FROM items x WHERE " + pred);
        double countOnly = timeQuery(s1, "SELECT count(*) FROM items x WHERE " + pred);
        log("verify checksum on shard1: hashtextextended(x::text) %.2f s, hash_record_extended(x) %.2f s, count(*) %.2f s",
                verifyText, verifyRecord, countOnly);

        // ---- 7. JSON
        ObjectNode diag = out.putObject("diagnostics_seconds_on_target_after_move");
        diag.put("verify_checksum_hashtextextended_text", verifyText);
        diag.put("verify_checksum_hash_record_extended", verifyRecord);
        diag.put("count_over_range", countOnly);
        out.put("suite", "move");
        out.put("timestamp", stamp);
        out.put("rows", movingRows);
        out.put("mover_rows_per_s", moverRowsPerS);
        out.put("copy_rows_per_s", copyRowsPerS);
        out.put("ratio", ratio);
        out.put("pause_p50_ms", pct(inWin, 50));
        out.put("pause_p99_ms", pct(inWin, 99));
        out.put("pause_max_ms", pct(inWin, 100));
        out.put("pause_count", inWin.n);
        out.put("lost", check.lostAcked + check.lostLoaded);
        out.put("app_errors", appErrors);
        out.put("duplicated", check.onNonOwner);
        out.put("reference_moving_outside_window_p50_ms", pct(outWin, 50));
        out.put("reference_moving_outside_window_p99_ms", pct(outWin, 99));
        out.put("reference_staying_p99_ms", pct(stayingAll, 99));
        out.put("pause_until_published_p99_ms", pct(inPauseWin, 99));
        out.put("pause_until_published_max_ms", pct(inPauseWin, 100));
        out.put("pause_until_published_count", inPauseWin.n);
        out.put("pause_corrected_p50_ms", pct(corrected, 50));
        out.put("pause_corrected_p99_ms", pct(corrected, 99));
        out.put("pause_corrected_count", corrected.n);
        out.put("mover_reported_pause", pauseDetail);
        out.put("rows_verified_by_mover", verifiedRows);
        ObjectNode def = out.putObject("definitions");
        def.put("rows", "rows loaded into the moving range (tenants whose hashint8extended lies in the plan's job)");
        def.put("mover_rows_per_s", "rows / (Mover.execute() start .. cutover 'finished' event, when the"
                + " target owns the rows and the topology is published); includes prepare, copy (snapshot COPY + catch-up)"
                + " and cutover; verify (after the publish) and cleanup excluded and timed separately. The RESULT line"
                + " compares it with copy_under_writers_rows_per_s (ratio_vs_copy_under_writers), the baseline run"
                + " under the same writers; copy_rows_per_s / ratio are the idle baseline");
        def.put("copy_rows_per_s", "rows / time of COPY (SELECT ... WHERE moving predicate) TO STDOUT on shard0 piped"
                + " into COPY items_copy FROM STDIN on shard1 (same columns and primary key, no guard), no writers;"
                + " after a throwaway SELECT count(*) over the range (the move gets the same warm-up)");
        def.put("pause_corrected", "pause with the coordinated-omission correction: each in-window moving write of"
                + " duration d also counts d - k*interval (k = 1, 2, ... while >= interval), interval = the writer's"
                + " mean time between moving writes outside the window; closed-loop writers otherwise give a fence of"
                + " N ms only one sample per writer");
        def.put("copy_under_writers_rows_per_s", "the baseline again, after the writers started, right before the move");
        def.put("pause", "latency of inTransaction calls (which wait out the cutover themselves) writing to moving keys"
                + " that started within [cutover started - 100 ms, cutover finished]");
        def.put("app_errors", "inTransaction calls that threw: the writers retry nothing themselves, so each is a move"
                + " the application noticed");
        def.put("lost", "acknowledged writes (and loaded rows never written since) not present with their last value on"
                + " their owner in the final topology");
        def.put("duplicated", "rows present on a node that does not own them in the final topology");
        ObjectNode sec = out.putObject("seconds");
        sec.put("load", loadS);
        sec.put("baseline_copy", copyS);
        sec.put("baseline_warmup_count", warmBaselineS);
        sec.put("baseline_copy_under_writers", copyWS);
        out.put("copy_under_writers_rows_per_s", copiedW / copyWS);
        out.put("ratio_vs_copy_under_writers", moverRowsPerS / (copiedW / copyWS));
        sec.put("move_warmup_count", warmMoveS);
        sec.put("mover_until_cutover_finished", moverS);
        sec.put("execute_total", (execEnd - execStart) / 1e9);
        sec.put("prepare", span(events, "prepare"));
        sec.put("copy", span(events, "copy"));
        sec.put("cutover", (cutEnd - cutStart) / 1e9);
        sec.put("cutover_until_published", (pauseInfo - cutStart) / 1e9);
        sec.put("cutover_verify_after_published", (cutEnd - pauseInfo) / 1e9);
        sec.put("cleanup", (cleanEnd - cleanStart) / 1e9);
        sec.put("run_total", (System.nanoTime() - runStart) / 1e9);
        ArrayNode ev = out.putArray("events");
        for (MoveEvent e : events) {
            if (e.event().equals("progress")) {
                continue;
            }
            ev.addObject().put("t_ms_from_execute", (e.nanos() - execStart) / 1e6).put("job", e.job())
                    .put("phase", e.phase()).put("event", e.event()).put("detail", e.detail()).put("rows", e.rows())
                    .put("lag_bytes", e.lag());
        }
        ArrayNode mon = out.putArray("subscription_states");
        for (String[] m : monitor.samples) {
            mon.addObject().put("t_ms_from_execute", (Long.parseLong(m[0]) - execStart) / 1e6).put("state", m[1]);
        }
        ObjectNode wr = out.putObject("writers");
        wr.put("threads", WRITERS);
        wr.put("target_writes_per_s", writeRate);
        wr.put("writes_acknowledged", writes);
        wr.put("writes_per_s", writes / ((writersEnd - writersStart) / 1e9));
        wr.put("app_errors", appErrors);
        wr.put("first_app_error", firstAppError);
        wr.put("distinct_keys_written", acked.size());
        wr.put("moving_writes_in_window", inWin.n);
        wr.put("moving_writes_outside_window", outWin.n);
        wr.put("staying_writes", stayingAll.n);
        ObjectNode ch = out.putObject("check");
        ch.put("rows_scanned", check.scanned);
        ch.put("lost_acknowledged_writes", check.lostAcked);
        ch.put("lost_loaded_rows", check.lostLoaded);
        ch.put("wrong_value_rows", check.wrongValue);
        ch.put("rows_on_non_owner", check.onNonOwner);
        ch.put("rows_on_non_owner_also_on_owner", check.onBoth);
        ch.put("unexpected_rows", check.unexpected);
        ch.put("rows_per_shard", check.perShard);
        ch.put("final_topology_version", catalog.version());
        ch.put("router_topology_version", router.topology().version());
        ObjectNode p = out.putObject("plan");
        p.put("move_id", moveId);
        p.put("change", plan.change());
        p.put("moved_share", plan.movedShare());
        p.put("ranges", job.ranges().size());
        p.put("moving_tenants", moving.size());
        p.put("staying_tenants", staying.size());
        p.put("staying_rows", stayingRows);
        p.put("rows_per_tenant", ROWS_PER_TENANT);
        p.put("payload_bytes", 100);
        out.put("postgresql", Machine.serverVersion(s0));
        out.put("synchronous_commit", System.getProperty("movebench.synchronous_commit", "off"));
        out.put("backend", pg.backend());
        out.put("java", System.getProperty("java.version"));
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        log("mover: %.2f s until cutover finished = %.0f rows/s; ratio %.3f; cleanup %.2f s", moverS, moverRowsPerS,
                ratio, (cleanEnd - cleanStart) / 1e9);
        log("pause corrected for coordinated omission: p50 %.1f ms, p99 %.1f ms (%d samples)", pct(corrected, 50),
                pct(corrected, 99), corrected.n);
        log("pause: %d writes in window, p50 %.1f ms, p99 %.1f ms, max %.1f ms (outside window p99 %.1f ms); %s",
                inWin.n, pct(inWin, 50), pct(inWin, 99), pct(inWin, 100), pct(outWin, 99), pauseDetail);
        log("check: %d rows scanned, lost acked %d, lost loaded %d, on non-owner %d, unexpected %d", check.scanned,
                check.lostAcked, check.lostLoaded, check.onNonOwner, check.unexpected);
    }

    // ---- writers

    private static void writer(ShardedDataSource router, int me, long[] moving, long[] staying, WriterLog wl,
            AtomicBoolean stop, long nanosPerOp) {
        SplittableRandom rnd = new SplittableRandom(1000 + me * 7919L);
        int seq = 0;
        long next = System.nanoTime();
        try {
            while (!stop.get()) {
                if (nanosPerOp > 0) {
                    next += nanosPerOp;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                boolean isMoving = rnd.nextBoolean();
                long tenant = isMoving ? moving[rnd.nextInt(moving.length)] : staying[rnd.nextInt(staying.length)];
                // ids of writer w are w mod 4: one writer per key, so "last acknowledged value" is well defined;
                // half of them are loaded rows (updates), half new rows (inserts, then updates)
                long id = me + (long) WRITERS * rnd.nextInt(2 * ROWS_PER_TENANT / WRITERS);
                int val = ++seq;
                long start = System.nanoTime();
                try {
                    // no retry of our own: a move must be a pause inside inTransaction, never an exception
                    router.inTransaction(tenant, c -> {
                        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
                            ps.setLong(1, tenant);
                            ps.setLong(2, id);
                            ps.setString(3, payload(tenant, id));
                            ps.setInt(4, val);
                            ps.executeUpdate();
                        }
                        return null;
                    });
                } catch (RuntimeException e) {
                    wl.appErrors++;
                    if (wl.firstAppError == null) {
                        wl.firstAppError = e.toString();
                    }
                    wl.uncertain.add(key(tenant, id)); // its outcome is unknown to the application
                    continue;
                }
                long end = System.nanoTime();
                wl.start.add(start);
                wl.dur.add(end - start);
                wl.moving.add(isMoving ? 1 : 0);
                wl.acked.put(key(tenant, id), val);
            }
        } catch (Throwable e) {
            wl.error = e;
        }
    }

    // ---- check

    static final class Check {
        long scanned;
        long lostAcked;
        long lostLoaded;
        long wrongValue;
        long onNonOwner;
        long onBoth;
        long unexpected;
        String perShard = "";
    }

    private static Check check(PgCluster pg, Topology fin, Map<Long, Integer> acked, Set<Long> loadedTenants)
            throws SQLException {
        Check r = new Check();
        Set<Long> atOwner = new HashSet<>(acked.size() + loadedTenants.size() * ROWS_PER_TENANT * 2);
        List<Long> nonOwnerKeys = new ArrayList<>();
        StringBuilder per = new StringBuilder();
        for (PgShard s : pg.shards()) {
            long n = 0;
            try (Connection c = s.connect()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.setFetchSize(50_000);
                    try (ResultSet rs = st.executeQuery("SELECT tenant_id, id, val FROM items")) {
                        while (rs.next()) {
                            n++;
                            long tenant = rs.getLong(1);
                            long id = rs.getLong(2);
                            int val = rs.getInt(3);
                            long k = key(tenant, id);
                            if (!fin.ring().route(tenant).id().equals(s.name())) {
                                r.onNonOwner++;
                                nonOwnerKeys.add(k);
                                continue;
                            }
                            atOwner.add(k);
                            Integer a = acked.get(k);
                            if (a != null) {
                                if (a != val) {
                                    r.wrongValue++;
                                    r.lostAcked++;
                                }
                            } else if (loadedTenants.contains(tenant) && id < ROWS_PER_TENANT) {
                                if (val != 0) {
                                    r.wrongValue++;
                                }
                            } else {
                                r.unexpected++; // neither loaded nor acknowledged
                            }
                        }
                    }
                }
                c.commit();
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) {
                    throw e;
                }
            }
            r.scanned += n;
            per.append(per.length() == 0 ? "" : ", ").append(s.name()).append('=').append(n);
        }
        for (Long k : acked.keySet()) {
            if (!atOwner.contains(k)) {
                r.lostAcked++;
            }
        }
        for (long t : loadedTenants) {
            for (long id = 0; id < ROWS_PER_TENANT; id++) {
                long k = key(t, id);
                if (!acked.containsKey(k) && !atOwner.contains(k)) {
                    r.lostLoaded++;
                }
            }
        }
        for (long k : nonOwnerKeys) {
            if (atOwner.contains(k)) {
                r.onBoth++;
            }
        }
        r.perShard = per.toString();
        return r;
    }

    // ---- helpers

    /** Polls the target's subscription state and the copy progress, to see where the copy phase's time goes. */
    static final class SubscriptionMonitor extends Thread {
        final List<String[]> samples = new ArrayList<>();
        private final PgShard source;
        private final PgShard target;
        private final long runStart;
        private volatile boolean done;

        SubscriptionMonitor(PgShard source, PgShard target, long runStart) {
            super("subscription-monitor");
            setDaemon(true);
            this.source = source;
            this.target = target;
            this.runStart = runStart;
        }

        @Override
        public void run() {
            String last = "";
            try (Connection t = target.connect(); Connection s = source.connect(); Statement ts = t.createStatement();
                    Statement ss = s.createStatement()) {
                while (!done) {
                    StringBuilder st = new StringBuilder();
                    try (ResultSet rs = ts.executeQuery("SELECT r.srsubstate FROM pg_subscription_rel r"
                            + " JOIN pg_class c ON c.oid = r.srrelid WHERE c.relname = 'items'")) {
                        while (rs.next()) {
                            st.append("items:").append(rs.getString(1));
                        }
                    }
                    try (ResultSet rs = ts.executeQuery("SELECT command, tuples_processed FROM pg_stat_progress_copy")) {
                        while (rs.next()) {
                            st.append(" target_copy:").append(rs.getString(1)).append('=')
                                    .append(rs.getLong(2) / 100_000 * 100_000);
                        }
                    }
                    try (ResultSet rs = ss.executeQuery("SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(),"
                            + " confirmed_flush_lsn) FROM pg_replication_slots")) {
                        while (rs.next()) {
                            st.append(" slot:").append(rs.getString(1)).append(rs.getBoolean(2) ? "(active)" : "")
                                    .append(" lag=").append(rs.getLong(3) / (1 << 20)).append("MiB");
                        }
                    }
                    String now = st.toString();
                    if (!now.equals(last)) {
                        long ts0 = System.nanoTime();
                        synchronized (samples) {
                            samples.add(new String[] {Long.toString(ts0), now});
                        }
                        log("  %8.3f s  [monitor] %s", (ts0 - runStart) / 1e9, now);
                        last = now;
                    }
                    Thread.sleep(250);
                }
            } catch (SQLException | InterruptedException e) {
                log("  [monitor] stopped: %s", e);
            }
        }

        void stopAndJoin() throws InterruptedException {
            done = true;
            join(5000);
        }
    }

    private static long pipeCopy(PgShard from, PgShard to, String outSql, String inSql) throws Exception {
        try (Connection src = from.connect(); Connection dst = to.connect()) {
            CopyManager out = src.unwrap(PGConnection.class).getCopyAPI();
            CopyManager in = dst.unwrap(PGConnection.class).getCopyAPI();
            PipedInputStream pin = new PipedInputStream(1 << 20);
            PipedOutputStream pout = new PipedOutputStream(pin);
            AtomicReference<Throwable> err = new AtomicReference<>();
            AtomicLong outRows = new AtomicLong();
            Thread t = new Thread(() -> {
                try (PipedOutputStream o = pout) {
                    outRows.set(out.copyOut(outSql, o));
                } catch (SQLException | IOException | RuntimeException e) {
                    err.set(e);
                }
            }, "copy-out");
            t.start();
            long n = in.copyIn(inSql, pin, 1 << 16);
            t.join();
            if (err.get() != null) {
                throw new IllegalStateException("COPY out failed", err.get());
            }
            if (outRows.get() != n) {
                throw new IllegalStateException("copied out " + outRows.get() + " rows, in " + n);
            }
            return n;
        }
    }

    private static double warm(PgShard s, String pred) throws SQLException {
        long t = System.nanoTime();
        try (Connection c = s.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM items WHERE " + pred)) {
            rs.next();
        }
        return (System.nanoTime() - t) / 1e9;
    }

    private static double timeQuery(PgShard s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            long t = System.nanoTime();
            try (ResultSet rs = st.executeQuery(sql)) {
                rs.next();
            }
            return (System.nanoTime() - t) / 1e9;
        }
    }

    private static void checkpoint(PgShard s) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
        }
    }

    private static long first(List<MoveEvent> events, String phase, String event) {
        synchronized (events) {
            for (MoveEvent e : events) {
                if (e.phase().equals(phase) && e.event().equals(event)) {
                    return e.nanos();
                }
            }
        }
        throw new IllegalStateException("the mover reported no " + phase + " " + event);
    }

    private static long last(List<MoveEvent> events, String phase, String event) {
        synchronized (events) {
            for (int i = events.size() - 1; i >= 0; i--) {
                MoveEvent e = events.get(i);
                if (e.phase().equals(phase) && e.event().equals(event)) {
                    return e.nanos();
                }
            }
        }
        throw new IllegalStateException("the mover reported no " + phase + " " + event);
    }

    private static double span(List<MoveEvent> events, String phase) {
        return (last(events, phase, "finished") - first(events, phase, "started")) / 1e9;
    }

}
