package io.shardring.benchmarks.scale;

import io.shardring.benchmarks.Machine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.RingStats;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The scale benchmark: a ring of {@code NODES} (default 1,000) simulated nodes, which exist only as ring members
 * and as topology entries (no servers behind them), and the ownership guard of one of those nodes on one real
 * embedded PostgreSQL.
 *
 * <p>Ring figures, all on {@code HashRing.builder(KeyType.BIGINT).vnodes(64)} with nodes {@code n0..n(NODES-1)},
 * weight 1, zones {@code z0..z2} round robin:
 * <ul>
 * <li>{@code build_ms}: the ring built from scratch (median of {@value #BUILD_REPS} after {@value #BUILD_WARMUP}
 * warm-up builds); {@code join_ms}, {@code remove_ms}, {@code reweight_ms}: {@code withNode(new, 1.0, z0)},
 * {@code withoutNode(n<NODES/2>)}, {@code withWeight(n7, 2.0)} (median of {@value #CHANGE_REPS} after
 * {@value #CHANGE_WARMUP});
 * <li>{@code tokens}, arcs per node ({@code rangesOf(id).size()}: max, mean, min);
 * <li>{@code peak_to_mean} of that ring and of a ring of the same nodes with random weights in
 * [{@value #MIN_RANDOM_WEIGHT}, {@value #MAX_RANDOM_WEIGHT}] (seed {@link #WEIGHT_SEED}); the RESULT has the worse;
 * <li>{@code moved_vs_optimal} of the join, the removal and the reweight: {@link RingDiff#movedShare()} over the
 * least that must move (the new node's share, the removed node's share, |target share - share before|); the
 * RESULT has the worst;
 * <li>{@code plan_ms}: the ring part of planning the join as {@code Planner.plan} does it before it inspects any
 * database: {@link TopologyChange#apply} on the topology, {@link HashRing#diff}, the moves grouped into one
 * {@link MoveJob} per (source, target) pair. The real planner also connects to every node, which do not exist here;
 * the JSON says so ({@code plan_ms_note});
 * <li>{@code router_bytes_per_topology}: heap taken by one such ring: {@value #HEAP_COPIES} rings kept, heap used
 * after {@code System.gc()} minus before, over {@value #HEAP_COPIES}. The copies are rebuilt from the ring's tokens
 * (a ring of stored tokens, as a router builds it from the catalog) with their own node objects and ids, so that
 * they share nothing; {@code topology_heap_bytes} is the same for a whole {@link Topology} parsed from the catalog
 * document;
 * <li>{@code topology_bytes}: UTF-8 length of the catalog's document of the topology,
 * {@code ShardringYaml.write(topology.withStoredTokens(), null)} as {@code Catalog} stores each version; every node
 * has a JDBC URL, a user, a password reference and a zone.
 * </ul>
 * Guard figures ({@link GuardLoad}): microseconds per row of a bulk load of keys that the node with the most arcs
 * owns, without the guard, with the router's guard, and with the old linear-chain guard over the same arcs and over
 * {@value GuardLoad#OLD_ARCS} arcs.
 *
 * <p>Usage: {@code ScaleBench OUT_DIR [NODES=1000 [ROWS_PER_ROUND=200000 [ROUNDS=7]]]}; the run script passes
 * {@code -Dscale.timestamp}, {@code -Dscale.started} (epoch seconds), {@code -Dscale.log} and
 * {@code -Dscale.load_before} for the result file.
 */
public final class ScaleBench {
    static final int VNODES = 64;
    static final String[] ZONES = {"z0", "z1", "z2"};
    static final int DEFAULT_NODES = 1000;
    static final int DEFAULT_ROWS = 200_000;
    static final int DEFAULT_ROUNDS = 7;
    static final int BUILD_WARMUP = 2;
    static final int BUILD_REPS = 5;
    static final int CHANGE_WARMUP = 2;
    static final int CHANGE_REPS = 7;
    static final int PLAN_WARMUP = 2;
    static final int PLAN_REPS = 5;
    static final int YAML_WARMUP = 1;
    static final int YAML_REPS = 3;
    static final int HEAP_COPIES = 20;
    static final double MIN_RANDOM_WEIGHT = 0.25;
    static final double MAX_RANDOM_WEIGHT = 4.0;
    static final long WEIGHT_SEED = 0x5ca1_e5eedL;
    static final String JOINING = "new";
    static final String REWEIGHTED = "n7";
    static final double NEW_WEIGHT = 2.0;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ScaleBench() {
    }

    /** Something timed; may throw. */
    @FunctionalInterface
    interface Op<T> {
        T run() throws Exception;
    }

    /** The first and last results of a timed operation, and the milliseconds of each measured repetition. */
    record Timed<T>(T first, T last, List<Double> ms) {
        double median() {
            return ScaleBench.median(ms);
        }
    }

    static void log(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        int nodes = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_NODES;
        int rows = args.length > 2 ? Integer.parseInt(args[2]) : DEFAULT_ROWS;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_ROUNDS;
        if (nodes < 10 || rows < 1 || rounds < 1) {
            System.err.println("usage: ScaleBench OUT_DIR [NODES>=10 [ROWS_PER_ROUND [ROUNDS]]]");
            System.exit(2);
        }
        long startedEpoch = Long.parseLong(System.getProperty("scale.started",
                Long.toString(Instant.now().getEpochSecond())));
        String stamp = System.getProperty("scale.timestamp",
                DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now()));

        ObjectNode out = JSON.createObjectNode();
        out.put("suite", "scale");
        out.put("timestamp", stamp);
        out.put("date", "");
        out.put("suite_seconds", 0);
        String logFile = System.getProperty("scale.log", "");
        if (!logFile.isBlank()) {
            out.put("log", logFile);
        }
        ObjectNode metrics = out.putObject("metrics");
        ObjectNode config = out.putObject("config");
        ObjectNode simulated = out.putObject("simulated");
        ObjectNode ringOut = out.putObject("ring");
        ObjectNode changes = out.putObject("changes");
        ObjectNode planOut = out.putObject("plan");
        ObjectNode topoOut = out.putObject("topology");
        ObjectNode heapOut = out.putObject("heap");
        ObjectNode guardOut = out.putObject("guard");
        ObjectNode machine = out.putObject("machine");
        ObjectNode jvm = out.putObject("jvm");

        config.put("nodes", nodes);
        config.put("vnodes", VNODES);
        config.put("key_type", "bigint");
        config.put("placement", "allocated (HashRing.builder default)");
        config.put("zones", String.join(",", ZONES));
        config.put("random_weights", "uniform in [" + MIN_RANDOM_WEIGHT + ", " + MAX_RANDOM_WEIGHT
                + "], rounded to 3 decimals, seed " + WEIGHT_SEED);
        config.put("build_reps", BUILD_REPS + " after " + BUILD_WARMUP + " warm-up");
        config.put("change_reps", CHANGE_REPS + " after " + CHANGE_WARMUP + " warm-up");
        config.put("plan_reps", PLAN_REPS + " after " + PLAN_WARMUP + " warm-up");
        config.put("heap_copies", HEAP_COPIES);
        config.put("guard_rows_per_round", rows);
        config.put("guard_rounds", rounds);
        simulated.put("nodes", "n0..n" + (nodes - 1) + " exist only as ring members and topology entries"
                + " (JDBC URLs of hosts that do not exist); nothing connects to them");
        simulated.put("real", "one embedded PostgreSQL, for the guard's per-row cost of one node of the ring");

        // ---------------------------------------------------------------- 1. build
        List<RingNode> equal = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            equal.add(RingNode.of("n" + i, 1.0, ZONES[i % ZONES.length]));
        }
        log("ring: building %d nodes x %d vnodes, %d warm-up + %d measured", nodes, VNODES, BUILD_WARMUP, BUILD_REPS);
        Timed<HashRing> built = time("build", BUILD_WARMUP, BUILD_REPS, () -> build(equal));
        HashRing ring = built.last();
        if (!Arrays.equals(built.first().tokens(), ring.tokens())) {
            throw new IllegalStateException("two builds of the same nodes gave different tokens");
        }
        ringOut.put("build_ms", built.median());
        putMs(ringOut, "build_ms_samples", built.ms());

        // ---------------------------------------------------------------- 2. shape and balance
        long[] tokens = ring.tokens();
        Map<String, long[]> tokensByNode = tokensByNode(ring);
        Arcs arcs = arcs(ring);
        RingStats stats = ring.stats();
        ringOut.put("tokens", tokens.length);
        ringOut.put("tokens_per_node", tokens.length / (double) nodes);
        ringOut.put("max_tokens_per_node", tokensByNode.values().stream().mapToInt(t -> t.length).max().orElse(0));
        ringOut.put("max_arcs_per_node", arcs.max);
        ringOut.put("max_arcs_node", arcs.maxNode);
        ringOut.put("mean_arcs_per_node", arcs.mean);
        ringOut.put("min_arcs_per_node", arcs.min);
        ringOut.put("peak_to_mean", stats.peakToMean());
        ringOut.put("cv", stats.coefficientOfVariation());
        log("ring: %d tokens (%.1f per node), arcs per node max %d (%s) mean %.1f min %d, peak/mean %.4f",
                tokens.length, tokens.length / (double) nodes, arcs.max, arcs.maxNode, arcs.mean, arcs.min,
                stats.peakToMean());

        SplittableRandom rnd = new SplittableRandom(WEIGHT_SEED);
        List<RingNode> weighted = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            double w = MIN_RANDOM_WEIGHT + (MAX_RANDOM_WEIGHT - MIN_RANDOM_WEIGHT) * rnd.nextDouble();
            weighted.add(RingNode.of("n" + i, Math.round(w * 1000) / 1000.0, ZONES[i % ZONES.length]));
        }
        long t0 = System.nanoTime();
        HashRing wring = build(weighted);
        double wBuildMs = (System.nanoTime() - t0) / 1e6;
        RingStats wstats = wring.stats();
        Arcs warcs = arcs(wring);
        ObjectNode w = ringOut.putObject("random_weights");
        w.put("build_ms_once", wBuildMs);
        w.put("tokens", wring.tokens().length);
        w.put("max_arcs_per_node", warcs.max);
        w.put("mean_arcs_per_node", warcs.mean);
        w.put("peak_to_mean", wstats.peakToMean());
        w.put("cv", wstats.coefficientOfVariation());
        w.put("total_weight", weighted.stream().mapToDouble(RingNode::weight).sum());
        log("ring, random weights: built once in %.1f ms, %d tokens, arcs max %d mean %.1f, peak/mean %.4f",
                wBuildMs, wring.tokens().length, warcs.max, warcs.mean, wstats.peakToMean());

        // ---------------------------------------------------------------- 3. changes and movement
        double totalWeight = nodes; // equal weights of 1
        Map<String, Double> shares = stats.shares();
        RingNode joining = RingNode.of(JOINING, 1.0, "z0");
        Timed<HashRing> join = time("join", CHANGE_WARMUP, CHANGE_REPS, () -> ring.withNode(joining));
        double joinVs = movement(changes.putObject("join"), ring, join, JOINING,
                joining.weight() / (totalWeight + joining.weight()));

        String removed = "n" + (nodes / 2);
        Timed<HashRing> remove = time("remove", CHANGE_WARMUP, CHANGE_REPS, () -> ring.withoutNode(removed));
        double removeVs = movement(changes.putObject("remove"), ring, remove, removed, shares.get(removed));

        double before = shares.get(REWEIGHTED);
        double target = NEW_WEIGHT / (totalWeight - 1.0 + NEW_WEIGHT);
        Timed<HashRing> reweight = time("reweight", CHANGE_WARMUP, CHANGE_REPS,
                () -> ring.withWeight(REWEIGHTED, NEW_WEIGHT));
        ObjectNode rw = changes.putObject("reweight");
        double reweightVs = movement(rw, ring, reweight, REWEIGHTED, Math.abs(target - before));
        rw.put("new_weight", NEW_WEIGHT);
        rw.put("node_share_before", before);
        rw.put("node_share_after", reweight.last().stats().shares().get(REWEIGHTED));
        rw.put("node_target_after", target);

        // ---------------------------------------------------------------- 4. the topology, planning
        Topology topo = topology(ring, tokensByNode);
        if (!Arrays.equals(topo.ring().tokens(), tokens)) {
            throw new IllegalStateException("the topology's ring (stored tokens) differs from the ring built");
        }
        TopologyChange add = TopologyChange.addNode(nodeConfig(JOINING, 1.0, "z0", null));
        List<long[]> planParts = new ArrayList<>();
        Timed<List<MoveJob>> plan = time("plan (ring part)", PLAN_WARMUP, PLAN_REPS,
                () -> planRingPart(topo, add, planParts));
        List<long[]> measuredParts = planParts.subList(PLAN_WARMUP, planParts.size());
        planOut.put("plan_ms", plan.median());
        putMs(planOut, "plan_ms_samples", plan.ms());
        planOut.put("apply_ms", medianOf(measuredParts, 0));
        planOut.put("diff_ms", medianOf(measuredParts, 1));
        planOut.put("group_ms", medianOf(measuredParts, 2));
        planOut.put("jobs", plan.last().size());
        planOut.put("ranges", plan.last().stream().mapToInt(j -> j.ranges().size()).sum());
        planOut.put("moved_share", plan.last().stream().mapToDouble(MoveJob::share).sum());
        planOut.put("change", add.describe());
        planOut.put("plan_ms_note", "the ring part of Planner.plan only: TopologyChange.apply on the topology"
                + " (withNode, the new topology with stored tokens), HashRing.diff, and the moves grouped into one"
                + " MoveJob per (source, target) pair as the planner groups them; the real planner then connects to"
                + " every node to count rows and inspect schemas, which simulated nodes cannot answer, so that part"
                + " (one round of queries per node, 4 nodes at a time) is not measured");

        // ---------------------------------------------------------------- 5. the catalog document
        Timed<String> written = time("catalog document write", YAML_WARMUP, YAML_REPS,
                () -> ShardringYaml.write(topo.withStoredTokens(), null));
        String yaml = written.last();
        int topologyBytes = yaml.getBytes(StandardCharsets.UTF_8).length;
        Timed<Topology> parsed = time("catalog document parse", YAML_WARMUP, YAML_REPS,
                () -> ShardringYaml.parse(yaml, "scale-bench").topology());
        if (!Arrays.equals(parsed.last().ring().tokens(), tokens)) {
            throw new IllegalStateException("the topology read back from its document has another ring");
        }
        topoOut.put("topology_bytes", topologyBytes);
        topoOut.put("bytes_per_node", topologyBytes / (double) nodes);
        topoOut.put("write_ms", written.median());
        topoOut.put("parse_ms", parsed.median());
        topoOut.put("document", "ShardringYaml.write(topology.withStoredTokens(), null), as Catalog.insert stores"
                + " each version; write_ms includes withStoredTokens, parse_ms builds the Topology and its ring");
        topoOut.put("node_template", nodeConfigExample());
        topoOut.put("tables", 1);
        log("topology: catalog document %d bytes (%.0f per node), write %.1f ms, parse %.1f ms", topologyBytes,
                topologyBytes / (double) nodes, written.median(), parsed.median());

        // ---------------------------------------------------------------- 6. heap
        long ringBytes = heapPerRing(ring, tokensByNode);
        long topologyHeap = heapPerTopology(yaml);
        heapOut.put("router_bytes_per_topology", ringBytes);
        heapOut.put("topology_heap_bytes", topologyHeap);
        heapOut.put("method", "MemoryMXBean heap used after System.gc() x4, before and after keeping "
                + HEAP_COPIES + " copies referenced, over " + HEAP_COPIES + "; router_bytes_per_topology: HashRing"
                + " rebuilt from the ring's tokens with fresh RingNode objects and ids; topology_heap_bytes: the"
                + " whole Topology (ring, NodeConfigs with stored tokens) parsed from the catalog document");
        log("heap: %d bytes per ring (%.1f per token), %d bytes per parsed topology", ringBytes,
                ringBytes / (double) tokens.length, topologyHeap);

        // ---------------------------------------------------------------- 7. the guard on real PostgreSQL
        GuardLoad.measure(ring, arcs.maxNode, rows, rounds, guardOut);

        // ---------------------------------------------------------------- figures, RESULT
        double peakToMean = Math.max(stats.peakToMean(), wstats.peakToMean());
        double movedVsOptimal = Math.max(joinVs, Math.max(removeVs, reweightVs));
        metrics.put("nodes", nodes);
        metrics.put("build_ms", built.median());
        metrics.put("join_ms", join.median());
        metrics.put("remove_ms", remove.median());
        metrics.put("reweight_ms", reweight.median());
        metrics.put("tokens", tokens.length);
        metrics.put("max_arcs_per_node", arcs.max);
        metrics.put("mean_arcs_per_node", arcs.mean);
        metrics.put("peak_to_mean", peakToMean);
        metrics.put("peak_to_mean_equal", stats.peakToMean());
        metrics.put("peak_to_mean_random_weights", wstats.peakToMean());
        metrics.put("moved_vs_optimal", movedVsOptimal);
        metrics.put("moved_vs_optimal_join", joinVs);
        metrics.put("moved_vs_optimal_remove", removeVs);
        metrics.put("moved_vs_optimal_reweight", reweightVs);
        metrics.put("plan_ms", plan.median());
        metrics.put("router_bytes_per_topology", ringBytes);
        metrics.put("topology_heap_bytes", topologyHeap);
        metrics.put("topology_bytes", topologyBytes);
        double guardUs = guardOut.get("us_per_row_guard").asDouble();
        double noGuardUs = guardOut.get("us_per_row_no_guard").asDouble();
        double oldChainUs = guardOut.get("us_per_row_old_chain").asDouble();
        double oldChain1000Us = guardOut.get("us_per_row_old_chain_1000").asDouble();
        metrics.put("guard_us_per_row", guardUs);
        metrics.put("guard_us_per_row_no_guard", noGuardUs);
        metrics.put("guard_us_per_row_old_chain", oldChainUs);
        metrics.put("guard_us_per_row_old_chain_1000", oldChain1000Us);
        metrics.put("guard_overhead_us_per_row", guardUs - noGuardUs);
        metrics.put("old_chain_overhead_us_per_row", oldChainUs - noGuardUs);
        metrics.put("old_chain_1000_overhead_us_per_row", oldChain1000Us - noGuardUs);

        String result = String.format(Locale.ROOT, "RESULT scale nodes=%d build_ms=%s join_ms=%s tokens=%d"
                + " max_arcs_per_node=%d peak_to_mean=%.4f moved_vs_optimal=%.4f guard_us_per_row=%.3f"
                + " guard_us_per_row_no_guard=%.3f topology_bytes=%d remove_ms=%s reweight_ms=%s plan_ms=%s"
                + " router_bytes_per_topology=%d guard_us_per_row_old_chain=%.3f guard_us_per_row_old_chain_1000=%.3f",
                nodes, fmtMs(built.median()), fmtMs(join.median()), tokens.length, arcs.max, peakToMean,
                movedVsOptimal, guardUs, noGuardUs, topologyBytes, fmtMs(remove.median()), fmtMs(reweight.median()),
                fmtMs(plan.median()), ringBytes, oldChainUs, oldChain1000Us);
        out.put("result_line", result);

        environment(machine, jvm);
        long now = Instant.now().getEpochSecond();
        out.put("date", Instant.now().toString());
        out.put("suite_seconds", now - startedEpoch);

        Files.createDirectories(outDir);
        String text = JSON.writeValueAsString(out) + "\n";
        Path stamped = outDir.resolve("scale-" + stamp + ".json");
        Files.writeString(stamped, text, StandardCharsets.UTF_8);
        Files.writeString(outDir.resolve("scale-latest.json"), text, StandardCharsets.UTF_8);
        log("");
        log("scale suite: %s (%d s)", stamped, now - startedEpoch);
        log("%s", result);
        // the embedded server is closed; daemon threads do not hold the JVM
        System.exit(0);
    }

    // ---------------------------------------------------------------- ring helpers

    static HashRing build(List<RingNode> nodes) {
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).vnodes(VNODES);
        for (RingNode n : nodes) {
            b.node(n);
        }
        return b.build();
    }

    /** Each node's tokens, sorted: one pass over the ring's tokens (what {@code tokensOf} gives per node). */
    static Map<String, long[]> tokensByNode(HashRing ring) {
        Map<String, List<Long>> lists = new LinkedHashMap<>();
        for (RingNode n : ring.nodes()) {
            lists.put(n.id(), new ArrayList<>());
        }
        for (long t : ring.tokens()) {
            lists.get(ring.nodeForHash(t).id()).add(t);
        }
        Map<String, long[]> out = new LinkedHashMap<>();
        lists.forEach((id, l) -> out.put(id, l.stream().mapToLong(Long::longValue).toArray()));
        return out;
    }

    /** Arcs ({@code rangesOf(id).size()}) per node. */
    record Arcs(int max, String maxNode, double mean, int min) {
    }

    static Arcs arcs(HashRing ring) {
        int max = -1;
        int min = Integer.MAX_VALUE;
        String maxNode = null;
        long total = 0;
        for (RingNode n : ring.nodes()) {
            int a = ring.rangesOf(n.id()).size();
            total += a;
            min = Math.min(min, a);
            if (a > max) {
                max = a;
                maxNode = n.id();
            }
        }
        return new Arcs(max, maxNode, total / (double) ring.nodes().size(), min);
    }

    /**
     * Fills the change's figures from {@code HashRing.diff(before, after)}; returns moved share over optimal.
     * {@code collateral_share} is keyspace moved between two nodes of which neither is the changed one.
     */
    static double movement(ObjectNode o, HashRing before, Timed<HashRing> change, String node, double optimal) {
        HashRing after = change.last();
        RingDiff diff = HashRing.diff(before, after);
        double moved = diff.movedShare();
        double collateral = 0;
        for (RingDiff.Move m : diff.moves()) {
            if (!m.from().id().equals(node) && !m.to().id().equals(node)) {
                collateral += m.range().share();
            }
        }
        double vs = moved / optimal;
        o.put("node", node);
        o.put("ms", change.median());
        putMs(o, "ms_samples", change.ms());
        o.put("moved_share", moved);
        o.put("optimal_share", optimal);
        o.put("moved_vs_optimal", vs);
        o.put("collateral_share", collateral);
        o.put("diff_arcs", diff.moves().size());
        o.put("tokens_after", after.tokens().length);
        o.put("peak_to_mean_after", after.stats().peakToMean());
        log("  moved %.6f of the keyspace, optimal %.6f: %.4f x; collateral %.6f; %d arcs", moved, optimal, vs,
                collateral, diff.moves().size());
        return vs;
    }

    /**
     * What {@code Planner.plan} does before it connects to any node: the change applied to the topology, the rings
     * diffed, the moves grouped by (source, target) into jobs (rows not counted). Appends [apply, diff, group]
     * nanoseconds to {@code parts}.
     */
    static List<MoveJob> planRingPart(Topology current, TopologyChange change, List<long[]> parts) {
        long t0 = System.nanoTime();
        Topology after = change.apply(current);
        long t1 = System.nanoTime();
        RingDiff diff = HashRing.diff(current.ring(), after.ring());
        long t2 = System.nanoTime();
        Map<String, Map<String, List<TokenRange>>> pairs = new TreeMap<>();
        for (RingDiff.Move m : diff.moves()) {
            pairs.computeIfAbsent(m.from().id(), k -> new TreeMap<>())
                    .computeIfAbsent(m.to().id(), k -> new ArrayList<>()).add(m.range());
        }
        List<MoveJob> jobs = new ArrayList<>();
        pairs.forEach((from, tos) -> tos.forEach((to, ranges) -> jobs.add(new MoveJob(from, to, ranges, Map.of()))));
        long t3 = System.nanoTime();
        parts.add(new long[] {t1 - t0, t2 - t1, t3 - t2});
        return jobs;
    }

    // ---------------------------------------------------------------- topology helpers

    static NodeConfig nodeConfig(String id, double weight, String zone, long[] tokens) {
        NodeConfig.Builder b = NodeConfig.builder(id)
                .jdbcUrl("jdbc:postgresql://" + id + ".db.example.internal:5432/app").user("shardring")
                .password("${SHARDRING_DB_PASSWORD}").weight(weight).zone(zone);
        if (tokens != null) {
            b.tokens(tokens);
        }
        return b.build();
    }

    private static String nodeConfigExample() {
        return "id n<i>, jdbcUrl jdbc:postgresql://n<i>.db.example.internal:5432/app, user shardring, password"
                + " ${SHARDRING_DB_PASSWORD}, zone z<i mod 3>, default pool, stored tokens; one table t(tenant_id)";
    }

    /** Version 1 of a topology whose ring is {@code ring}: every node with its stored tokens. */
    static Topology topology(HashRing ring, Map<String, long[]> tokensByNode) {
        Topology.Builder b = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT))
                .table(ShardedTable.of("public", "t", "tenant_id"));
        if (ring.vnodes() != RingSettings.of(KeyType.BIGINT).vnodes()) {
            throw new IllegalStateException("the topology's ring settings assume " + VNODES + " vnodes");
        }
        for (RingNode n : ring.nodes()) {
            b.node(nodeConfig(n.id(), n.weight(), n.zone(), tokensByNode.get(n.id())));
        }
        return b.build();
    }

    // ---------------------------------------------------------------- heap

    /** Heap per ring of {@value #HEAP_COPIES} copies of {@code ring}, each rebuilt from its tokens. */
    static long heapPerRing(HashRing ring, Map<String, long[]> tokensByNode) throws InterruptedException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        HashRing[] keep = new HashRing[HEAP_COPIES];
        long before = usedAfterGc(mem);
        for (int k = 0; k < HEAP_COPIES; k++) {
            HashRing.Builder b = HashRing.builder(ring.keyType()).vnodes(ring.vnodes()).placement(ring.placement());
            for (RingNode n : ring.nodes()) {
                // fresh objects: versions of a topology share no node objects in a router either
                b.node(RingNode.of(new String(n.id()), n.weight(), new String(n.zone())), tokensByNode.get(n.id()));
            }
            keep[k] = b.build();
        }
        long after = usedAfterGc(mem);
        if (!Arrays.equals(keep[HEAP_COPIES - 1].tokens(), ring.tokens())) {
            throw new IllegalStateException("a ring rebuilt from its tokens differs from the ring");
        }
        Reference.reachabilityFence(keep);
        return (after - before) / HEAP_COPIES;
    }

    /** Heap per topology of {@value #HEAP_COPIES} topologies parsed from the catalog document. */
    static long heapPerTopology(String yaml) throws InterruptedException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        Topology[] keep = new Topology[HEAP_COPIES];
        long before = usedAfterGc(mem);
        for (int k = 0; k < HEAP_COPIES; k++) {
            keep[k] = ShardringYaml.parse(yaml, "scale-bench").topology();
        }
        long after = usedAfterGc(mem);
        Reference.reachabilityFence(keep);
        return (after - before) / HEAP_COPIES;
    }

    private static long usedAfterGc(MemoryMXBean mem) throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    // ---------------------------------------------------------------- timing and numbers

    static <T> Timed<T> time(String what, int warmup, int reps, Op<T> op) throws Exception {
        List<Double> ms = new ArrayList<>();
        T first = null;
        T last = null;
        for (int i = 0; i < warmup + reps; i++) {
            long t0 = System.nanoTime();
            T r = op.run();
            double dt = (System.nanoTime() - t0) / 1e6;
            if (first == null) {
                first = r;
            }
            last = r;
            if (i >= warmup) {
                ms.add(dt);
            }
            log("  %-24s %s %10.3f ms", what, i < warmup ? "warm-up" : "       ", dt);
        }
        Timed<T> t = new Timed<>(first, last, ms);
        log("%s: median %.3f ms over %d", what, t.median(), reps);
        return t;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double medianOf(List<long[]> parts, int i) {
        List<Double> ms = new ArrayList<>();
        for (long[] p : parts) {
            ms.add(p[i] / 1e6);
        }
        return median(ms);
    }

    private static void putMs(ObjectNode o, String key, List<Double> ms) {
        ArrayNode a = o.putArray(key);
        ms.forEach(a::add);
    }

    /** Milliseconds: 3 decimals below 10, 1 above. */
    static String fmtMs(double v) {
        return String.format(Locale.ROOT, Math.abs(v) < 10 ? "%.3f" : "%.1f", v);
    }

    // ---------------------------------------------------------------- environment

    private static void environment(ObjectNode machine, ObjectNode jvm) {
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("arch", System.getProperty("os.arch"));
        machine.put("cpu", Machine.cpuModel());
        String loadBefore = System.getProperty("scale.load_before", "");
        if (!loadBefore.isBlank()) {
            machine.put("load_average_before", loadBefore);
        }
        String loadAfter = Machine.loadAverage();
        if (loadAfter != null) {
            machine.put("load_average_after", loadAfter);
        }
        long memBytes = Machine.totalMemory();
        if (memBytes > 0) {
            machine.put("memory_bytes", memBytes);
        }
        jvm.put("java_version", System.getProperty("java.version"));
        jvm.put("runtime_version", Runtime.version().toString());
        jvm.put("vm_name", System.getProperty("java.vm.name"));
        jvm.put("vm_vendor", System.getProperty("java.vm.vendor"));
        jvm.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        List<String> gcs = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcs.add(gc.getName());
        }
        jvm.put("gc", String.join(", ", gcs));
        jvm.put("args", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
    }
}
