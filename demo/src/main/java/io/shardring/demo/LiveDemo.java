package io.shardring.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.examples.tenant.TenantApp;
import io.shardring.migration.cli.CliObserver;
import io.shardring.migration.cli.DemoRunner;
import io.shardring.migration.plan.Plan;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgStandby;
import io.shardring.testkit.PgShard;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code shardring demo}: a cluster of embedded servers, the tenant example as the application, and what an operator
 * does to it while it runs: add a node (an online rebalance), lose a primary for a few seconds, verify. Each step
 * prints what the CLI prints; the end is one {@code RESULT demo ...} line of what the application saw.
 */
public final class LiveDemo implements DemoRunner {
    /** Where the tenant example's migration is on the class path. */
    private static final String MIGRATION = "db/tenants/V1__customers_and_orders.sql";
    private static final Duration OUTAGE = Duration.ofSeconds(3);
    private static final Duration STALENESS_BOUND = Duration.ofSeconds(1);

    @Override
    public int run(Context demo) throws Exception {
        long began = System.nanoTime();
        int servers = demo.nodes() + 1;
        demo.step("starting " + servers + " embedded PostgreSQL servers (wal_level=logical) in 3 zones");
        PgCluster cluster = start(demo, servers);
        Path dir = Files.createTempDirectory("shardring-demo-");
        Runnable removeAll = () -> {
            cluster.close();
            deleteQuietly(dir);
        };
        java.util.concurrent.atomic.AtomicBoolean kept = new java.util.concurrent.atomic.AtomicBoolean();
        // Ctrl-C (or SIGTERM): servers stopped, directories removed, and the JVM halted here, so that the tour's
        // thread does not go on against servers that are gone and print errors about them
        Thread interrupted = new Thread(() -> {
            removeAll.run();
            System.err.println(kept.get() ? "shardring demo: stopped; the servers are stopped and their data removed"
                    : "shardring demo: interrupted; the servers are stopped and their data removed");
            System.err.flush();
            Runtime.getRuntime().halt(kept.get() ? 0 : 130);
        }, "shardring-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(interrupted);
        boolean keep = false;
        try {
            addStandbys(demo, cluster);
            Path config = writeConfig(demo, dir, cluster);
            if (demo.json()) {
                demo.emit(demo.object("demo-config").put("config", config.toString()));
            } else {
                demo.say("configuration: " + config);
            }
            int code = demo.cli(List.of("init"), config, CliObserver.NONE);
            if (code != 0) {
                return code;
            }
            code = tour(demo, cluster, config);
            if (code != 0 || !demo.keepRunning()) {
                return code;
            }
            keep = true;
            kept.set(true);
            demo.step("the cluster keeps running; from another shell try:");
            demo.say("  ./shardring status --config " + config);
            demo.say("  ./shardring plan remove-node " + cluster.shard(1).name() + " --config " + config);
            demo.say("  ./shardring set-weight " + cluster.shard(1).name() + " 2.0 --config " + config);
            demo.say("Ctrl-C stops the servers and removes their data.");
            new CountDownLatch(1).await();
            return 0;
        } finally {
            if (!keep) {
                Runtime.getRuntime().removeShutdownHook(interrupted);
                removeAll.run();
                if (!demo.json()) {
                    demo.say(String.format("(servers stopped and data removed; %.0f s in all)",
                            (System.nanoTime() - began) / 1e9));
                }
            }
        }
    }

    private static PgCluster start(Context demo, int servers) {
        try {
            return PgCluster.start(servers);
        } catch (RuntimeException | LinkageError e) {
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getName());
            throw demo.fail("embedded PostgreSQL could not start here: " + reason + ". Instead, start real servers"
                    + " with `docker compose up -d` and use examples/compose/shardring.yaml (docs/operations.md,"
                    + " Docker Compose), or point the demo at running servers with SHARDRING_TEST_SHARDS"
                    + " (docs/configuration.md)");
        }
    }

