package io.shardring.benchmarks.ring;

import io.shardring.benchmarks.Machine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Merges JMH's JSON result and {@link RingBalance}'s JSON into {@code <out-dir>/ring-<timestamp>.json} and
 * {@code <out-dir>/ring-latest.json}, prints a summary of the targets and, as its last line, the RESULT line.
 *
 * <p>Usage: {@code RingReport --jmh jmh.json --balance balance.json --out-dir DIR [--timestamp 20250101T000000Z]
 * [--started EPOCH_SECONDS] [--log FILE] [--load-before "1m 5m 15m"]}
 */
public final class RingReport {
    /** Result key for each JMH benchmark method, in the order they are reported. */
    static final Map<String, String> METRICS = new LinkedHashMap<>();

    static {
        METRICS.put("shardringText", "lookup_ns");
        METRICS.put("shardringBigint", "lookup_long_ns");
        METRICS.put("shardringBigintPinned", "pinned_lookup_long_ns");
        METRICS.put("jumpBackText", "jumpback_ns");
        METRICS.put("jumpBackBigint", "jumpback_long_ns");
        METRICS.put("seedText", "seed_ns");
        METRICS.put("allgoodText", "allgood_ns");
        METRICS.put("guavaText", "guava_ns");
        METRICS.put("pgHashText", "pg_hash_text_ns");
        METRICS.put("xxh3Text", "xxh3_text_ns");
        METRICS.put("shardringNodeForHash", "node_for_hash_ns");
        METRICS.put("jumpBackBucketOnly", "jumpback_bucket_only_ns");
    }

    /** The keys of the RESULT line, in order. */
    static final List<String> RESULT_KEYS = List.of("lookup_ns", "lookup_long_ns", "pinned_lookup_long_ns", "jumpback_ns", "seed_ns",
            "allgood_ns", "peak_to_mean", "moved_vs_optimal");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private RingReport() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                usage("unexpected argument '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        if (args.length % 2 != 0 || !opts.containsKey("jmh") || !opts.containsKey("balance")
                || !opts.containsKey("out-dir")) {
            usage("--jmh, --balance and --out-dir are required");
        }
        Instant now = Instant.now();
        String stamp = opts.getOrDefault("timestamp", STAMP.format(now));
        JsonNode jmh = JSON.readTree(Path.of(opts.get("jmh")).toFile());
        JsonNode balance = JSON.readTree(Path.of(opts.get("balance")).toFile());

        ObjectNode out = JSON.createObjectNode();
        out.put("suite", "ring");
        out.put("timestamp", stamp);
        out.put("date", DateTimeFormatter.ISO_INSTANT.format(now));
        if (opts.containsKey("started")) {
            out.put("suite_seconds", now.getEpochSecond() - Long.parseLong(opts.get("started")));
        }
        if (opts.containsKey("log")) {
            out.put("log", opts.get("log"));
        }

        ObjectNode metrics = out.putObject("metrics");
        ObjectNode ratios = out.putObject("ratios");
        ObjectNode targets = out.putObject("targets");
        ObjectNode benchmarks = out.putObject("jmh");
        ObjectNode jvm = out.putObject("jvm");
        ObjectNode machine = out.putObject("machine");
        ObjectNode config = out.putObject("config");

        // ---- JMH ----
        Map<String, Double> value = new LinkedHashMap<>();
        JsonNode first = null;
        for (JsonNode b : jmh) {
            String full = b.path("benchmark").asText();
            String method = full.substring(full.lastIndexOf('.') + 1);
            String key = METRICS.getOrDefault(method, method);
            JsonNode pm = b.path("primaryMetric");
            ObjectNode e = benchmarks.putObject(key);
            e.put("benchmark", full);
            putNumber(e, "score", number(pm.path("score")));
            putNumber(e, "error", number(pm.path("scoreError")));
            putNumber(e, "ci_low", number(pm.path("scoreConfidence").path(0)));
            putNumber(e, "ci_high", number(pm.path("scoreConfidence").path(1)));
            e.put("unit", pm.path("scoreUnit").asText());
            JsonNode alloc = secondary(b.path("secondaryMetrics"), "gc.alloc.rate.norm");
            if (alloc != null) {
                putNumber(e, "alloc_bytes_per_op", number(alloc.path("score")));
                putNumber(e, "alloc_bytes_per_op_error", number(alloc.path("scoreError")));
            }
            value.put(key, number(pm.path("score")));
            if (first == null) {
                first = b;
            }
        }
        for (String key : METRICS.values()) {
            if (value.containsKey(key)) {
                putNumber(metrics, key, value.get(key));
            }
        }

