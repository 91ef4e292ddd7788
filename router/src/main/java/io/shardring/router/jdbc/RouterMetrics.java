package io.shardring.router.jdbc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardring.router.topology.Topology;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The router's Micrometer meters: {@code shardring.routes} and {@code shardring.connection.acquire}
 * per node, {@code shardring.errors} by kind, {@code shardring.topology.version},
 * {@code shardring.ring.share} per node, {@code shardring.cutover.wait} (time waited out cutovers) and
 * {@code shardring.catalog.reachable}, and {@code shardring.replica.staleness} per copy (secondary store link or
 * standby; milliseconds as last sampled, NaN while the copy cannot be read). HikariCP's own pool meters are
 * registered by HikariCP.
 */
final class RouterMetrics {
    static final String ROUTES = "shardring.routes";
    static final String ACQUIRE = "shardring.connection.acquire";
    static final String ERRORS = "shardring.errors";
    static final String VERSION = "shardring.topology.version";
    static final String SHARE = "shardring.ring.share";
    static final String CATALOG_REACHABLE = "shardring.catalog.reachable";
    static final String CUTOVER_WAIT = "shardring.cutover.wait";
    static final String STALENESS = "shardring.replica.staleness";

    private final MeterRegistry registry;
    private final AtomicLong version = new AtomicLong();
    private final Map<String, Double> shares = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Meter> shareGauges = new HashMap<>();
    final Counter unavailable;
    final Counter stale;
    final Counter sqlErrors;
    final Counter noKey;
    final Counter cutoverTimeout;
    final Timer cutoverWait;
    /** 1 while a router that follows the catalog reaches it, 0 while it cannot, -1 when it follows none. */
    final AtomicLong catalogReachable = new AtomicLong(-1);

    RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(VERSION, version, AtomicLong::get).description("topology version in use").register(registry);
        unavailable = error("unavailable");
        stale = error("stale_topology");
        sqlErrors = error("sql");
        noKey = error("no_key_bound");
        cutoverTimeout = error("cutover_timeout");
        cutoverWait = Timer.builder(CUTOVER_WAIT).description("time units of work waited out a move's cutover")
                .register(registry);
        Gauge.builder(CATALOG_REACHABLE, catalogReachable, AtomicLong::get)
                .description("1 while the catalog this router follows answers, 0 while it does not, -1 without one")
                .register(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    private Counter error(String kind) {
        return Counter.builder(ERRORS).tag("kind", kind).description("router errors by kind").register(registry);
    }

    Counter routes(String node) {
        return Counter.builder(ROUTES).tag("node", node).description("connections routed to a node").register(registry);
    }

    Timer acquire(String node) {
        return Timer.builder(ACQUIRE).tag("node", node).description("time to get a connection from a node's pool")
                .register(registry);
    }

    synchronized void topology(Topology topology) {
        version.set(topology.version());
        Map<String, Double> next = topology.ring().stats().shares();
        for (Map.Entry<String, Meter> e : new HashMap<>(shareGauges).entrySet()) {
            if (!next.containsKey(e.getKey())) {
                registry.remove(e.getValue());
                shareGauges.remove(e.getKey());
                shares.remove(e.getKey());
            }
        }
        shares.putAll(next);
        for (String node : next.keySet()) {
            shareGauges.computeIfAbsent(node, n -> Gauge.builder(SHARE, shares, m -> m.getOrDefault(n, 0.0))
                    .tag("node", n).description("share of the keyspace a node owns").register(registry));
        }
    }

    void copyLag(CopyLag lag) {
        String[] kindAndName = lag.copy.split(" ", 2);
        Gauge.builder(STALENESS, lag, l -> {
            long nanos = l.staleness(System.nanoTime(), -2);
            return nanos == Long.MAX_VALUE ? Double.NaN : nanos / 1e6;
        }).tag("primary", lag.primary).tag("kind", kindAndName[0]).tag("copy", kindAndName[1]).baseUnit("milliseconds")
                .description("how far a copy of a primary's rows was behind at the router's last sample")
                .register(registry);
    }

    void removeNode(Meter... meters) {
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
