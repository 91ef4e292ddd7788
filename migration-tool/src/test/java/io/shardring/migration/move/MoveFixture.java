package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.CatalogWatcher;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster under load for mover tests: a catalog on shard0, a router following it, writers that insert
 * and update rows through the router and remember every write the router acknowledged.
 */
final class MoveFixture implements AutoCloseable {
    static final String LOCATION = "classpath:db/movetest";
    static final int TENANTS = 2000;

    final PgCluster cluster;
    final NodePools pools = new NodePools(System::getenv);
    final Catalog catalog;
    final ShardedDataSource router;
    final CatalogWatcher watcher;
    /** id -> {tenant, val} of every acknowledged write. */
    final Map<Long, long[]> acknowledged = new ConcurrentHashMap<>();
    final AtomicLong ops = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    private final AtomicLong nextId = new AtomicLong(1);
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> writers = new ArrayList<>();
    private final List<Throwable> writerErrors = new ArrayList<>();

    static NodeConfig node(PgShard s) {
        NodeConfig.Builder n = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user()).zone("z-" + s.name())
                .pool(p -> p.maximumPoolSize(6).connectionTimeout(Duration.ofSeconds(5)));
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n.build();
    }

    /** Starts with the first {@code nodes} shards of the cluster in the ring; wipes earlier state. */
    MoveFixture(PgCluster cluster, int nodes) throws SQLException {
        this.cluster = cluster;
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS shardring CASCADE");
                st.execute("DROP TABLE IF EXISTS events, flyway_schema_history");
                for (String sub : list(c, "SELECT subname FROM pg_subscription")) {
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" DISABLE");
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" SET (slot_name = NONE)");
                    st.execute("DROP SUBSCRIPTION \"" + sub + "\"");
                }
                for (String pub : list(c, "SELECT pubname FROM pg_publication")) {
                    st.execute("DROP PUBLICATION \"" + pub + "\"");
                }
                for (String slot : list(c, "SELECT slot_name FROM pg_replication_slots")) {
                    st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                }
            }
            pools.add(node(s));
        }
        Topology.Builder b = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT)).table("events",
                "tenant_id");
        for (int i = 0; i < nodes; i++) {
            b.node(node(cluster.shard(i)));
        }
        Topology v1 = b.build().withStoredTokens();
        catalog = Catalog.open(pools.apply("shard0"));
        assertThat(catalog.initialize(v1)).isTrue();
        router = ShardedDataSource.builder(v1).topologySource(catalog)
                .settings(RouterSettings.DEFAULTS.withDownBackoff(Duration.ofMillis(200))).build();
        ShardedFlyway.configure(router).locations(LOCATION).load().migrate().orThrow();
        watcher = CatalogWatcher.start(pools.apply("shard0"), router, Duration.ofMillis(100));
    }

    private static List<String> list(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    Mover mover(MoveListener listener) {
        return new Mover(catalog, pools, new Mover.Options().appLocations(LOCATION), listener);
    }

    Plan plan(TopologyChange change) {
        return Planner.plan(catalog.load(), change, pools);
    }

    /** Writers: inserts and idempotent updates through the router, each retried until acknowledged. */
    void startWriters(int threads) {
        stop.set(false);
        for (int t = 0; t < threads; t++) {
            long seed = t * 31L + 7;
            Thread th = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                List<Long> mine = new ArrayList<>();
                try {
                    while (!stop.get()) {
                        if (mine.isEmpty() || rnd.nextInt(10) < 6) {
                            long tenant = rnd.nextInt(TENANTS);
                            long id = nextId.getAndIncrement();
                            untilAcknowledged(tenant, c -> {
                                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (tenant_id, id, val)"
                                        + " VALUES (?, ?, 0) ON CONFLICT DO NOTHING")) {
                                    ps.setLong(1, tenant);
                                    ps.setLong(2, id);
                                    ps.executeUpdate();
                                }
                            });
                            acknowledged.put(id, new long[] {tenant, 0});
                            mine.add(id);
                        } else {
                            long id = mine.get(rnd.nextInt(mine.size()));
                            long[] row = acknowledged.get(id);
                            long val = row[1] + 1;
                            untilAcknowledged(row[0], c -> {
                                try (PreparedStatement ps = c.prepareStatement(
                                        "UPDATE events SET val = ? WHERE tenant_id = ? AND id = ?")) {
                                    ps.setLong(1, val);
                                    ps.setLong(2, row[0]);
                                    ps.setLong(3, id);
                                    if (ps.executeUpdate() != 1) {
                                        throw new IllegalStateException("acknowledged row " + id + " of tenant "
                                                + row[0] + " is missing on " + router.nodeFor(row[0]));
                                    }
                                }
                            });
                            acknowledged.put(id, new long[] {row[0], val});
                        }
                        ops.incrementAndGet();
                    }
                } catch (Throwable e) {
                    synchronized (writerErrors) {
                        writerErrors.add(e);
                    }
                }
            }, "writer-" + t);
            th.setDaemon(true);
            th.start();
            writers.add(th);
        }
    }

    private interface Write {
        void apply(Connection c) throws SQLException;
    }

    private void untilAcknowledged(long tenant, Write w) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                router.inTransaction(tenant, c -> {
                    w.apply(c);
                    return null;
                });
                return;
            } catch (IllegalStateException e) {
                throw e;
            } catch (RuntimeException e) {
                // not acknowledged: the keys are fenced for a moment, or the router is refreshing
                retries.incrementAndGet();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a write for tenant " + tenant + " was refused for 60 s", e);
                }
                Thread.sleep(5);
            }
        }
    }

    void stopWriters() throws InterruptedException {
        stop.set(true);
        for (Thread t : writers) {
            t.join(70_000);
        }
        writers.clear();
        synchronized (writerErrors) {
            if (!writerErrors.isEmpty()) {
                throw new AssertionError("a writer failed", writerErrors.get(0));
            }
        }
    }

    void awaitOps(long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (ops.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /**
     * Every acknowledged write is present exactly once, with its last acknowledged value, on the owner of
     * its key in the catalog's newest topology; no shard holds a row it does not own.
     */
    void checkEverything() throws SQLException {
        Topology t = catalog.load();
        Map<Long, Integer> seen = new HashMap<>();
        for (PgShard s : cluster.shards()) {
            boolean member = t.nodes().containsKey(s.name());
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                if (list(c, "SELECT to_regclass('public.events')::text").get(0) == null) {
                    continue; // a shard that never held the table
                }
                try (ResultSet rs = st.executeQuery("SELECT tenant_id, id, val FROM events")) {
                    while (rs.next()) {
                        long tenant = rs.getLong(1);
                        long id = rs.getLong(2);
                        assertThat(member).as("row %s of tenant %s on %s, which left the ring", id, tenant, s.name())
                                .isTrue();
                        assertThat(t.ring().route(tenant).id()).as("owner of tenant %s (row %s found on %s)", tenant,
                                id, s.name()).isEqualTo(s.name());
                        long[] ack = acknowledged.get(id);
                        if (ack != null) {
                            assertThat(rs.getLong(3)).as("value of row %s", id).isEqualTo(ack[1]);
                        }
                        seen.merge(id, 1, Integer::sum);
                    }
                }
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) {
                    throw e;
                }
            }
        }
        for (Map.Entry<Long, long[]> e : acknowledged.entrySet()) {
            assertThat(seen.get(e.getKey())).as("acknowledged row %s of tenant %s", e.getKey(), e.getValue()[0])
                    .isEqualTo(1);
        }
        seen.forEach((id, n) -> assertThat(n).as("copies of row %s", id).isEqualTo(1));
        assertThat(router.topology().version()).isEqualTo(t.version());
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : writers) {
            t.join(10_000);
        }
        watcher.close();
        router.close();
        pools.close();
    }
}
