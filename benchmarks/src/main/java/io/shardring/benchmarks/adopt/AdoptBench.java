package io.shardring.benchmarks.adopt;

import static io.shardring.benchmarks.Longs.pct;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shardring.benchmarks.Longs;
import io.shardring.benchmarks.Machine;
import io.shardring.benchmarks.MoveEvent;
import io.shardring.migration.adopt.Adoption;
import io.shardring.migration.cli.CliObserver;
import io.shardring.migration.cli.ShardringCli;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.jdbc.SqlWork;
import io.shardring.router.ring.KeyHash;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import picocli.CommandLine;

/**
 * The adopt benchmark: an application's existing database (three tables with {@code bigserial} ids and foreign keys,
 * made by plain SQL, {@code rows} rows in all) adopted as the ring's first node by {@code shardring adopt --execute}
 * while its writers write to it directly, then, once the writers go through a router, split into four nodes by one
 * {@code shardring add-node pg-b pg-c pg-d --execute} (75% of the keys move, the three jobs copying in parallel), both
 * commands run in-process through the CLI as a user runs them. Against a hand-made baseline in the same run: the same
 * rows copied with {@code COPY (SELECT ...) TO STDOUT | COPY ... FROM STDIN} into tables of the same shape on another
 * server.
 *
 * <p>Figures: rows moved (the plan's count) over the time from the move's first event to the last job's cutover
 * published; the baseline's rows per second; the plan's moved share; writer calls that threw; acknowledged rows and
 * click counts missing from their owner; rows on a node that does not own them; ids drawn twice; the p99 latency of
 * writes to moving keys around their job's cutover. Every figure is defined in the JSON's {@code definitions}.
 *
 * <p>Usage: {@code AdoptBench OUT_DIR [rows=2200000 [writes_per_s=500 [parallel=0 (the CLI's default)
 * [copy_streams=0 (the CLI's default)]]]]}
 */
public final class AdoptBench {
    static final int WRITERS = 4;
    static final int CAMPAIGNS_PER_COMPANY = 5;
    static final int ADS_PER_CAMPAIGN = 20;
    static final int ADS_PER_COMPANY = CAMPAIGNS_PER_COMPANY * ADS_PER_CAMPAIGN;
    static final int ROWS_PER_COMPANY = 1 + CAMPAIGNS_PER_COMPANY + ADS_PER_COMPANY;
    static final List<String> NODES = List.of("legacy", "pg-b", "pg-c", "pg-d");
    static final List<String> TABLES = List.of("companies", "campaigns", "ads");
    static final Map<String, String> ENV = Map.of();
    static final io.micrometer.core.instrument.simple.SimpleMeterRegistry METERS =
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    /** Flyway logs through java.util.logging when SLF4J has no provider; kept as the CLI's main keeps it. */
    static final java.util.logging.Logger FLYWAY_LOG = java.util.logging.Logger.getLogger("org.flywaydb");

