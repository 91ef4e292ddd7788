package io.shardring.demo;

import io.shardring.examples.tenant.TenantApp;
import io.shardring.examples.tenant.TenantDao;
import io.shardring.router.jdbc.ReadPreference;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The demo's application: the tenant example's DAO placing orders at a fixed rate and reading reports from
 * secondary copies, as a service would, through a router that follows the catalog. It counts what an application
 * would notice: every acknowledged order (to check afterwards that each is on its owner exactly once), every
 * exception, and each write's latency (to find the pause a cutover causes).
 *
 * <p>While a primary is down on purpose ({@link #outage}), a write to one of its tenants fails fast: that is how
 * shardring treats a dead primary (copies are read-only), so those are counted apart from application errors.
 */
final class Workload implements AutoCloseable {
    private static final int WRITERS = 4;
    private static final int READERS = 2;

    private final TenantApp app;
    private final TenantDao dao;
    private final int tenants;
    private final long writeIntervalNanos;
    private final UUID[] customers;

    /** Every acknowledged order: id -> tenant. */
    final Map<UUID, Long> acknowledged = new ConcurrentHashMap<>();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong secondaryReads = new AtomicLong();
    final AtomicLong appErrors = new AtomicLong();
    final AtomicLong outageErrors = new AtomicLong();
    final AtomicReference<String> firstAppError = new AtomicReference<>();

    private final List<Log> logs = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    /** The node that is down on purpose, or null. */
    private volatile String outage;

    Workload(TenantApp app, int tenants, int writesPerSecond) {
        this.app = app;
        this.dao = app.dao();
        this.tenants = tenants;
        this.writeIntervalNanos = 1_000_000_000L * WRITERS / writesPerSecond;
        this.customers = new UUID[tenants + 1];
    }

    /** One customer per tenant, the owner of the orders the writers place. */
    void load() {
        for (int t = 1; t <= tenants; t++) {
            customers[t] = dao.createCustomer(t, "customer of tenant " + t, "owner@tenant" + t + ".example");
        }
    }

    void start() {
        for (int w = 0; w < WRITERS; w++) {
            Log log = new Log();
            logs.add(log);
            threads.add(thread("demo-writer-" + w, () -> write(log)));
        }
        for (int r = 0; r < READERS; r++) {
            threads.add(thread("demo-reader-" + r, this::read));
        }
    }

    private static Thread thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void write(Log log) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long next = System.nanoTime();
        while (running) {
            long tenant = 1 + random.nextInt(tenants);
            long start = System.nanoTime();
            try {
                UUID id = dao.placeOrder(tenant, customers[(int) tenant], 100 + random.nextInt(10_000));
                acknowledged.put(id, tenant);
                writes.incrementAndGet();
                log.add(start, System.nanoTime() - start, tenant);
            } catch (RuntimeException e) {
                failed(tenant, e);
            }
            next += writeIntervalNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                sleepNanos(wait);
            } else if (wait < -1_000_000_000L) {
                next = System.nanoTime(); // fell behind by a second (a pause): do not burst to catch up
            }
        }
    }

    private void read() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (running) {
            long tenant = 1 + random.nextInt(tenants);
            try {
                dao.orderReport(tenant); // a copy at most a second behind, else the primary
                reads.incrementAndGet();
            } catch (RuntimeException e) {
                failed(tenant, e);
            }
            sleepNanos(5_000_000L);
        }
    }

    private void failed(long tenant, RuntimeException e) {
        String down = outage;
        if (down != null && down.equals(app.shards().nodeFor(tenant))) {
            outageErrors.incrementAndGet();
            return;
        }
        appErrors.incrementAndGet();
        firstAppError.compareAndSet(null, e.toString().lines().findFirst().orElse(""));
    }

    /** From now on, failures of tenants of {@code node} are counted as the outage's, not the application's. */
    void outage(String node) {
        outage = node;
    }

    /**
     * Reads tenants of {@code node} at PRIMARY_PREFERRED until {@code until} says stop; returns when the first read
     * after {@code sinceNanos} was served by a secondary store, in nanoseconds since then, or -1.
     */
    long timeToCopyRead(String node, long sinceNanos, Duration bound, java.util.function.BooleanSupplier until) {
        List<Long> keys = new ArrayList<>();
        for (long t = 1; t <= tenants && keys.size() < 50; t++) {
            if (node.equals(app.shards().nodeFor(t))) {
                keys.add(t);
            }
        }
        ReadPreference failover = ReadPreference.primaryPreferred().maxStaleness(bound);
        long first = -1;
        int i = 0;
        while (!until.getAsBoolean()) {
            long key = keys.get(i++ % keys.size());
            try {
                String db = app.shards().read(key, failover, c -> {
                    try (PreparedStatement ps = c.prepareStatement("SELECT current_database()");
                            ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getString(1);
                    }
                });
                reads.incrementAndGet();
                if (db.endsWith("_secondary")) {
                    secondaryReads.incrementAndGet();
                    if (first < 0) {
                        first = System.nanoTime() - sinceNanos;
                    }
                }
            } catch (RuntimeException e) {
                failed(key, e);
            }
            sleepNanos(2_000_000L);
        }
        return first;
    }

    /**
     * The p99 latency in ms of acknowledged writes to the tenants of {@code windows} that started within their
     * tenant's window [start - {@code leadNanos}, end] (nanoTime), the number of such writes and the slowest.
     */
    double[] latencyP99(Map<Long, long[]> windows, long leadNanos) {
        long[] d = new long[16];
        int n = 0;
        for (Log log : logs) {
            synchronized (log) {
                for (int i = 0; i < log.n; i++) {
                    long[] w = windows.get(log.tenant[i]);
                    if (w != null && log.start[i] >= w[0] - leadNanos && log.start[i] <= w[1]) {
                        if (n == d.length) {
                            d = Arrays.copyOf(d, n * 2);
                        }
                        d[n++] = log.duration[i];
                    }
                }
            }
        }
        if (n == 0) {
            return new double[] {0, 0, 0};
        }
        Arrays.sort(d, 0, n);
        int at = (int) Math.ceil(0.99 * n) - 1;
        return new double[] {d[Math.max(0, at)] / 1e6, n, d[n - 1] / 1e6};
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(10_000);
        }
        outage = null;
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000L, (int) (nanos % 1_000_000L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One writer's acknowledged writes: start, duration, tenant. */
    private static final class Log {
        long[] start = new long[1024];
        long[] duration = new long[1024];
        long[] tenant = new long[1024];
        int n;

        synchronized void add(long s, long d, long t) {
            if (n == start.length) {
                start = Arrays.copyOf(start, n * 2);
                duration = Arrays.copyOf(duration, n * 2);
                tenant = Arrays.copyOf(tenant, n * 2);
            }
            start[n] = s;
            duration[n] = d;
            tenant[n] = t;
            n++;
        }
    }
}