        // ---- balance ----
        JsonNode headline = balance.path("headline");
        double peak = headline.path("peak_to_mean").asDouble(Double.NaN);
        double moved = headline.path("moved_vs_optimal").asDouble(Double.NaN);
        putNumber(metrics, "peak_to_mean", peak);
        putNumber(metrics, "cv", headline.path("cv").asDouble(Double.NaN));
        putNumber(metrics, "moved_vs_optimal", moved);
        putNumber(metrics, "empirical_peak_to_mean", headline.path("empirical_peak_to_mean").asDouble(Double.NaN));
        value.put("peak_to_mean", peak);
        value.put("moved_vs_optimal", moved);
        out.set("balance", balance);

        // ---- ratios and targets ----
        double lookupOverJump = ratio(value, "lookup_ns", "jumpback_ns");
        double seedOverLookup = ratio(value, "seed_ns", "lookup_ns");
        putNumber(ratios, "lookup_ns/jumpback_ns", lookupOverJump);
        putNumber(ratios, "seed_ns/lookup_ns", seedOverLookup);
        putNumber(ratios, "lookup_long_ns/jumpback_long_ns", ratio(value, "lookup_long_ns", "jumpback_long_ns"));
        putNumber(ratios, "allgood_ns/lookup_ns", ratio(value, "allgood_ns", "lookup_ns"));
        putNumber(ratios, "guava_ns/lookup_ns", ratio(value, "guava_ns", "lookup_ns"));
        putNumber(ratios, "pg_hash_text_ns/xxh3_text_ns", ratio(value, "pg_hash_text_ns", "xxh3_text_ns"));
        double pinnedOverPlain = ratio(value, "pinned_lookup_long_ns", "lookup_long_ns");
        putNumber(ratios, "pinned_lookup_long_ns/lookup_long_ns", pinnedOverPlain);
        target(targets, "lookup_ns/jumpback_ns", lookupOverJump, "max", 1.5, 1.2);
        target(targets, "pinned_lookup_long_ns/lookup_long_ns", pinnedOverPlain, "max", 1.05, 1.05);
        target(targets, "seed_ns/lookup_ns", seedOverLookup, "min", 5, 8);
        target(targets, "peak_to_mean", peak, "max", 1.05, 1.05);
        target(targets, "moved_vs_optimal", moved, "max", 1.02, 1.02);

        // ---- environment ----
        jvm.put("java_version", System.getProperty("java.version"));
        jvm.put("runtime_version", Runtime.version().toString());
        jvm.put("vm_name", System.getProperty("java.vm.name"));
        jvm.put("vm_vendor", System.getProperty("java.vm.vendor"));
        if (first != null) {
            jvm.put("jmh_version", first.path("jmhVersion").asText());
            jvm.put("benchmark_jvm", first.path("jvm").asText());
            jvm.put("benchmark_vm_version", first.path("vmVersion").asText());
            jvm.set("benchmark_jvm_args", first.path("jvmArgs"));
            config.put("jmh_mode", first.path("mode").asText());
            config.put("jmh_forks", first.path("forks").asInt());
            config.put("jmh_threads", first.path("threads").asInt());
            config.put("jmh_warmup", first.path("warmupIterations").asInt() + " x " + first.path("warmupTime").asText());
            config.put("jmh_measurement", first.path("measurementIterations").asInt() + " x "
                    + first.path("measurementTime").asText());
        }
        config.put("nodes", RingFixtures.NODES);
        config.put("vnodes", RingFixtures.VNODES);
        config.put("classic_vnodes", RingFixtures.CLASSIC_VNODES);
        config.put("keys", RingFixtures.KEYS);
        config.put("key_seed", RingFixtures.KEY_SEED);
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("arch", System.getProperty("os.arch"));
        machine.put("cpu", Machine.cpuModel());
        if (opts.containsKey("load-before") && !opts.get("load-before").isBlank()) {
            machine.put("load_average_before", opts.get("load-before"));
        }
        String loadAfter = Machine.loadAverage();
        if (loadAfter != null) {
            machine.put("load_average_after", loadAfter);
        }
        long mem = Machine.totalMemory();
        if (mem > 0) {
            machine.put("memory_bytes", mem);
        }