    /** The application's schema, as it was made before shardring: constraints added after the bulk load. */
    static final String SCHEMA = """
            CREATE TABLE companies (id bigserial, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE campaigns (company_id bigint NOT NULL, id bigserial, name text NOT NULL,
                budget_cents bigint NOT NULL DEFAULT 0);
            CREATE TABLE ads (company_id bigint NOT NULL, id bigserial, campaign_id bigint NOT NULL,
                payload text NOT NULL, clicks bigint NOT NULL DEFAULT 0);
            """;
    static final String CONSTRAINTS = """
            ALTER TABLE companies ADD PRIMARY KEY (id);
            ALTER TABLE campaigns ADD PRIMARY KEY (company_id, id);
            ALTER TABLE ads ADD PRIMARY KEY (company_id, id);
            ALTER TABLE campaigns ADD FOREIGN KEY (company_id) REFERENCES companies (id);
            ALTER TABLE ads ADD FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id);
            CREATE INDEX ads_campaign ON ads (company_id, campaign_id);
            """;
    /** The baseline's tables: the same columns, primary keys and index; no foreign keys, guard or other trigger. */
    static final String BASELINE_SCHEMA = """
            CREATE SCHEMA baseline;
            CREATE TABLE baseline.companies (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
            CREATE TABLE baseline.campaigns (company_id bigint NOT NULL, id bigint NOT NULL, name text NOT NULL,
                budget_cents bigint NOT NULL, PRIMARY KEY (company_id, id));
            CREATE TABLE baseline.ads (company_id bigint NOT NULL, id bigint NOT NULL, campaign_id bigint NOT NULL,
                payload text NOT NULL, clicks bigint NOT NULL, PRIMARY KEY (company_id, id));
            CREATE INDEX ads_campaign ON baseline.ads (company_id, campaign_id);
            """;
    static final Map<String, String> COLUMNS = Map.of("companies", "id, name, created_at",
            "campaigns", "company_id, id, name, budget_cents", "ads", "company_id, id, campaign_id, payload, clicks");
    static final Map<String, String> KEY = Map.of("companies", "id", "campaigns", "company_id", "ads", "company_id");
    static final String FILLER = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-abcdefghijklmnopqrstuvwxyz"
            + "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private AdoptBench() {
    }

    static void log(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    // ---- records

    /** What one writer did: its calls' start, duration and key (and whether through the router); what it was told. */
    static final class WriterLog {
        final Longs start = new Longs();
        final Longs dur = new Longs();
        final Longs key = new Longs();
        final Longs routed = new Longs();
        /** Acknowledged inserts: table index, key, id. */
        final Longs inserted = new Longs();
        /** Acknowledged click increments by ad id; the ad's key in adKey. */
        final Map<Long, Long> clicks = new HashMap<>();
        final Map<Long, Long> adKey = new HashMap<>();
        /** Ads whose click count is unknown: an increment threw, and may or may not have committed. */
        final Set<Long> uncertainAds = new HashSet<>();
        /** Rows this writer inserted (ad id, company) and companies it made (company, first campaign). */
        final Longs ownAds = new Longs();
        final Longs ownCompanies = new Longs();
        long appErrors;
        String firstAppError;
        volatile boolean throughRouter;
        Throwable error;
    }

    // ---- main

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        long rowsWanted = args.length > 1 ? Long.parseLong(args[1]) : 2_200_000L;
        double writeRate = args.length > 2 ? Double.parseDouble(args[2]) : 500;
        int parallel = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        int copyStreams = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        FLYWAY_LOG.setLevel(java.util.logging.Level.WARNING);
        long runStart = System.nanoTime();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode out = mapper.createObjectNode();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        out.put("suite", "adopt");
        out.put("timestamp", stamp);
        out.put("load_average_before", Machine.loadAverage());
        log("load average before: %s", Machine.loadAverage());

        Path work = Files.createTempDirectory("shardring-adopt-bench");
        try (PgCluster pg = PgCluster.builder().shards(4).serverSetting("max_wal_size", "4GB")
                .serverSetting("checkpoint_timeout", "30min").serverSetting("shared_buffers", "256MB")
                .serverSetting("maintenance_work_mem", "256MB")
                // as the move suite runs (the testkit's default is on); -Dadoptbench.synchronous_commit=on to compare
                .serverSetting("synchronous_commit", System.getProperty("adoptbench.synchronous_commit", "off"))
                .start()) {
            run(out, pg, work, rowsWanted, writeRate, parallel, copyStreams, runStart);
            out.put("postgresql", Machine.serverVersion(pg.shard(0)));
            out.put("backend", pg.backend());
        } finally {
            Files.deleteIfExists(work.resolve("shardring.yaml"));
            Files.deleteIfExists(work);
        }
        out.put("load_average_after", Machine.loadAverage());
        out.put("java", System.getProperty("java.version"));
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("cpu", Machine.cpuModel());
        out.put("memory_bytes", Machine.totalMemory());
        out.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        out.put("synchronous_commit", System.getProperty("adoptbench.synchronous_commit", "off"));
        out.with("seconds").put("run_total", (System.nanoTime() - runStart) / 1e9);
        Files.createDirectories(outDir);
        mapper.writeValue(outDir.resolve("adopt-" + stamp + ".json").toFile(), out);
        mapper.writeValue(outDir.resolve("adopt-latest.json").toFile(), out);
        log("load average after: %s", Machine.loadAverage());
        log("wrote %s", outDir.resolve("adopt-" + stamp + ".json"));
        log("RESULT adopt rows=%d seconds=%.2f rows_per_s=%.0f copy_rows_per_s=%.0f ratio=%.3f moved_share=%.4f"
                + " app_errors=%d lost=%d duplicated=%d id_collisions=%d pause_p99_ms=%.1f",
                out.get("rows").asLong(), out.get("seconds_move").asDouble(), out.get("rows_per_s").asDouble(),
                out.get("copy_rows_per_s").asDouble(), out.get("ratio").asDouble(), out.get("moved_share").asDouble(),
                out.get("app_errors").asLong(), out.get("lost").asLong(), out.get("duplicated").asLong(),
                out.get("id_collisions").asLong(), out.get("pause_p99_ms").asDouble());
        // embedded servers and pools are closed; daemon threads do not hold the JVM
        System.exit(0);
    }

    private static void run(ObjectNode out, PgCluster pg, Path work, long rowsWanted, double writeRate, int parallel,
            int copyStreams, long runStart) throws Exception {
        PgShard legacy = pg.shard(0);
        PgShard other = pg.shard(1);
        ObjectNode sec = out.putObject("seconds");

        // ---- 1. the application's database, by plain SQL
        long companies = (rowsWanted + ROWS_PER_COMPANY - 1) / ROWS_PER_COMPANY;
        long[] loaded = {companies, companies * CAMPAIGNS_PER_COMPANY, companies * ADS_PER_COMPANY};
        long loadedRows = loaded[0] + loaded[1] + loaded[2];
        log("loading %,d companies, %,d campaigns, %,d ads (%,d rows) into legacy", loaded[0], loaded[1], loaded[2],
                loadedRows);
        long t0 = System.nanoTime();
        load(legacy, loaded);
        sec.put("load", (System.nanoTime() - t0) / 1e9);
        log("loaded in %.1f s", (System.nanoTime() - t0) / 1e9);

        Path config = work.resolve("shardring.yaml");
        Files.writeString(config, config(pg), StandardCharsets.UTF_8);
        ShardringConfig cfg = ShardringYaml.load(config);
        out.put("configuration", Files.readString(config));

        // ---- 2. the split's ranges, known before adoption: version 1 is the configuration with legacy alone
        TopologyChange split = TopologyChange.all(List.of(TopologyChange.addNode(node(cfg, "pg-b")),
                TopologyChange.addNode(node(cfg, "pg-c")), TopologyChange.addNode(node(cfg, "pg-d"))));
        Plan plan0;
        try (NodePools pools = new NodePools(ENV::get)) {
            cfg.topology().nodes().values().forEach(pools::add);
            plan0 = Planner.plan(Adoption.firstVersion(cfg, "legacy"), split, pools, false);
        }
        List<TokenRange> union = merged(plan0.jobs());
        log("the split: %d jobs, moved share %.4f, %s ranges; the baseline's predicate: %d merged ranges",
                plan0.jobs().size(), plan0.movedShare(), plan0.jobs().stream().map(j -> Integer.toString(
                        j.ranges().size())).toList(), union.size());

        // ---- 3. the baseline, idle, and what the range predicates cost the source
        ObjectNode base = out.putObject("baseline");
        ObjectNode diag = out.putObject("diagnostics_seconds_idle");
        predicateCosts(legacy, plan0, union, diag);
        checkpoint(pg);
        double[] idle = baseline(legacy, other, union, false);
        long expectedMoving = (long) idle[1];
        base.put("idle_text_seconds", idle[0]);
        base.put("idle_text_rows_per_s", idle[1] / idle[0]);
        log("baseline COPY|COPY idle (text): %,d rows in %.2f s = %.0f rows/s", (long) idle[1], idle[0],
                idle[1] / idle[0]);
        checkpoint(pg);
        double[] idleBin = baseline(legacy, other, union, true);
        base.put("idle_binary_seconds", idleBin[0]);
        base.put("idle_binary_rows_per_s", idleBin[1] / idleBin[0]);
        log("baseline COPY|COPY idle (binary, the mover's format): %.2f s = %.0f rows/s", idleBin[0],
                idleBin[1] / idleBin[0]);
        checkpoint(pg);

        // ---- 4. the application writes to its database directly
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(legacy.jdbcUrl());
        hc.setUsername(legacy.user());
        if (legacy.password() != null && !legacy.password().isEmpty()) {
            hc.setPassword(legacy.password());
        }
        hc.setMaximumPoolSize(WRITERS + 2);
        hc.setPoolName("legacy-app");
        hc.addDataSourceProperty("ApplicationName", "legacy-app");
        HikariDataSource direct = new HikariDataSource(hc);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong routerRef = new AtomicLong(); // 0 until the switch; the router itself is in holder[0]
        ShardedDataSource[] holder = new ShardedDataSource[1];
        List<WriterLog> logs = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        long nanosPerOp = writeRate > 0 ? (long) (1e9 * WRITERS / writeRate) : 0;
        for (int w = 0; w < WRITERS; w++) {
            WriterLog wl = new WriterLog();
            logs.add(wl);
            int me = w;
            Thread th = new Thread(() -> writer(me, direct, holder, routerRef, loaded[0], wl, stop, nanosPerOp),
                    "writer-" + w);
            th.setDaemon(true);
            writers.add(th);
        }
        long writersStart = System.nanoTime();
        writers.forEach(Thread::start);
        Thread.sleep(3000);

        // ---- 5. adopt --execute while they write
        List<String> adoptOut = new ArrayList<>();
        long adoptStart = System.nanoTime();
        int adoptCode = cli(null, adoptOut, "adopt", "--execute", "--config", config.toString(), "--output", "text");
        long adoptEnd = System.nanoTime();
        if (adoptCode != 0) {
            throw new IllegalStateException("adopt --execute exited with " + adoptCode + ":\n"
                    + String.join("\n", adoptOut));
        }
        log("adopted in %.2f s", (adoptEnd - adoptStart) / 1e9);
        sec.put("adopt_execute", (adoptEnd - adoptStart) / 1e9);
        ArrayNode ao = out.putObject("adopt").putArray("output");
        adoptOut.forEach(ao::add);
        Thread.sleep(2000);

        // ---- 6. the switch: the writers go through a router from now on, the direct pool is closed
        ShardedDataSource router = ShardedDataSource.builder(ShardringYaml.load(config)).meterRegistry(METERS).build();
        holder[0] = router;
        routerRef.set(1);
        long switchAt = System.nanoTime();
        for (WriterLog wl : logs) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!wl.throughRouter && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            if (!wl.throughRouter) {
                throw new IllegalStateException("a writer did not switch to the router within 30 s");
            }
        }
        direct.close();
        log("writers switched to the router");
        Thread.sleep(2000);

        // ---- 7. the baseline under the same writers, right before the move
        checkpoint(pg);
        double[] busyText = baseline(legacy, other, union, false);
        base.put("under_writers_text_seconds", busyText[0]);
        base.put("under_writers_text_rows_per_s", busyText[1] / busyText[0]);
        base.put("under_writers_text_rows", (long) busyText[1]);
        log("baseline COPY|COPY under the writers (text): %,d rows in %.2f s = %.0f rows/s", (long) busyText[1],
                busyText[0], busyText[1] / busyText[0]);
        checkpoint(pg);
        double[] busyBin = baseline(legacy, other, union, true);
        base.put("under_writers_binary_seconds", busyBin[0]);
        base.put("under_writers_binary_rows_per_s", busyBin[1] / busyBin[0]);
        base.put("under_writers_binary_rows", (long) busyBin[1]);
        log("baseline COPY|COPY under the writers (binary): %,d rows in %.2f s = %.0f rows/s", (long) busyBin[1],
                busyBin[0], busyBin[1] / busyBin[0]);
        checkpoint(pg);
        // the stronger of the two formats is the baseline: binary was 10-35% faster in most pairs measured, not all
        double[] busy = busyBin[1] / busyBin[0] >= busyText[1] / busyText[0] ? busyBin : busyText;
        base.put("chosen", busy == busyBin ? "under_writers_binary" : "under_writers_text");
        // the move's scans find the source's pages where the baselines' did
        diag.put("warmup_count_before_move", timeQuery(legacy, "SELECT count(*) FROM ads WHERE "
                + TokenRange.toSql(union, KeyType.BIGINT, "company_id")));

        // ---- 8. add-node pg-b pg-c pg-d --execute while they write
        List<MoveEvent> events = new ArrayList<>();
        Plan[] planned = new Plan[1];
        long[] plannedAt = new long[1];
        AtomicLong lastProgressLog = new AtomicLong();
        CliObserver observer = new CliObserver() {
            @Override
            public void planned(Plan plan) {
                planned[0] = plan;
                plannedAt[0] = System.nanoTime();
            }

            @Override
            public void moveEvent(long moveId, int job, String phase, String event, String detail, long rows,
                    long lagBytes) {
                long now = System.nanoTime();
                synchronized (events) {
                    events.add(new MoveEvent(now, job, phase, event, detail, rows, lagBytes));
                }
                if (!"progress".equals(event)) {
                    log("  %8.3f s  job %d %-8s %-11s %s%s", (now - runStart) / 1e9, job, phase, event,
                            detail == null ? "" : detail, rows >= 0 ? " rows=" + rows : "");
                } else if (now - lastProgressLog.get() > 5_000_000_000L) {
                    lastProgressLog.set(now);
                    log("  %8.3f s  job %d %s %s rows=%d", (now - runStart) / 1e9, job, phase, detail, rows);
                }
            }
        };
        long versionBefore = router.topology().version();
        // when the application's router first routes by each version the cutovers publish
        Map<Long, Long> versionSeen = new java.util.concurrent.ConcurrentHashMap<>();
        Thread switchWatch = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                versionSeen.putIfAbsent(router.topology().version(), System.nanoTime());
                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
            }
        }, "switch-watch");
        switchWatch.setDaemon(true);
        switchWatch.start();
        List<String> args = new ArrayList<>(List.of("add-node", "pg-b", "pg-c", "pg-d", "--execute", "--config",
                config.toString(), "--output", "text"));
        if (parallel > 0) {
            args.add("--parallel");
            args.add(Integer.toString(parallel));
        }
        if (copyStreams > 0) {
            args.add("--copy-streams");
            args.add(Integer.toString(copyStreams));
        }
        String loadBeforeMove = Machine.loadAverage();
        List<String> splitOut = new ArrayList<>();
        long cliStart = System.nanoTime();
        int splitCode = cli(observer, splitOut, args.toArray(new String[0]));
        long cliEnd = System.nanoTime();
        if (splitCode != 0) {
            throw new IllegalStateException("add-node --execute exited with " + splitCode);
        }
        switchWatch.interrupt();
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
        Plan plan = planned[0];
        if (plan == null || plan.jobs().size() != 3) {
            throw new IllegalStateException("the CLI planned " + (plan == null ? "nothing" : plan.render()));
        }
        for (int j = 0; j < 3; j++) {
            if (!plan.jobs().get(j).ranges().equals(plan0.jobs().get(j).ranges())) {
                throw new IllegalStateException("job " + j + " of the CLI's plan has other ranges than the"
                        + " baseline's plan");
            }
        }

        try (NodePools pools = new NodePools(ENV::get)) {
            cfg.topology().nodes().values().forEach(pools::add);
            Catalog catalog = Catalog.open(pools.apply("legacy"));
            Topology fin = catalog.load();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (router.topology().version() < fin.version() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            figures(out, pg, plan, fin, events, logs, loaded, expectedMoving, busy, idle, runStart, cliStart, cliEnd,
                    plannedAt[0], adoptStart, adoptEnd, switchAt, writersStart, writersEnd, writeRate, parallel,
                    copyStreams, versionBefore, versionSeen);
            out.put("load_average_before_move", loadBeforeMove);
            ObjectNode ord = out.with("check").putObject("ordinals");
            new NodeOrdinals(catalog.dataSource()).active().forEach(ord::put);
            out.with("check").put("final_topology_version", fin.version());
            out.with("check").put("router_topology_version", router.topology().version());
        } finally {
            router.close();
        }
    }

    // ---- the figures

    private static void figures(ObjectNode out, PgCluster pg, Plan plan, Topology fin, List<MoveEvent> events,
            List<WriterLog> logs, long[] loaded, long expectedMoving, double[] busy, double[] idle, long runStart,
            long cliStart, long cliEnd, long plannedAt, long adoptStart, long adoptEnd, long switchAt,
            long writersStart, long writersEnd, double writeRate, int parallel, int copyStreams, long versionBefore,
            Map<Long, Long> versionSeen) throws SQLException {
        List<MoveJob> jobs = plan.jobs();
        long rows = plan.rowsToMove();
        long moveStart = events.get(0).nanos();
        long[] cutStart = new long[3];
        long[] published = new long[3];
        long[] cutEnd = new long[3];
        String[] pauseDetail = new String[3];
        for (int j = 0; j < 3; j++) {
            cutStart[j] = first(events, j, "cutover", "started");
            cutEnd[j] = last(events, j, "cutover", "finished");
            MoveEvent p = find(events, j, "cutover", "info", "paused");
            published[j] = p.nanos();
            pauseDetail[j] = p.detail();
        }
        long lastPublished = Arrays.stream(published).max().getAsLong();
        double seconds = (lastPublished - moveStart) / 1e9;
        double rowsPerS = rows / seconds;
        double copyRowsPerS = busy[1] / busy[0];

        // ---- where the time went, job by job
        ObjectNode sec = out.with("seconds");
        sec.put("add_node_cli_total", (cliEnd - cliStart) / 1e9);
        sec.put("add_node_planning", (plannedAt - cliStart) / 1e9);
        sec.put("add_node_planned_to_move_start", (moveStart - plannedAt) / 1e9);
        sec.put("move_start_to_last_cutover_published", seconds);
        sec.put("move_start_to_move_done", (events.get(events.size() - 1).nanos() - moveStart) / 1e9);
        ArrayNode perJob = out.putArray("jobs");
        double verifyInside = 0;
        long copiedRows = 0;
        long firstCopyStart = Long.MAX_VALUE;
        long lastCopied = 0;
        for (int j = 0; j < 3; j++) {
            MoveJob job = jobs.get(j);
            ObjectNode o = perJob.addObject();
            o.put("pair", job.pair());
            o.put("share", job.share());
            o.put("ranges", job.ranges().size());
            o.put("rows", job.rows());
            ObjectNode rt = o.putObject("rows_per_table");
            job.rowsPerTable().forEach(rt::put);
            long prepS = first(events, j, "prepare", "started");
            long prepE = last(events, j, "prepare", "finished");
            long copyS = first(events, j, "copy", "started");
            long copyE = last(events, j, "copy", "finished");
            MoveEvent copied = lastWithSuffix(events, j, "copy", " copied");
            long checkS = first(events, j, "check", "started");
            long checkE = last(events, j, "check", "finished");
            long fenced = first(events, j, "cutover", "fenced");
            long verS = first(events, j, "verify", "started");
            long verE = last(events, j, "verify", "finished");
            long clS = first(events, j, "cleanup", "started");
            long clE = last(events, j, "cleanup", "finished");
            ObjectNode t = o.putObject("seconds_from_move_start");
            t.put("prepare_started", (prepS - moveStart) / 1e9);
            t.put("copy_started", (copyS - moveStart) / 1e9);
            t.put("snapshot_copied", (copied.nanos() - moveStart) / 1e9);
            t.put("caught_up", (copyE - moveStart) / 1e9);
            t.put("check_finished", (checkE - moveStart) / 1e9);
            t.put("cutover_started", (cutStart[j] - moveStart) / 1e9);
            t.put("fenced", (fenced - moveStart) / 1e9);
            t.put("published", (published[j] - moveStart) / 1e9);
            t.put("verify_finished", (verE - moveStart) / 1e9);
            t.put("cleanup_finished", (clE - moveStart) / 1e9);
            ObjectNode d = o.putObject("seconds");
            d.put("prepare", (prepE - prepS) / 1e9);
            d.put("copy_snapshot", (copied.nanos() - copyS) / 1e9);
            d.put("subscribe_and_catch_up", (copyE - copied.nanos()) / 1e9);
            d.put("fk_check", (checkE - checkS) / 1e9);
            d.put("waiting_for_cutover", (cutStart[j] - checkE) / 1e9);
            d.put("cutover_catch_up_before_fence", (fenced - cutStart[j]) / 1e9);
            d.put("fence_to_published", (published[j] - fenced) / 1e9);
            d.put("verify", (verE - verS) / 1e9);
            d.put("cleanup", (clE - clS) / 1e9);
            o.put("rows_copied", copied.rows());
            o.put("copy_snapshot_rows_per_s", copied.rows() / ((copied.nanos() - copyS) / 1e9));
            copiedRows += copied.rows();
            firstCopyStart = Math.min(firstCopyStart, copyS);
            lastCopied = Math.max(lastCopied, copied.nanos());
            o.put("mover_reported_pause", pauseDetail[j]);
            cleanupBatches(o, events, j);
            // the cutovers publish versions in job order, one each
            Long seen = versionSeen.get(versionBefore + 1 + j);
            o.put("router_switched_ms_after_publish", seen == null ? -1 : (seen - published[j]) / 1e6);
            if (verE <= lastPublished) {
                verifyInside += (verE - verS) / 1e9;
            }
        }
        long firstPrep = first(events, 0, "prepare", "started");
        long lastPrep = 0;
        long firstCopy = Long.MAX_VALUE;
        long lastCheck = 0;
        for (int j = 0; j < 3; j++) {
            lastPrep = Math.max(lastPrep, last(events, j, "prepare", "finished"));
            firstCopy = Math.min(firstCopy, first(events, j, "copy", "started"));
            lastCheck = Math.max(lastCheck, last(events, j, "check", "finished"));
        }
        sec.put("prepare_all_jobs", (lastPrep - firstPrep) / 1e9);
        sec.put("copy_catch_up_check_all_jobs", (lastCheck - firstCopy) / 1e9);
        sec.put("first_cutover_to_last_published", (lastPublished - Arrays.stream(cutStart).min().getAsLong()) / 1e9);
        sec.put("verify_inside_move_seconds", verifyInside);
        sec.put("copy_snapshot_all_jobs", (lastCopied - firstCopyStart) / 1e9);
        // the jobs' snapshot copies together, from the first copy's start to the last table copied: what running the
        // jobs at once (--parallel) gains or loses against one stream
        out.put("copy_phase_rows_per_s", copiedRows / ((lastCopied - firstCopyStart) / 1e9));
        MoveEvent prepInfo = findOrNull(events, 0, "prepare", "info", "schema created");
        if (prepInfo != null) {
            out.put("schema_clone_event", prepInfo.detail());
            sec.put("job0_prepare_until_schema_cloned", (prepInfo.nanos() - firstPrep) / 1e9);
        }

        // ---- pause: writes to keys of job j that started within [cutover j started - 100 ms, cutover j finished]
        Map<Long, Integer> jobOfKey = new HashMap<>();
        Longs inWin = new Longs();
        Longs corrected = new Longs();
        Longs outWin = new Longs();
        Longs staying = new Longs();
        Longs duringAdopt = new Longs();
        Longs directOther = new Longs();
        long writes = 0;
        long appErrors = 0;
        String firstAppError = null;
        for (WriterLog wl : logs) {
            appErrors += wl.appErrors;
            if (firstAppError == null) {
                firstAppError = wl.firstAppError;
            }
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            long[] outside = new long[3];
            for (int i = 0; i < wl.start.n; i++) {
                writes++;
                long st = wl.start.a[i];
                long d = wl.dur.a[i];
                if (wl.routed.a[i] == 0) {
                    (st >= adoptStart && st <= adoptEnd ? duringAdopt : directOther).add(d);
                    continue;
                }
                lo = Math.min(lo, st);
                hi = Math.max(hi, st);
                int j = jobOfKey.computeIfAbsent(wl.key.a[i], k -> jobOf(jobs, k));
                if (j < 0) {
                    staying.add(d);
                } else if (st >= cutStart[j] - 100_000_000L && st <= cutEnd[j]) {
                    inWin.add(d);
                } else {
                    outWin.add(d);
                    outside[j]++;
                }
            }
            // coordinated omission, as the move suite corrects it: a closed-loop writer blocked by a fence issues no
            // other write, so each in-window write of duration d also counts d - k * interval, interval being the
            // writer's mean time between writes to that job's keys outside the window
            for (int i = 0; i < wl.start.n; i++) {
                if (wl.routed.a[i] == 0) {
                    continue;
                }
                int j = jobOfKey.get(wl.key.a[i]);
                long st = wl.start.a[i];
                if (j < 0 || st < cutStart[j] - 100_000_000L || st > cutEnd[j]) {
                    continue;
                }
                long active = Math.max(1, (hi - lo) - (cutEnd[j] - cutStart[j] + 100_000_000L));
                long interval = outside[j] == 0 ? Long.MAX_VALUE : active / outside[j];
                long d = wl.dur.a[i];
                corrected.add(d);
                for (long m = d - interval; interval > 0 && m >= interval; m -= interval) {
                    corrected.add(m);
                }
            }
        }

        // ---- every row on every node against the loaded and the acknowledged ones
        Check check = check(pg, fin, logs, loaded);

        // ---- JSON
        out.put("rows", rows);
        out.put("seconds_move", seconds);
        out.put("rows_per_s", rowsPerS);
        out.put("copy_rows_per_s", copyRowsPerS);
        out.put("ratio", rowsPerS / copyRowsPerS);
        out.put("ratio_vs_idle_copy", rowsPerS / Math.max(idle[1] / idle[0],
                out.get("baseline").get("idle_binary_rows_per_s").asDouble()));
        out.put("ratio_vs_text_copy_under_writers", rowsPerS / out.get("baseline").get("under_writers_text_rows_per_s")
                .asDouble());
        out.put("moved_share", plan.movedShare());
        out.put("app_errors", appErrors);
        out.put("lost", check.lostLoaded + check.lostInserted + check.lostClicks);
        out.put("duplicated", check.onNonOwner + check.clicksTooMany);
        out.put("id_collisions", check.idCollisions);
        out.put("pause_p99_ms", pct(corrected, 99));
        out.put("pause_raw_p50_ms", pct(inWin, 50));
        out.put("pause_raw_p99_ms", pct(inWin, 99));
        out.put("pause_max_ms", pct(inWin, 100));
        out.put("pause_count", inWin.n);
        out.put("pause_corrected_p50_ms", pct(corrected, 50));
        out.put("pause_corrected_count", corrected.n);
        out.put("reference_moving_outside_window_p99_ms", pct(outWin, 99));
        out.put("reference_staying_p99_ms", pct(staying, 99));
        out.put("adopt_direct_writes_p99_ms", pct(duringAdopt, 99));
        out.put("adopt_direct_writes_max_ms", pct(duringAdopt, 100));
        out.put("adopt_direct_writes_count", duringAdopt.n);
        out.put("direct_writes_outside_adopt_p99_ms", pct(directOther, 99));
        out.put("rows_loaded", loaded[0] + loaded[1] + loaded[2]);
        out.put("rows_moving_counted_by_baseline_idle", expectedMoving);
        out.put("parallel_option", parallel == 0 ? "none (the default: one job per distinct target, at most 4)"
                : "--parallel " + parallel);
        out.put("parallel_jobs", parallel == 0 ? Math.min(4, jobs.size()) : parallel);
        out.put("copy_streams_option", copyStreams == 0 ? "none (the default: 1)" : "--copy-streams " + copyStreams);
        io.micrometer.core.instrument.Timer waited = METERS.find("shardring.cutover.wait").timer();
        if (waited != null) {
            out.put("router_cutover_waits", waited.count());
            out.put("router_cutover_wait_max_ms", waited.max(java.util.concurrent.TimeUnit.MILLISECONDS));
        }
        out.put("router_topology_version_before_move", versionBefore);
        ObjectNode p = out.putObject("plan");
        p.put("change", plan.change());
        p.put("moved_share", plan.movedShare());
        p.put("rows_to_move", rows);
        p.put("jobs", jobs.size());
        ObjectNode wr = out.putObject("writers");
        wr.put("threads", WRITERS);
        wr.put("target_ops_per_s", writeRate);
        wr.put("calls_acknowledged", writes);
        wr.put("calls_per_s", writes / ((writersEnd - writersStart) / 1e9));
        wr.put("app_errors", appErrors);
        wr.put("first_app_error", firstAppError);
        wr.put("moving_calls_in_window", inWin.n);
        wr.put("moving_calls_outside_window", outWin.n);
        wr.put("staying_calls_through_router", staying.n);
        wr.put("direct_calls", duringAdopt.n + directOther.n);
        wr.put("switch_to_router_s_after_start", (switchAt - writersStart) / 1e9);
        ObjectNode ch = out.with("check");
        ch.put("rows_scanned", check.scanned);
        ch.put("rows_per_node", check.perNode);
        ch.put("lost_loaded_rows", check.lostLoaded);
        ch.put("lost_acknowledged_inserts", check.lostInserted);
        ch.put("acknowledged_inserts", check.acknowledgedInserts);
        ch.put("ads_with_fewer_clicks_than_acknowledged", check.lostClicks);
        ch.put("ads_with_more_clicks_than_acknowledged", check.clicksTooMany);
        ch.put("ads_with_acknowledged_clicks", check.clickedAds);
        ch.put("rows_on_non_owner", check.onNonOwner);
        ch.put("id_collisions", check.idCollisions);
        ch.put("unexpected_rows", check.unexpected);
        ch.put("foreign_key_violations", check.fkViolations);
        ObjectNode ranges = ch.putObject("rows_by_id_range_ordinal");
        check.idRanges.forEach(ranges::put);
        ObjectNode def = out.putObject("definitions");
        def.put("rows", "the plan's rows to move: count(*) of the three jobs' ranges on legacy in every sharded table,"
                + " counted by add-node's planner right before the move (writers add a few more during it)");
        def.put("seconds", "from the move's first event (job 0's prepare started; add-node's planning and its check"
                + " for clients that bypass the router come before and are in seconds.add_node_*) to the last job's"
                + " cutover 'paused N ms' event, when its topology version is published: prepare of the three jobs"
                + " (shardring schema, ordinal, the schema cloned from legacy, sequences, guard), the parallel copies,"
                + " catch-up, foreign-key checks, and the cutovers one after another; the mover verifies each job right"
                + " after its cutover, so the verify of the jobs cut over first lies inside this span"
                + " (seconds.verify_inside_move_seconds); the last verify and every cleanup come after it and are timed"
                + " in jobs[].seconds");
        def.put("rows_per_s", "rows / seconds");
        def.put("copy_rows_per_s", "the baseline under the same writers, right before the move: COPY (SELECT cols"
                + " FROM t WHERE <the three jobs' ranges merged where adjacent, as hashint8extended(key, 0) BETWEEN"
                + " ... OR ...>) TO STDOUT on legacy, piped on one thread in 64 KiB chunks into COPY baseline.t FROM"
                + " STDIN on pg-b (same columns, primary keys and index, no foreign keys, no guard, no triggers), one"
                + " stream per table, companies then campaigns then ads, one transaction per side; rows / time from"
                + " the first COPY to the commit. Run in text format, then in binary format (the mover's); the faster"
                + " of the two is copy_rows_per_s (baseline.chosen). The same copies idle, before the writers started"
                + " (the first copy into pg-b, text, pays for a fresh server's first bulk write), are in baseline");
        def.put("ratio_vs_idle_copy", "rows_per_s over the faster idle baseline (before the writers started)");
        def.put("ratio", "rows_per_s / copy_rows_per_s");
        def.put("moved_share", "the plan's share of the keyspace that changes owner");
        def.put("app_errors", "writer calls that threw: direct JDBC transactions before the switch, inTransaction"
                + " calls after it (the writers retry nothing themselves), and updates that found no row");
        def.put("lost", "loaded rows and acknowledged inserted rows not found, with their key, on their owner in the"
                + " final topology; plus ads whose clicks there are fewer than the acknowledged increments");
        def.put("duplicated", "rows present on a node that does not own them in the final topology (after cleanup; a"
                + " row on two nodes is on a non-owner), plus ads with more clicks than acknowledged increments (an"
                + " increment applied twice); ads whose increment threw are left out of both");
        def.put("id_collisions", "per table, rows that share their id with another row of a different key, on any"
                + " node: an id drawn twice");
        def.put("pause_p99_ms", "p99 of the latency of inTransaction calls to keys of job j that started within"
                + " [job j's cutover started - 100 ms, job j's cutover finished], corrected for coordinated omission:"
                + " each such call of duration d also counts d - k*interval (k = 1, 2, ... while >= interval), interval"
                + " being that writer's mean time between calls to job j's keys outside the window; raw figures in"
                + " pause_raw_*");
        def.put("writers", "4 threads, together at target_ops_per_s operations a second (each paced to its share, no"
                + " catching up beyond the schedule): 40% insert an ad (DEFAULT id, RETURNING id), 10% insert a"
                + " campaign, 45% add a click to an ad (3 of 4 loaded, 1 of 4 one it inserted), 5% a new company with"
                + " a campaign and an ad in one transaction (before the switch its id from the companies sequence,"
                + " after it from ShardedDataSource.newKey()); direct JDBC to legacy until the switch, then"
                + " ShardedDataSource.inTransaction(company, ...)");
        def.put("seconds_per_job", "jobs[].seconds: prepare; copy_snapshot (copy started to the last table's 'copied'"
                + " progress, which includes creating the publication and slot); subscribe_and_catch_up (to copy"
                + " finished: subscription made, marker round trip under 250 ms); fk_check; waiting_for_cutover (the"
                + " cutovers run one job after another, each followed by its verify); cutover_catch_up_before_fence;"
                + " fence_to_published; verify; cleanup (after every job's verify)");
        ArrayNode ev = out.putArray("events");
        synchronized (events) {
            for (MoveEvent e : events) {
                if (e.event().equals("progress") && (e.detail() == null || !(e.detail().endsWith(" copied")
                        || e.detail().startsWith("caught up")))) {
                    continue;
                }
                ev.addObject().put("t_ms_from_move_start", (e.nanos() - moveStart) / 1e6).put("job", e.job())
                        .put("phase", e.phase()).put("event", e.event()).put("detail", e.detail()).put("rows", e.rows())
                        .put("lag_bytes", e.lag());
            }
        }

        log("move: %,d rows in %.2f s (first event to last cutover published) = %.0f rows/s; baseline under writers"
                + " %.0f rows/s; ratio %.3f", rows, seconds, rowsPerS, copyRowsPerS, rowsPerS / copyRowsPerS);
        for (int j = 0; j < 3; j++) {
            log("  job %d %s: %s", j, jobs.get(j).pair(), perJob.get(j).get("seconds"));
        }
        log("pause (corrected) p50 %.1f ms p99 %.1f ms (%d samples); raw: %d calls in windows, p99 %.1f ms, max %.1f ms",
                pct(corrected, 50), pct(corrected, 99), corrected.n, inWin.n, pct(inWin, 99), pct(inWin, 100));
        log("adopt under direct writers: %d calls during it, p99 %.1f ms, max %.1f ms", duringAdopt.n,
                pct(duringAdopt, 99), pct(duringAdopt, 100));
        log("check: %,d rows scanned (%s); lost loaded %d, lost inserted %d of %d, clicks short %d / over %d of %d ads,"
                + " on non-owner %d, id collisions %d, unexpected %d, fk violations %d", check.scanned, check.perNode,
                check.lostLoaded, check.lostInserted, check.acknowledgedInserts, check.lostClicks, check.clicksTooMany,
                check.clickedAds, check.onNonOwner, check.idCollisions, check.unexpected, check.fkViolations);
    }

    /**
     * The cleanup's batches of ads, each its own DELETE of up to 10,000 rows told by a progress event: whether a batch
     * takes longer the more rows the batches before it deleted (each batch's scan passes their dead rows again).
     */
    private static void cleanupBatches(ObjectNode o, List<MoveEvent> events, int job) {
        Longs gaps = new Longs();
        long prev = 0;
        synchronized (events) {
            for (MoveEvent e : events) {
                if (e.job() != job || !e.phase().equals("cleanup")) {
                    continue;
                }
                boolean ads = e.event().equals("progress") && e.detail() != null && e.detail().endsWith("public.ads");
                if (ads && prev != 0) {
                    gaps.add(e.nanos() - prev);
                }
                // the first batch of ads is timed from the last event before it (the end of campaigns)
                prev = e.nanos();
            }
        }
        ArrayNode ms = o.putArray("cleanup_ads_batch_ms");
        for (int i = 0; i < gaps.n; i++) {
            ms.add(Math.round(gaps.a[i] / 1e5) / 10.0);
        }
    }

    static int jobOf(List<MoveJob> jobs, long key) {
        long h = KeyHash.ofLong(key);
        for (int j = 0; j < jobs.size(); j++) {
            if (jobs.get(j).containsHash(h)) {
                return j;
            }
        }
        return -1;
    }

    // ---- the application's writers

    /** One operation of the application, on one connection in one transaction. */
    private interface Op {
        void run(Connection c) throws SQLException;
    }

    private static void writer(int me, HikariDataSource direct, ShardedDataSource[] holder, AtomicLong routerSet,
            long companies, WriterLog wl, AtomicBoolean stop, long nanosPerOp) {
        SplittableRandom rnd = new SplittableRandom(7000 + me * 7919L);
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
                ShardedDataSource router = routerSet.get() == 1 ? holder[0] : null;
                int dice = rnd.nextInt(100);
                long company;
                long campaign;
                if (wl.ownCompanies.n > 0 && rnd.nextInt(10) == 0) {
                    int i = rnd.nextInt(wl.ownCompanies.n / 2) * 2;
                    company = wl.ownCompanies.a[i];
                    campaign = wl.ownCompanies.a[i + 1];
                } else {
                    company = 1 + rnd.nextLong(companies);
                    campaign = (company - 1) * CAMPAIGNS_PER_COMPANY + 1 + rnd.nextInt(CAMPAIGNS_PER_COMPANY);
                }
                long[] result = new long[3];
                Op op;
                int kind;
                if (dice < 40) {
                    kind = 0;
                    String payload = payload(me, rnd.nextLong());
                    op = c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ads (company_id, campaign_id,"
                                + " payload) VALUES (?, ?, ?) RETURNING id")) {
                            ps.setLong(1, company);
                            ps.setLong(2, campaign);
                            ps.setString(3, payload);
                            result[0] = single(ps);
                        }
                    };
                } else if (dice < 50) {
                    kind = 1;
                    op = c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO campaigns (company_id, name,"
                                + " budget_cents) VALUES (?, ?, ?) RETURNING id")) {
                            ps.setLong(1, company);
                            ps.setString(2, "campaign of writer " + me);
                            ps.setLong(3, 1000);
                            result[0] = single(ps);
                        }
                    };
                } else if (dice < 95) {
                    kind = 2;
                    long adCompany;
                    long ad;
                    if (wl.ownAds.n > 0 && rnd.nextInt(4) == 0) {
                        int i = rnd.nextInt(wl.ownAds.n / 2) * 2;
                        ad = wl.ownAds.a[i];
                        adCompany = wl.ownAds.a[i + 1];
                    } else {
                        adCompany = 1 + rnd.nextLong(companies);
                        ad = (adCompany - 1) * ADS_PER_COMPANY + 1 + rnd.nextInt(ADS_PER_COMPANY);
                    }
                    result[1] = ad;
                    result[2] = adCompany;
                    op = c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "UPDATE ads SET clicks = clicks + 1 WHERE company_id = ? AND id = ?")) {
                            ps.setLong(1, adCompany);
                            ps.setLong(2, ad);
                            int n = ps.executeUpdate();
                            if (n != 1) {
                                throw new IllegalStateException("ad " + ad + " of company " + adCompany + ": " + n
                                        + " rows updated");
                            }
                        }
                    };
                } else {
                    kind = 3;
                    op = null;
                }
                long key = kind == 2 ? result[2] : company;
                long start = System.nanoTime();
                try {
                    if (kind == 3) {
                        // a new tenant: its key from the table's sequence before the switch, from the router after it
                        long newKey = router == null ? -1 : router.newKey();
                        key = newKey;
                        Op create = c -> {
                            long id = newKey;
                            if (id < 0) {
                                try (PreparedStatement ps = c.prepareStatement(
                                        "INSERT INTO companies (name) VALUES (?) RETURNING id")) {
                                    ps.setString(1, "company of writer " + me);
                                    id = single(ps);
                                }
                            } else {
                                try (PreparedStatement ps = c.prepareStatement(
                                        "INSERT INTO companies (id, name) VALUES (?, ?)")) {
                                    ps.setLong(1, id);
                                    ps.setString(2, "company of writer " + me);
                                    ps.executeUpdate();
                                }
                            }
                            result[0] = id;
                            try (PreparedStatement ps = c.prepareStatement("INSERT INTO campaigns (company_id, name)"
                                    + " VALUES (?, ?) RETURNING id")) {
                                ps.setLong(1, id);
                                ps.setString(2, "first campaign");
                                result[1] = single(ps);
                            }
                            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ads (company_id, campaign_id,"
                                    + " payload) VALUES (?, ?, ?) RETURNING id")) {
                                ps.setLong(1, id);
                                ps.setLong(2, result[1]);
                                ps.setString(3, payload(me, id));
                                result[2] = single(ps);
                            }
                        };
                        execute(direct, router, newKey, create);
                        key = result[0];
                    } else {
                        execute(direct, router, key, op);
                    }
                } catch (RuntimeException | SQLException e) {
                    wl.appErrors++;
                    if (wl.firstAppError == null) {
                        wl.firstAppError = (router == null ? "direct: " : "routed: ") + e;
                    }
                    if (kind == 2) {
                        wl.uncertainAds.add(result[1]);
                    }
                    continue;
                }
                long end = System.nanoTime();
                wl.start.add(start);
                wl.dur.add(end - start);
                wl.key.add(key);
                wl.routed.add(router == null ? 0 : 1);
                if (router != null) {
                    wl.throughRouter = true;
                }
                switch (kind) {
                    case 0 -> {
                        inserted(wl, 2, company, result[0]);
                        wl.ownAds.add(result[0]);
                        wl.ownAds.add(company);
                    }
                    case 1 -> inserted(wl, 1, company, result[0]);
                    case 2 -> {
                        wl.clicks.merge(result[1], 1L, Long::sum);
                        wl.adKey.put(result[1], result[2]);
                    }
                    default -> {
                        inserted(wl, 0, result[0], result[0]);
                        inserted(wl, 1, result[0], result[1]);
                        inserted(wl, 2, result[0], result[2]);
                        wl.ownCompanies.add(result[0]);
                        wl.ownCompanies.add(result[1]);
                        wl.ownAds.add(result[2]);
                        wl.ownAds.add(result[0]);
                    }
                }
            }
        } catch (Throwable e) {
            wl.error = e;
        }
    }

    private static void inserted(WriterLog wl, int table, long key, long id) {
        wl.inserted.add(table);
        wl.inserted.add(key);
        wl.inserted.add(id);
    }

    /** Runs the operation as the application does at this moment: in one direct transaction, or through the router. */
    private static void execute(HikariDataSource direct, ShardedDataSource router, long key, Op op)
            throws SQLException {
        if (router != null) {
            // no retry of our own: a move must be a pause inside inTransaction, never an exception
            router.inTransaction(key, (SqlWork<Void>) c -> {
                op.run(c);
                return null;
            });
            return;
        }
        try (Connection c = direct.getConnection()) {
            c.setAutoCommit(false);
            try {
                op.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static long single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String payload(int writer, long n) {
        String s = "w" + writer + "-" + Long.toHexString(n) + "-" + FILLER;
        return s.substring(0, 100);
    }

    // ---- the check

    static final class Check {
        long scanned;
        String perNode = "";
        long lostLoaded;
        long lostInserted;
        long acknowledgedInserts;
        long lostClicks;
        long clicksTooMany;
        long clickedAds;
        long onNonOwner;
        long idCollisions;
        long unexpected;
        long fkViolations;
        final Map<String, Long> idRanges = new TreeMap<>();
    }

    /**
     * Scans every table on every node: each row on its owner, or counted on a non-owner; loaded rows (ids 1..n, whose
     * key follows from the id) and acknowledged inserts found with their key on their owner; acknowledged clicks;
     * ids shared by rows of different keys.
     */
    private static Check check(PgCluster pg, Topology fin, List<WriterLog> logs, long[] loaded) throws SQLException {
        Check r = new Check();
        List<Map<Long, Long>> acked = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            acked.add(new HashMap<>());
        }
        Map<Long, Long> clicks = new HashMap<>();
        Map<Long, Long> adKey = new HashMap<>();
        Set<Long> uncertain = new HashSet<>();
        for (WriterLog wl : logs) {
            for (int i = 0; i < wl.inserted.n; i += 3) {
                acked.get((int) wl.inserted.a[i]).put(wl.inserted.a[i + 2], wl.inserted.a[i + 1]);
                r.acknowledgedInserts++;
            }
            wl.clicks.forEach((ad, n) -> clicks.merge(ad, n, Long::sum));
            adKey.putAll(wl.adKey);
            uncertain.addAll(wl.uncertainAds);
        }
        uncertain.forEach(clicks::remove);
        r.clickedAds = clicks.size();
        StringBuilder per = new StringBuilder();
        List<BitSet> foundLoaded = new ArrayList<>();
        List<Set<Long>> foundInserted = new ArrayList<>();
        List<Longs> allIds = new ArrayList<>();
        Map<Long, Long> clicksAtOwner = new HashMap<>();
        for (int t = 0; t < 3; t++) {
            foundLoaded.add(new BitSet((int) loaded[t] + 1));
            foundInserted.add(new HashSet<>());
            allIds.add(new Longs());
        }
        for (int n = 0; n < NODES.size(); n++) {
            String node = NODES.get(n);
            long count = 0;
            try (Connection c = pg.shard(n).connect()) {
                c.setAutoCommit(false);
                for (int t = 0; t < 3; t++) {
                    String table = TABLES.get(t);
                    try (Statement st = c.createStatement()) {
                        st.setFetchSize(50_000);
                        try (ResultSet rs = st.executeQuery("SELECT " + KEY.get(table) + ", id"
                                + (t == 2 ? ", clicks" : "") + " FROM " + table)) {
                            while (rs.next()) {
                                count++;
                                long key = rs.getLong(1);
                                long id = rs.getLong(2);
                                allIds.get(t).add(id << 2 | n);
                                if (!fin.ring().route(key).id().equals(node)) {
                                    r.onNonOwner++;
                                    continue;
                                }
                                if (id >= 1 && id <= loaded[t] && key == loadedKey(t, id)) {
                                    foundLoaded.get(t).set((int) id);
                                } else if (Long.valueOf(key).equals(acked.get(t).get(id))) {
                                    foundInserted.get(t).add(id);
                                } else {
                                    r.unexpected++; // neither loaded nor acknowledged: a call that threw, or a bug
                                }
                                if (t == 2 && rs.getLong(3) != 0) {
                                    clicksAtOwner.put(id, rs.getLong(3));
                                }
                            }
                        }
                    }
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT (id - 1) >> 48,"
                            + " count(*) FROM " + table + " GROUP BY 1 ORDER BY 1")) {
                        while (rs.next()) {
                            r.idRanges.put(node + " " + table + " ordinal " + rs.getLong(1), rs.getLong(2));
                        }
                    }
                }
                for (String fk : List.of("SELECT count(*) FROM campaigns x WHERE NOT EXISTS (SELECT 1 FROM companies p"
                        + " WHERE p.id = x.company_id)", "SELECT count(*) FROM ads x WHERE NOT EXISTS (SELECT 1 FROM"
                        + " campaigns p WHERE p.company_id = x.company_id AND p.id = x.campaign_id)")) {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(fk)) {
                        rs.next();
                        r.fkViolations += rs.getLong(1);
                    }
                }
                c.commit();
            }
            r.scanned += count;
            per.append(per.length() == 0 ? "" : ", ").append(node).append('=').append(count);
        }
        r.perNode = per.toString();
        for (int t = 0; t < 3; t++) {
            r.lostLoaded += loaded[t] - foundLoaded.get(t).cardinality();
            for (Long id : acked.get(t).keySet()) {
                if (!foundInserted.get(t).contains(id)) {
                    r.lostInserted++;
                }
            }
        }
        for (Map.Entry<Long, Long> e : clicks.entrySet()) {
            long have = clicksAtOwner.getOrDefault(e.getKey(), 0L);
            if (have < e.getValue()) {
                r.lostClicks++;
            } else if (have > e.getValue()) {
                r.clicksTooMany++;
            }
        }
        for (Map.Entry<Long, Long> e : clicksAtOwner.entrySet()) {
            if (!clicks.containsKey(e.getKey()) && !uncertain.contains(e.getKey())) {
                r.clicksTooMany++; // clicks nobody was told of
            }
        }
        // ids held by more than one row: which keys they carry tells a row twice from an id drawn twice
        for (int t = 0; t < 3; t++) {
            Longs ids = allIds.get(t);
            long[] s = Arrays.copyOf(ids.a, ids.n);
            Arrays.sort(s);
            Set<Long> shared = new HashSet<>();
            for (int i = 1; i < s.length; i++) {
                if (s[i] >>> 2 == s[i - 1] >>> 2) {
                    shared.add(s[i] >>> 2);
                }
            }
            if (!shared.isEmpty()) {
                r.idCollisions += collisions(pg, TABLES.get(t), shared);
            }
        }
        return r;
    }

    /** Rows beyond the first that share an id with a row of another key, over all nodes. */
    private static long collisions(PgCluster pg, String table, Set<Long> ids) throws SQLException {
        Map<Long, Set<Long>> keysById = new HashMap<>();
        for (PgShard s : pg.shards()) {
            try (Connection c = s.connect(); PreparedStatement ps = c.prepareStatement("SELECT id, " + KEY.get(table)
                    + " FROM " + table + " WHERE id = ANY (?)")) {
                Array a = c.createArrayOf("bigint", ids.toArray());
                ps.setArray(1, a);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keysById.computeIfAbsent(rs.getLong(1), k -> new HashSet<>()).add(rs.getLong(2));
                    }
                }
            }
        }
        long n = 0;
        for (Set<Long> keys : keysById.values()) {
            n += keys.size() - 1;
        }
        return n;
    }

    static long loadedKey(int table, long id) {
        return switch (table) {
            case 0 -> id;
            case 1 -> (id - 1) / CAMPAIGNS_PER_COMPANY + 1;
            default -> (id - 1) / ADS_PER_COMPANY + 1;
        };
    }

    // ---- setup

    static String config(PgCluster pg) {
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
                nodes:
                """);
        for (int i = 0; i < NODES.size(); i++) {
            PgShard s = pg.shard(i);
            y.append("  - id: ").append(NODES.get(i)).append("\n    jdbcUrl: ").append(s.jdbcUrl())
                    .append("\n    user: ").append(s.user()).append('\n');
        }
        return y.toString();
    }

    static NodeConfig node(ShardringConfig cfg, String id) {
        return cfg.topology().node(id).toBuilder().tokens((long[]) null).build();
    }

    /** The schema, the rows (explicit ids, as the sequences would have given them), the constraints, the sequences. */
    private static void load(PgShard s, long[] n) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(SCHEMA);
            st.execute("INSERT INTO companies (id, name, created_at) SELECT g, 'company ' || g,"
                    + " now() - make_interval(secs => g) FROM generate_series(1, " + n[0] + ") g");
            st.execute("INSERT INTO campaigns (company_id, id, name, budget_cents) SELECT (g - 1) / "
                    + CAMPAIGNS_PER_COMPANY + " + 1, g, 'campaign ' || g, (g * 37) % 100000 FROM generate_series(1, "
                    + n[1] + ") g");
            st.execute("INSERT INTO ads (company_id, id, campaign_id, payload) SELECT (g - 1) / " + ADS_PER_COMPANY
                    + " + 1, g, (g - 1) / " + ADS_PER_CAMPAIGN + " + 1, left(md5(g::text) || md5((-g)::text)"
                    + " || repeat('x', 36), 100) FROM generate_series(1, " + n[2] + ") g");
            st.execute(CONSTRAINTS);
            for (int t = 0; t < 3; t++) {
                st.execute("SELECT setval(pg_get_serial_sequence('" + TABLES.get(t) + "', 'id'), " + n[t] + ")");
            }
            st.execute("VACUUM ANALYZE");
            st.execute("CHECKPOINT");
        }
    }

    /** The jobs' ranges as one list, adjacent ranges joined: the fewest BETWEENs that select the same rows. */
    static List<TokenRange> merged(List<MoveJob> jobs) {
        Map<Long, TokenRange> byStart = new HashMap<>();
        Set<Long> ends = new HashSet<>();
        for (MoveJob j : jobs) {
            for (TokenRange r : j.ranges()) {
                byStart.put(r.startExclusive(), r);
                ends.add(r.endInclusive());
            }
        }
        List<TokenRange> out = new ArrayList<>();
        for (TokenRange r : byStart.values()) {
            if (ends.contains(r.startExclusive())) {
                continue; // not the first of its chain
            }
            long end = r.endInclusive();
            for (TokenRange next = byStart.get(end); next != null; next = byStart.get(end)) {
                end = next.endInclusive();
            }
            out.add(new TokenRange(r.startExclusive(), end));
        }
        out.sort((a, b) -> Long.compare(a.startExclusive(), b.startExclusive()));
        return out;
    }

    /**
     * The baseline: each table's rows of the ranges copied from legacy into baseline.* on the other server, one stream
     * per table, tables one after another, each side in one transaction; the tables made before and dropped after.
     * Returns {seconds, rows}.
     */
    private static double[] baseline(PgShard from, PgShard to, List<TokenRange> ranges, boolean binary)
            throws SQLException {
        try (Connection c = to.connect(); Statement st = c.createStatement()) {
            st.execute(BASELINE_SCHEMA);
        }
        // the same warm-up as the move gets: the source's pages in the OS cache
        timeQuery(from, "SELECT count(*) FROM ads WHERE " + TokenRange.toSql(ranges, KeyType.BIGINT, "company_id"));
        long rows = 0;
        long start;
        long end;
        String format = binary ? " (FORMAT binary)" : "";
        try (Connection src = from.connect(); Connection dst = to.connect()) {
            src.setAutoCommit(false);
            dst.setAutoCommit(false);
            try (Statement st = src.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            }
            CopyManager out = src.unwrap(PGConnection.class).getCopyAPI();
            CopyManager in = dst.unwrap(PGConnection.class).getCopyAPI();
            start = System.nanoTime();
            for (String t : TABLES) {
                String cols = COLUMNS.get(t);
                rows += pipe(out, "COPY (SELECT " + cols + " FROM " + t + " WHERE " + TokenRange.toSql(ranges,
                        KeyType.BIGINT, KEY.get(t)) + ") TO STDOUT" + format, in, "COPY baseline." + t + " (" + cols
                        + ") FROM STDIN" + format);
            }
            dst.commit();
            src.commit();
            end = System.nanoTime();
        }
        try (Connection c = to.connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA baseline CASCADE");
        }
        return new double[] {(end - start) / 1e9, rows};
    }

    /** One stream on one thread in 64 KiB chunks: the way the mover pipes, so that the pipe is no handicap. */
    static long pipe(CopyManager out, String select, CopyManager in, String insert) throws SQLException {
        CopyOut from = out.copyOut(select);
        CopyIn to = in.copyIn(insert);
        byte[] chunk = new byte[1 << 16];
        int filled = 0;
        for (byte[] row = from.readFromCopy(); row != null; row = from.readFromCopy()) {
            if (filled + row.length > chunk.length && filled > 0) {
                to.writeToCopy(chunk, 0, filled);
                filled = 0;
            }
            if (row.length >= chunk.length) {
                to.writeToCopy(row, 0, row.length);
            } else {
                System.arraycopy(row, 0, chunk, filled, row.length);
                filled += row.length;
            }
        }
        if (filled > 0) {
            to.writeToCopy(chunk, 0, filled);
        }
        long received = to.endCopy();
        if (received != from.getHandledRowCount()) {
            throw new IllegalStateException("copied out " + from.getHandledRowCount() + " rows, in " + received);
        }
        return received;
    }

    /**
     * What selecting by the ranges costs the source, on ads (idle): a scan without predicate, the baseline's merged
     * predicate, one job's predicate as the mover writes it. Each job's copy scans every table with its own
     * predicate, so three jobs evaluate three predicates where the baseline evaluates one.
     */
    private static void predicateCosts(PgShard legacy, Plan plan, List<TokenRange> union, ObjectNode diag)
            throws SQLException {
        String job0 = plan.jobs().get(0).sqlPredicate(KeyType.BIGINT, "company_id");
        timeQuery(legacy, "SELECT count(*) FROM ads"); // warm the cache
        diag.put("ads_count_no_predicate", timeQuery(legacy, "SELECT count(*) FROM ads"));
        diag.put("ads_count_baseline_predicate", timeQuery(legacy, "SELECT count(*) FROM ads WHERE "
                + TokenRange.toSql(union, KeyType.BIGINT, "company_id")));
        diag.put("ads_count_job0_predicate", timeQuery(legacy, "SELECT count(*) FROM ads WHERE " + job0));
        diag.put("job0_ranges", plan.jobs().get(0).ranges().size());
        diag.put("baseline_ranges", union.size());
        log("predicate cost on ads (idle): no predicate %.2f s, baseline's %.2f s, job 0's %.2f s",
                diag.get("ads_count_no_predicate").asDouble(), diag.get("ads_count_baseline_predicate").asDouble(),
                diag.get("ads_count_job0_predicate").asDouble());
    }

    // ---- CLI

    /** Runs a shardring command in-process; its output is logged line by line, and kept. */
    private static int cli(CliObserver observer, List<String> kept, String... args) {
        PrintWriter w = new PrintWriter(new LineWriter(kept), true);
        ShardringCli root = ShardringCli.withEnvironment(ENV);
        if (observer != null) {
            root.observe(observer);
        }
        CommandLine cl = new CommandLine(root);
        cl.setOut(w);
        cl.setErr(w);
        log("$ shardring %s", String.join(" ", args));
        int code = cl.execute(args);
        w.flush();
        return code;
    }

    /** Logs each line as it is completed, prefixed, and keeps it. */
    static final class LineWriter extends Writer {
        private final StringBuilder line = new StringBuilder();
        private final List<String> kept;

        LineWriter(List<String> kept) {
            this.kept = kept;
        }

        @Override
        public synchronized void write(char[] cbuf, int off, int len) {
            for (int i = off; i < off + len; i++) {
                if (cbuf[i] == '\n') {
                    emit();
                } else {
                    line.append(cbuf[i]);
                }
            }
        }

        private void emit() {
            String l = line.toString();
            line.setLength(0);
            kept.add(l);
            log("  | %s", l);
        }

        @Override
        public synchronized void flush() {
        }

        @Override
        public synchronized void close() {
            if (line.length() > 0) {
                emit();
            }
        }
    }

    // ---- helpers

    private static void checkpoint(PgCluster pg) throws SQLException {
        for (PgShard s : pg.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("CHECKPOINT");
            }
        }
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

    private static long first(List<MoveEvent> events, int job, String phase, String event) {
        synchronized (events) {
            for (MoveEvent e : events) {
                if (e.job() == job && e.phase().equals(phase) && e.event().equals(event)) {
                    return e.nanos();
                }
            }
        }
        throw new IllegalStateException("the mover reported no " + phase + " " + event + " for job " + job);
    }

    private static long last(List<MoveEvent> events, int job, String phase, String event) {
        synchronized (events) {
            for (int i = events.size() - 1; i >= 0; i--) {
                MoveEvent e = events.get(i);
                if (e.job() == job && e.phase().equals(phase) && e.event().equals(event)) {
                    return e.nanos();
                }
            }
        }
        throw new IllegalStateException("the mover reported no " + phase + " " + event + " for job " + job);
    }

    private static MoveEvent find(List<MoveEvent> events, int job, String phase, String event, String detailPrefix) {
        MoveEvent e = findOrNull(events, job, phase, event, detailPrefix);
        if (e == null) {
            throw new IllegalStateException("the mover reported no " + phase + " " + event + " '" + detailPrefix
                    + "...' for job " + job);
        }
        return e;
    }

    private static MoveEvent findOrNull(List<MoveEvent> events, int job, String phase, String event, String detailPrefix) {
        synchronized (events) {
            for (MoveEvent e : events) {
                if (e.job() == job && e.phase().equals(phase) && e.event().equals(event) && e.detail() != null
                        && e.detail().startsWith(detailPrefix)) {
                    return e;
                }
            }
        }
        return null;
    }

    private static MoveEvent lastWithSuffix(List<MoveEvent> events, int job, String phase, String suffix) {
        synchronized (events) {
            for (int i = events.size() - 1; i >= 0; i--) {
                MoveEvent e = events.get(i);
                if (e.job() == job && e.phase().equals(phase) && e.detail() != null && e.detail().endsWith(suffix)) {
                    return e;
                }
            }
        }
        throw new IllegalStateException("the mover reported no '..." + suffix + "' for job " + job);
    }

}