    /** {@code --standbys}: physical standbys of the ring's first nodes, made from the running primaries. */
    private static void addStandbys(Context demo, PgCluster cluster) {
        if (demo.standbys() == 0) {
            return;
        }
        if (!cluster.canCrashShards()) {
            throw demo.fail("--standbys needs the demo's own embedded servers; these are " + cluster.backend());
        }
        demo.step("making " + demo.standbys() + " physical standby(s) of each of the " + demo.nodes() + " nodes"
                + " (a base backup of the running primary, streaming from a replication slot)");
        for (int i = 0; i < demo.nodes(); i++) {
            for (int j = 0; j < demo.standbys(); j++) {
                PgStandby standby = cluster.addStandby(i, false);
                demo.say("  " + standby.name() + ": " + standby.jdbcUrl());
            }
        }
    }

    /** The live part: workload, shares, the rebalance, the outage, verify, the checks. */
    private int tour(Context demo, PgCluster cluster, Path config) throws Exception {
        int nodes = demo.nodes();
        Observer observer = new Observer();
        try (TenantApp app = TenantApp.start(ShardringYaml.load(config), new SimpleMeterRegistry())) {
            demo.step("the application: " + demo.tenants() + " tenants, the tenant DAO placing "
                    + demo.writesPerSecond() + " orders/s and reading reports from copies at most "
                    + STALENESS_BOUND.toMillis() + " ms behind, through a router that follows the catalog");
            Workload work = new Workload(app, demo.tenants(), demo.writesPerSecond());
            work.load();
            work.start();
            shares(demo, app.shards().topology(), "the ring before: each node's share of the keyspace");
            Thread.sleep(2000);
            Map<Long, String> before = placement(cluster, demo.tenants());

            PgShard extra = cluster.shard(nodes);
            int code = demo.cli(List.of("add-node", extra.name(), "--jdbc-url", extra.jdbcUrl(), "--user",
                    extra.user(), "--zone", zone(nodes), "--execute"), config, observer);
            if (code != 0) {
                return code;
            }
            Map<Long, String> after = placement(cluster, demo.tenants());
            Set<Long> moved = new HashSet<>();
            before.forEach((tenant, node) -> {
                if (!node.equals(after.get(tenant))) {
                    moved.add(tenant);
                }
            });
            await(() -> app.shards().topology().nodes().containsKey(extra.name()), Duration.ofSeconds(10));
            shares(demo, app.shards().topology(), "the ring after: " + extra.name() + " took its share");
            // the pause: writes to a moving tenant that started while its job's cutover ran (or just before)
            Map<Long, long[]> windows = new HashMap<>();
            moved.forEach(t -> windows.put(t, observer.cutovers.get(before.get(t))));
            double[] pause = work.latencyP99(windows, 100_000_000L);
            demo.say(String.format("the application during the rebalance: %,d orders acknowledged so far, %d"
                    + " errors; writes to the moving tenants during the cutover: %d, p99 %.1f ms, slowest %.1f ms",
                    work.writes.get(), work.appErrors.get(), (long) pause[1], pause[0], pause[2]));

            long failoverNanos = -1;
            if (demo.replicationFactor() < 2) {
                demo.step("no copies (--replication-factor 1): the failover step is skipped");
            } else if (!cluster.canCrashShards()) {
                demo.step("these servers are not this process's (" + cluster.backend() + "): the failover step is"
                        + " skipped");
            } else {
                failoverNanos = outage(demo, cluster, app, work);
            }
            Thread.sleep(1000);
            work.close();
            demo.step("the application stops: " + String.format("%,d orders acknowledged, %,d reads (%,d from"
                    + " copies during the outage), %d errors", work.writes.get(), work.reads.get(),
                    work.secondaryReads.get(), work.appErrors.get())
                    + (work.firstAppError.get() == null ? "" : "; the first: " + work.firstAppError.get()));

            code = demo.cli(List.of("verify"), config, CliObserver.NONE);
            long[] check = check(demo, cluster, app, work);
            String result = String.format(java.util.Locale.ROOT, "RESULT demo writes=%d lost=%d duplicated=%d"
                    + " app_errors=%d moved_share=%.4f planned_share=%.4f pause_p99_ms=%.1f failover_ms=%.0f",
                    work.writes.get(), check[0], check[1], work.appErrors.get(),
                    (double) moved.size() / before.size(), observer.plannedShare, pause[0],
                    failoverNanos < 0 ? -1.0 : failoverNanos / 1e6);
            if (demo.json()) {
                demo.emit(demo.object("result").put("line", result));
            }
            demo.out().println(result);
            demo.out().flush();
            boolean ok = code == 0 && check[0] == 0 && check[1] == 0 && check[2] == 0 && work.appErrors.get() == 0;
            return ok ? 0 : 1;
        }
    }