        String result = resultLine(value);
        out.put("result_line", result);

        Path dir = Path.of(opts.get("out-dir"));
        Files.createDirectories(dir);
        String text = JSON.writeValueAsString(out) + "\n";
        Path stamped = dir.resolve("ring-" + stamp + ".json");
        Files.writeString(stamped, text, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("ring-latest.json"), text, StandardCharsets.UTF_8);

        PrintStream ps = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        ps.println();
        ps.println("ring suite: " + stamped);
        Iterator<Map.Entry<String, JsonNode>> it = targets.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> t = it.next();
            JsonNode v = t.getValue();
            ps.printf(Locale.ROOT, "  %-22s %9s  (%s %s, goal %s)  %s%n", t.getKey(), fmt(v.path("value").asDouble()),
                    v.path("kind").asText(), v.path("limit").asText(), v.path("goal").asText(),
                    v.path("met").asBoolean() ? (v.path("goal_met").asBoolean() ? "ok, goal met" : "ok")
                            : "NOT MET");
        }
        ps.println(result);
    }

    static String resultLine(Map<String, Double> value) {
        StringBuilder sb = new StringBuilder("RESULT ring");
        for (String k : RESULT_KEYS) {
            sb.append(' ').append(k).append('=').append(fmt(value.getOrDefault(k, Double.NaN)));
        }
        return sb.toString();
    }

    /** Nanoseconds with 2 decimals; ratios near 1 with 4. */
    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        return String.format(Locale.ROOT, Math.abs(v) < 10 ? "%.4f" : "%.2f", v);
    }

    private static void target(ObjectNode targets, String name, double v, String kind, double limit, double goal) {
        ObjectNode t = targets.putObject(name);
        putNumber(t, "value", v);
        t.put("kind", kind);
        t.put("limit", limit);
        t.put("goal", goal);
        boolean met = "max".equals(kind) ? v <= limit : v >= limit;
        boolean goalMet = "max".equals(kind) ? v <= goal : v >= goal;
        t.put("met", !Double.isNaN(v) && met);
        t.put("goal_met", !Double.isNaN(v) && goalMet);
    }

    private static double ratio(Map<String, Double> v, String a, String b) {
        Double x = v.get(a);
        Double y = v.get(b);
        return x == null || y == null ? Double.NaN : x / y;
    }

    /** JMH writes NaN as the string "NaN"; 1.37 names the metric "gc.alloc.rate.norm", older ones "·gc...". */
    private static JsonNode secondary(JsonNode secondaries, String name) {
        Iterator<Map.Entry<String, JsonNode>> it = secondaries.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().endsWith(name) && e.getKey().replace(name, "").replaceAll("[^A-Za-z]", "").isEmpty()) {
                return e.getValue();
            }
        }
        return null;
    }

    private static double number(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return Double.NaN;
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        try {
            return Double.parseDouble(n.asText());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** JSON has no NaN: write null. */
    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private static void usage(String why) {
        System.err.println("RingReport: " + why);
        System.err.println("usage: RingReport --jmh jmh.json --balance balance.json --out-dir DIR"
                + " [--timestamp STAMP] [--started EPOCH_SECONDS] [--log FILE] [--load-before LOADAVG]");
        System.exit(2);
    }
}
