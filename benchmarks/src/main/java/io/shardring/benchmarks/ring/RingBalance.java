package io.shardring.benchmarks.ring;

import com.dynatrace.hash4j.consistent.ConsistentBucketHasher;
import com.dynatrace.hash4j.consistent.ConsistentHashing;
import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.RingStats;
import io.shardring.router.ring.TokenPlacement;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Balance and movement of shardring rings against the seed-style ring, as a JSON object (not JMH: these
 * are exact figures, not timings).
 *
 * <p>Over {@value RingFixtures#NODES} equal nodes: each ring's peak-to-mean load and coefficient of
 * variation of the owned keyspace shares, and the same measured empirically by routing
 * {@value #ROUTED} random text keys. Movement: a node joins ({@code node-100}), a node leaves
 * ({@code node-42}), a node's weight goes from 1 to {@value #NEW_WEIGHT} ({@code node-7}); each reports the
 * share of the keyspace that changes owner over the optimum, which is the least that must move for the
 * changed node to reach its target share: 1/101 for the join, the leaving node's share, and
 * |2/101 - its share before| for the reweight. {@code collateral_share} is keyspace moved between two
 * nodes of which neither is the changed one (zero in an optimal move).
 *
 * <p>Usage: {@code RingBalance [output.json]}; without an argument the JSON goes to standard output.
 */
public final class RingBalance {
    static final int ROUTED = 1_000_000;
    static final double NEW_WEIGHT = 2.0;
    static final String JOINING = RingFixtures.nodeId(RingFixtures.NODES);
    static final String LEAVING = "node-42";
    static final String REWEIGHTED = "node-7";
    /** Keys routed for the empirical balance: another seed than the benchmark keys. */
    static final long ROUTED_SEED = RingFixtures.KEY_SEED + 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RingBalance() {
    }

    public static void main(String[] args) throws IOException {
        ObjectNode out = measure();
        String text = JSON.writeValueAsString(out);
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), text + "\n", StandardCharsets.UTF_8);
        } else {
            PrintStream ps = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            ps.println(text);
        }
    }

    static ObjectNode measure() {
        ObjectNode out = JSON.createObjectNode();
        out.put("nodes", RingFixtures.NODES);
        out.put("keys_routed", ROUTED);
        out.put("joining_node", JOINING);
        out.put("leaving_node", LEAVING);
        out.put("reweighted_node", REWEIGHTED);
        out.put("new_weight", NEW_WEIGHT);

        ObjectNode rings = out.putObject("rings");
        ObjectNode allocated = shardring(rings.putObject("shardring_allocated"), TokenPlacement.ALLOCATED);
        shardring(rings.putObject("shardring_xxh3"), TokenPlacement.XXH3);
        seedStyle(rings.putObject("seed_style"));
        jumpBack(rings.putObject("jumpback_xxh3"));

        ObjectNode headline = out.putObject("headline");
        headline.put("peak_to_mean", allocated.get("peak_to_mean").asDouble());
        headline.put("cv", allocated.get("cv").asDouble());
        headline.put("moved_vs_optimal", allocated.get("add").get("moved_vs_optimal").asDouble());
        headline.put("empirical_peak_to_mean", allocated.get("empirical_peak_to_mean").asDouble());
        return out;
    }

    private static ObjectNode shardring(ObjectNode o, TokenPlacement placement) {
        long t0 = System.nanoTime();
        HashRing ring = RingFixtures.shardring(KeyType.TEXT, placement, RingFixtures.NODES);
        long buildNanos = System.nanoTime() - t0;
        o.put("implementation", "shardring HashRing");
        o.put("placement", placement.name());
        o.put("vnodes_per_node", RingFixtures.VNODES);
        o.put("tokens", ring.tokens().length);
        o.put("build_ms", buildNanos / 1e6);

        RingStats stats = ring.stats();
        o.put("peak_to_mean", stats.peakToMean());
        o.put("cv", stats.coefficientOfVariation());
        TokenView view = TokenView.of(ring);
        putShares(o, view.shares());
        empirical(o, key -> ring.route(key).id());

        // join
        t0 = System.nanoTime();
        HashRing joined = ring.withNode(RingNode.of(JOINING));
        long joinNanos = System.nanoTime() - t0;
        ObjectNode add = movement(o.putObject("add"), HashRing.diff(ring, joined).movedShare(), view,
                TokenView.of(joined), JOINING, 1.0 / (RingFixtures.NODES + 1));
        add.put("change_ms", joinNanos / 1e6);
        add.put("peak_to_mean_after", joined.stats().peakToMean());

        // leave
        double leavingShare = view.shares().getOrDefault(LEAVING, 0.0);
        t0 = System.nanoTime();
        HashRing left = ring.withoutNode(LEAVING);
        long leaveNanos = System.nanoTime() - t0;
        ObjectNode remove = movement(o.putObject("remove"), HashRing.diff(ring, left).movedShare(), view,
                TokenView.of(left), LEAVING, leavingShare);
        remove.put("change_ms", leaveNanos / 1e6);
        remove.put("peak_to_mean_after", left.stats().peakToMean());

        // reweight
        double before = view.shares().getOrDefault(REWEIGHTED, 0.0);
        double target = NEW_WEIGHT / (RingFixtures.NODES - 1 + NEW_WEIGHT);
        t0 = System.nanoTime();
        HashRing reweighted = ring.withWeight(REWEIGHTED, NEW_WEIGHT);
        long reweightNanos = System.nanoTime() - t0;
        ObjectNode rw = movement(o.putObject("reweight"), HashRing.diff(ring, reweighted).movedShare(), view,
                TokenView.of(reweighted), REWEIGHTED, Math.abs(target - before));
        rw.put("change_ms", reweightNanos / 1e6);
        rw.put("node_share_before", before);
        rw.put("node_share_after", reweighted.stats().shares().get(REWEIGHTED));
        rw.put("node_target_after", target);
        rw.put("peak_to_mean_after", reweighted.stats().peakToMean());
        return o;
    }

    private static ObjectNode seedStyle(ObjectNode o) {
        long t0 = System.nanoTime();
        SeedStyleRing ring = RingFixtures.seedStyle(RingFixtures.NODES);
        long buildNanos = System.nanoTime() - t0;
        o.put("implementation", "SeedStyleRing (TreeMap + RW lock + SHA-256)");
        o.put("placement", "SHA256");
        o.put("vnodes_per_node", RingFixtures.CLASSIC_VNODES);
        TokenView view = TokenView.of(ring.tokens());
        o.put("tokens", view.size());
        o.put("build_ms", buildNanos / 1e6);
        Map<String, Double> shares = view.shares();
        double[] pc = peakAndCv(shares.values().stream().mapToDouble(Double::doubleValue).toArray(),
                RingFixtures.NODES);
        o.put("peak_to_mean", pc[0]);
        o.put("cv", pc[1]);
        putShares(o, shares);
        empirical(o, ring::route);

        ring.addNode(JOINING);
        movement(o.putObject("add"), Double.NaN, view, TokenView.of(ring.tokens()), JOINING,
                1.0 / (RingFixtures.NODES + 1));
        ring.removeNode(JOINING);

        double leavingShare = shares.getOrDefault(LEAVING, 0.0);
        ring.removeNode(LEAVING);
        movement(o.putObject("remove"), Double.NaN, view, TokenView.of(ring.tokens()), LEAVING, leavingShare);
        ring.addNode(LEAVING);

        double before = shares.getOrDefault(REWEIGHTED, 0.0);
        double target = NEW_WEIGHT / (RingFixtures.NODES - 1 + NEW_WEIGHT);
        ring.setWeight(REWEIGHTED, NEW_WEIGHT);
        TokenView reweighted = TokenView.of(ring.tokens());
        ObjectNode rw = movement(o.putObject("reweight"), Double.NaN, view, reweighted, REWEIGHTED,
                Math.abs(target - before));
        rw.put("node_share_before", before);
        rw.put("node_share_after", reweighted.shares().getOrDefault(REWEIGHTED, 0.0));
        rw.put("node_target_after", target);
        ring.setWeight(REWEIGHTED, 1.0);
        return o;
    }

    private static ObjectNode jumpBack(ObjectNode o) {
        Hasher64 xxh3 = Hashing.xxh3_64();
        ConsistentBucketHasher jb = ConsistentHashing.jumpBackHashSplitMix64();
        o.put("implementation", "hash4j JumpBackHash (SplitMix64) over XXH3, for reference");
        o.put("buckets", RingFixtures.NODES);
        empirical(o, key -> Integer.toString(jb.getBucket(xxh3.hashCharsToLong(key), RingFixtures.NODES)));
        return o;
    }

    /** Routes {@link #ROUTED} random text keys; max count over mean count, and the CV of the counts. */
    private static void empirical(ObjectNode o, Function<String, String> route) {
        SplittableRandom rnd = new SplittableRandom(ROUTED_SEED);
        Map<String, int[]> counts = new HashMap<>();
        for (int i = 0; i < ROUTED; i++) {
            String owner = route.apply(RingFixtures.textKey(rnd.nextLong()));
            counts.computeIfAbsent(owner, k -> new int[1])[0]++;
        }
        double[] c = counts.values().stream().mapToDouble(a -> a[0]).toArray();
        double[] pc = peakAndCv(c, RingFixtures.NODES);
        o.put("empirical_peak_to_mean", pc[0]);
        o.put("empirical_cv", pc[1]);
        o.put("empirical_nodes_hit", counts.size());
    }

    private static ObjectNode movement(ObjectNode o, double diffMoved, TokenView before, TokenView after,
            String node, double optimal) {
        double[] own = TokenView.moved(before, after, node);
        double moved = Double.isNaN(diffMoved) ? own[0] : diffMoved;
        o.put("node", node);
        o.put("moved_share", moved);
        if (!Double.isNaN(diffMoved)) {
            // HashRing.diff against an independent computation over the two rings' tokens
            o.put("moved_share_check", own[0]);
        }
        o.put("optimal_share", optimal);
        o.put("moved_vs_optimal", moved / optimal);
        o.put("collateral_share", own[1]);
        return o;
    }

    private static void putShares(ObjectNode o, Map<String, Double> shares) {
        double min = Double.MAX_VALUE;
        double max = 0;
        for (double s : shares.values()) {
            min = Math.min(min, s);
            max = Math.max(max, s);
        }
        o.put("min_share", min);
        o.put("max_share", max);
        o.put("max_over_min", max / min);
    }

    /** [max / mean, stddev / mean] over {@code n} values; values missing from {@code v} count as 0. */
    static double[] peakAndCv(double[] v, int n) {
        double sum = 0;
        double sumSq = 0;
        double max = 0;
        for (double x : v) {
            sum += x;
            sumSq += x * x;
            max = Math.max(max, x);
        }
        double mean = sum / n;
        double var = Math.max(0, sumSq / n - mean * mean);
        return new double[] {max / mean, Math.sqrt(var) / mean};
    }
}