    /** SIGKILLs a primary for {@link #OUTAGE}; returns the nanoseconds from the kill to the first copy read, or -1. */
    private static long outage(Context demo, PgCluster cluster, TenantApp app, Workload work) throws Exception {
        int victim = 1; // not the catalog's node (shard0): the catalog has no copy
        String node = cluster.shard(victim).name();
        demo.step("SIGKILL " + node + "'s PostgreSQL for " + OUTAGE.toSeconds() + " s: its tenants' reads go to"
                + " their copies, its tenants' writes fail fast until it is back");
        work.outage(node);
        AtomicLong killedAt = new AtomicLong();
        CountDownLatch back = new CountDownLatch(1);
        long[] failover = {-1};
        Thread reader = new Thread(() -> {
            while (killedAt.get() == 0) {
                Thread.onSpinWait();
            }
            failover[0] = work.timeToCopyRead(node, killedAt.get(), STALENESS_BOUND, () -> back.getCount() == 0);
        }, "demo-failover-reader");
        reader.start();
        killedAt.set(System.nanoTime());
        cluster.kill(victim);
        Thread.sleep(OUTAGE.toMillis());
        long errorsWhileDown = work.outageErrors.get();
        cluster.restart(victim);
        await(() -> !app.shards().isDown(node), Duration.ofSeconds(15));
        back.countDown();
        reader.join();
        work.outage(null);
        demo.say(String.format("%s is back; while it was down its tenants' reads were served by copies (the first"
                + " %.0f ms after the kill), %d writes to its tenants failed fast with ShardUnavailableException",
                node, failover[0] / 1e6, errorsWhileDown));
        return failover[0];
    }

    /** Lost (acknowledged, found nowhere), duplicated (on two nodes), misplaced (not on the key's owner). */
    private static long[] check(Context demo, PgCluster cluster, TenantApp app, Workload work) throws SQLException {
        Map<UUID, String> found = new HashMap<>();
        long duplicated = 0;
        for (PgShard shard : cluster.shards()) {
            try (Connection c = shard.connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT id FROM orders")) {
                while (rs.next()) {
                    if (found.put(rs.getObject(1, UUID.class), shard.name()) != null) {
                        duplicated++;
                    }
                }
            }
        }
        long lost = 0;
        long misplaced = 0;
        for (Map.Entry<UUID, Long> e : work.acknowledged.entrySet()) {
            String at = found.get(e.getKey());
            if (at == null) {
                lost++;
            } else if (!at.equals(app.shards().nodeFor(e.getValue()))) {
                misplaced++;
            }
        }
        demo.step(String.format("checked: %,d acknowledged orders, %d lost, %d on two nodes, %d off their owner",
                work.acknowledged.size(), lost, duplicated, misplaced));
        return new long[] {lost, duplicated, misplaced};
    }

    /** Which server holds each tenant's customer row, by asking every server. */
    private static Map<Long, String> placement(PgCluster cluster, int tenants) throws SQLException {
        Map<Long, String> at = new HashMap<>();
        for (PgShard shard : cluster.shards()) {
            try (Connection c = shard.connect(); Statement s = c.createStatement()) {
                if (!hasCustomers(s)) {
                    continue; // the server not added yet has no schema
                }
                try (ResultSet rs = s.executeQuery("SELECT tenant_id FROM customers")) {
                    while (rs.next()) {
                        at.put(rs.getLong(1), shard.name());
                    }
                }
            }
        }
        if (at.size() != tenants) {
            throw new IllegalStateException("found " + at.size() + " of " + tenants + " tenants' customers");
        }
        return at;
    }

