package io.shardring.examples.operator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.examples.ExampleLogs;
import io.shardring.examples.tenant.TenantApp;
import io.shardring.examples.tenant.TenantDao;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An operator's rebalance through the Java API: what {@code shardring add-node shard3 --jdbc-url ... --execute} does,
 * from Java, while the tenant DAO keeps writing.
 *
 * <p>{@link #run} starts the tenant application on all of a cluster's shards but the last (the catalog on the first)
 * and writes a customer per tenant; clerk threads then place orders through the DAO without pause. The operator's part
 * opens the {@link Catalog}, asks the {@link Planner} what adding the last shard would move ({@link Plan}: the share of
 * the keyspace, one {@link MoveJob} per source with its rows) and prints it, then runs the plan with a {@link Mover}
 * whose {@link MoveListener} prints every phase of every job (prepare, copy, cutover, verify, cleanup). The
 * application's router follows the catalog, so the move is a short pause inside the clerks' transactions, never an
 * error. At the end it prints the rows on each node, counts the rows that lie outside the node's ranges in the new ring
 * (none), and reads every tenant's total back through the DAO.
 *
 * <p>{@link #main} runs it on four embedded PostgreSQL servers. From the repository's root:
 *
 * <pre>
 * ./mvnw -q -pl examples -am install -DskipTests &amp;&amp; \
 *   ./mvnw -q -pl examples exec:java -Dexec.mainClass=io.shardring.examples.operator.RebalanceExample
 * </pre>
 *
 * (the first command once). {@code TenantDaoRebalanceTest} runs it on its cluster and checks what it printed and that
 * every row written is on its owner after the move.
 */
public final class RebalanceExample {
    /** Tenants 0 to TENANTS - 1 get a customer each, then orders. */
    public static final int TENANTS = 100;

    /** Threads placing orders through the DAO while the operator moves data. */
    public static final int CLERKS = 3;

    /** Each order's amount. */
    public static final long CENTS = 100;

    private RebalanceExample() {
    }

    /**
     * What {@link #run} did.
     *
     * @param added the node the move added
     * @param moveId the move's id in the catalog's journal
     * @param fromVersion the topology version before the move
     * @param toVersion the catalog's topology version after it
     * @param plan the plan the mover ran
     * @param placedCents by tenant, the cents of the orders the DAO placed (acknowledged writes only)
     * @param failedCalls DAO calls that threw
     */
    public record Result(String added, long moveId, long fromVersion, long toVersion, Plan plan,
            Map<Long, Long> placedCents, long failedCalls) {
        /** Orders placed, all tenants. */
        public long orders() {
            return placedCents.values().stream().mapToLong(c -> c / CENTS).sum();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        ExampleLogs.quiet();
        try (PgCluster cluster = PgCluster.start(4)) {
            run(cluster, System.out);
        }
    }

    /**
     * The example on {@code cluster}'s shards (at least two): the ring starts on all but the last, which the move
     * adds. Run it once per cluster.
     */
    public static Result run(PgCluster cluster, PrintStream out) throws InterruptedException {
        List<PgShard> shards = cluster.shards();
        if (shards.size() < 2) {
            throw new IllegalArgumentException("the example needs two shards at least, one to add; the cluster has "
                    + shards.size());
        }
        ShardringConfig config = TenantApp.initialized(shards.subList(0, shards.size() - 1));
        NodeConfig added = TenantApp.node(shards.get(shards.size() - 1));
        try (TenantApp app = TenantApp.start(config, new SimpleMeterRegistry());
                NodePools pools = new NodePools(System::getenv)) {
            TenantDao dao = app.dao();
            Map<Long, UUID> customers = new LinkedHashMap<>();
            for (long t = 0; t < TENANTS; t++) {
                customers.put(t, dao.createCustomer(t, "customer " + t, "c@t" + t + ".example"));
            }
            out.printf("application: %d tenants, a customer each, on topology version %d %s; catalog on %s%n",
                    TENANTS, app.shards().topology().version(), app.shards().topology().nodes().keySet(),
                    config.catalogNode());
            printRows(out, app.shards());

            Clerks clerks = new Clerks(dao, customers);
            clerks.start();
            Thread.sleep(300);
            out.printf("application: %d clerks place orders of %d cents through the DAO without pause%n", CLERKS,
                    CENTS);

            // the operator: `shardring add-node <id> --jdbc-url ... --execute`, from Java
            config.topology().nodes().values().forEach(pools::add);
            pools.add(added);
            Catalog catalog = Catalog.open(pools.apply(config.catalogNode()));
            Topology current = catalog.load();
            Plan plan = Planner.plan(current, TopologyChange.addNode(added), pools);
            printPlan(out, plan);
            if (!plan.isExecutable()) {
                clerks.stop();
                throw new IllegalStateException("the plan is not executable: " + String.join("; ", plan.errors()));
            }
            Mover mover = new Mover(catalog, pools, new Mover.Options().appLocations(TenantApp.MIGRATIONS),
                    phases(out));
            long moveId;
            try {
                moveId = mover.execute(plan);
            } finally {
                Thread.sleep(300); // the clerks go on a moment on the new topology
                clerks.stop();
            }
            long version = catalog.version();
            // with ring.replicationFactor >= 2 the CLI would now run `replicas sync` (see ReplicaReadsExample)
            out.printf("operator: move %d done, topology version %d -> %d (each job's cutover publishes one)%n",
                    moveId, current.version(), version);

            out.printf("application: %d orders placed, %d DAO calls failed%s; its router follows the catalog: topology"
                    + " version %d %s%n", clerks.orders(), clerks.failures.get(),
                    clerks.firstFailure.get() == null ? "" : " (the first: " + clerks.firstFailure.get() + ")",
                    app.shards().topology().version(), app.shards().topology().nodes().keySet());
            printRows(out, app.shards());
            Map<Long, Long> placed = clerks.placed();
            int mismatched = 0;
            int onAdded = 0;
            for (long t = 0; t < TENANTS; t++) {
                if (dao.totalCents(t) != placed.getOrDefault(t, 0L)) {
                    mismatched++;
                }
                if (app.shards().nodeFor(t).equals(added.id())) {
                    onAdded++;
                }
            }
            out.printf("application: %d of %d tenants now on %s; every tenant's total read back through the DAO equals"
                    + " its acknowledged orders: %s%n", onAdded, TENANTS, added.id(),
                    mismatched == 0 ? "yes" : "NO, " + mismatched + " tenants differ");
            return new Result(added.id(), moveId, current.version(), version, plan, placed, clerks.failures.get());
        }
    }

    /** What {@code shardring add-node} prints before it moves, in short. */
    private static void printPlan(PrintStream out, Plan plan) {
        out.printf("operator: plan %s: topology version %d -> %d, nodes %s -> %s%n", plan.change(),
                plan.before().version(), plan.after().version(), plan.before().nodes().keySet(),
                plan.after().nodes().keySet());
        out.printf(Locale.ROOT, "  moves %.2f%% of the keyspace in %d jobs, %d rows counted now%n",
                100 * plan.movedShare(), plan.jobs().size(), plan.rowsToMove());
        int i = 1;
        for (MoveJob j : plan.jobs()) {
            out.printf(Locale.ROOT, "  job %d: %s -> %s, %d ranges, %.2f%% of the keyspace, rows %s%n", i++,
                    j.source(), j.target(), j.ranges().size(), 100 * j.share(), j.rowsPerTable());
        }
        plan.warnings().forEach(w -> out.println("  warning: " + w));
        plan.errors().forEach(e -> out.println("  error: " + e));
    }

    /** Prints each phase of each job as the mover reports it; row-by-row copy progress is left out. */
    private static MoveListener phases(PrintStream out) {
        return (moveId, job, phase, event, detail, rows, lagBytes) -> {
            if ("progress".equals(event) && detail != null && detail.endsWith(" copying")) {
                return;
            }
            out.printf("  move %d job %d %s %s%s%s%s%n", moveId, job + 1, phase, event,
                    detail == null ? "" : ": " + detail, rows >= 0 ? ", rows " + rows : "",
                    lagBytes >= 0 ? ", lag " + lagBytes + " bytes" : "");
        };
    }

    /**
     * Customers and orders on each node of the router's topology, by plain SQL on the node, and how many of them lie
     * outside the node's ranges in that topology (the ring's {@code rangesOf}, as a SQL predicate on the key hash).
     */
    private static void printRows(PrintStream out, ShardedDataSource shards) {
        Topology t = shards.topology();
        for (String node : t.nodes().keySet()) {
            String mine = TokenRange.toSql(t.ring().rangesOf(node), t.ring().keyType(), "tenant_id");
            try (Connection c = shards.node(node).getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM customers),"
                            + " (SELECT count(*) FROM orders),"
                            + " (SELECT count(*) FROM customers WHERE NOT " + mine + ")"
                            + " + (SELECT count(*) FROM orders WHERE NOT " + mine + ")")) {
                rs.next();
                out.printf(Locale.ROOT, "  %-8s %5.1f%% of the ring: %4d customers, %5d orders, %d rows outside its"
                        + " ranges%n", node, 100 * t.ring().stats().shares().get(node), rs.getLong(1), rs.getLong(2),
                        rs.getLong(3));
            } catch (SQLException e) {
                throw new IllegalStateException("cannot count the rows on " + node + ": " + e.getMessage(), e);
            }
        }
    }

    /** Threads that place orders through the DAO until stopped, and count what was acknowledged. */
    private static final class Clerks {
        final TenantDao dao;
        final Map<Long, UUID> customers;
        final Map<Long, AtomicLong> placed = new ConcurrentHashMap<>();
        final AtomicLong failures = new AtomicLong();
        final AtomicReference<String> firstFailure = new AtomicReference<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread[] threads = new Thread[CLERKS];

        Clerks(TenantDao dao, Map<Long, UUID> customers) {
            this.dao = dao;
            this.customers = customers;
        }

        void start() {
            for (int i = 0; i < threads.length; i++) {
                int me = i;
                threads[i] = new Thread(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        long tenant = (me + (long) CLERKS * n++) % TENANTS;
                        try {
                            dao.placeOrder(tenant, customers.get(tenant), CENTS);
                            placed.computeIfAbsent(tenant, k -> new AtomicLong()).addAndGet(CENTS);
                        } catch (RuntimeException e) {
                            failures.incrementAndGet();
                            firstFailure.compareAndSet(null, e.toString());
                        }
                    }
                }, "clerk-" + i);
                threads[i].start();
            }
        }

        /** Stops the clerks and waits for their last orders; never interrupts them (a DAO call would fail). */
        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                if (t != null) {
                    t.join(60_000);
                }
            }
        }

        long orders() {
            return placed.values().stream().mapToLong(a -> a.get() / CENTS).sum();
        }

        Map<Long, Long> placed() {
            Map<Long, Long> out = new TreeMap<>();
            placed.forEach((t, c) -> out.put(t, c.get()));
            return out;
        }
    }
}