    private static boolean hasCustomers(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT to_regclass('public.customers') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** A bar per node: its share of the keyspace. */
    private static void shares(Context demo, Topology topology, String title) {
        Map<String, Double> shares = topology.ring().stats().shares();
        if (demo.json()) {
            ObjectNode o = demo.object("demo-shares").put("version", topology.version());
            ObjectNode byNode = o.putObject("shares");
            shares.forEach(byNode::put);
            demo.emit(o);
            return;
        }
        demo.step(title + " (topology version " + topology.version() + ")");
        double max = shares.values().stream().mapToDouble(Double::doubleValue).max().orElse(1);
        char full = demo.terminal() ? '\u2588' : '#';
        topology.nodes().values().stream().sorted(Comparator.comparing(n -> n.id())).forEach(n -> {
            double share = shares.getOrDefault(n.id(), 0.0);
            int width = (int) Math.round(40 * share / max);
            demo.say(String.format("  %-8s %-7s %s%s %5.1f%%", n.id(), n.zone(), String.valueOf(full).repeat(width),
                    " ".repeat(40 - width), share * 100));
        });
    }

    private static String zone(int node) {
        return "zone-" + (char) ('a' + node % 3);
    }

    private static Path writeConfig(Context demo, Path dir, PgCluster cluster) throws IOException {
        Path sql = Files.createDirectories(dir.resolve("sql"));
        try (InputStream in = LiveDemo.class.getClassLoader().getResourceAsStream(MIGRATION)) {
            if (in == null) {
                throw new IllegalStateException(MIGRATION + " is not on the class path");
            }
            Files.write(sql.resolve(Path.of(MIGRATION).getFileName()), in.readAllBytes());
        }
        StringBuilder y = new StringBuilder();
        y.append("# written by `shardring demo`: the tenant example (examples/) on embedded servers\n");
        y.append("version: 1\nring:\n  keyType: bigint\n  replicationFactor: ").append(demo.replicationFactor())
                .append('\n');
        y.append("tables:\n  - name: customers\n    keyColumn: tenant_id\n  - name: orders\n    keyColumn: tenant_id\n");
        y.append("catalog:\n  node: ").append(cluster.shard(0).name()).append('\n');
        y.append("schema:\n  locations:\n    - \"filesystem:").append(sql.toString().replace("\\", "/")).append("\"\n");
        y.append("nodes:\n");
        for (int i = 0; i < demo.nodes(); i++) {
            PgShard s = cluster.shard(i);
            if (s.password() != null && !s.password().isEmpty()) {
                throw new IllegalStateException("the demo expects password-less embedded servers");
            }
            y.append("  - id: ").append(s.name()).append('\n');
            y.append("    jdbcUrl: ").append(s.jdbcUrl()).append('\n');
            y.append("    user: ").append(s.user()).append('\n');
            y.append("    zone: ").append(zone(i)).append('\n');
            List<PgStandby> standbys = cluster.standbys(i);
            if (!standbys.isEmpty()) {
                y.append("    standbys:\n");
                standbys.forEach(st -> y.append("      - ").append(st.jdbcUrl()).append('\n'));
            }
        }
        Path file = dir.resolve("shardring.yaml");
        Files.writeString(file, y.toString(), StandardCharsets.UTF_8);
        return file;
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: a temp directory
        }
    }

    /** The add-node's plan and each job's cutover: from its start to its end, by source node. */
    private static final class Observer implements CliObserver {
        volatile double plannedShare = Double.NaN;
        final Map<String, long[]> cutovers = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void planned(Plan plan) {
            plannedShare = plan.movedShare();
        }

        @Override
        public void moveEvent(long moveId, int job, String phase, String event, String detail, long rows,
                long lagBytes) {
            if (!"cutover".equals(phase) || detail == null || !detail.contains(" -> ")) {
                return;
            }
            long now = System.nanoTime();
            String source = detail.substring(0, detail.indexOf(" -> ")).strip();
            if ("started".equals(event)) {
                cutovers.put(source, new long[] {now, Long.MAX_VALUE});
            } else if ("finished".equals(event) || "failed".equals(event)) {
                cutovers.computeIfPresent(source, (k, w) -> new long[] {w[0], now});
            }
        }
    }
}
