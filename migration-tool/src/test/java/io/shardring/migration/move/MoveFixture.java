package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.RouterSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A cluster under load for mover tests: a catalog on shard0, a router that follows it (built from a configuration
 * that names the catalog, as an application builds it), a {@link Workload} of writers that insert, increment and
 * delete through the router, and a static table of notes.
 */
final class MoveFixture implements AutoCloseable {
    static final String LOCATION = "classpath:db/movetest";
    static final int TENANTS = 2000;
    static final int NOTES_PER_TENANT = 3;

    final PgCluster cluster;
    final NodePools pools = new NodePools(System::getenv);
    final Catalog catalog;
    final ShardedDataSource router;
    final Workload workload;

    static NodeConfig node(PgShard s) {
        return node(s, "z-" + s.name());
    }

    static NodeConfig node(PgShard s, String zone) {
        NodeConfig.Builder n = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user()).zone(zone)
                .pool(p -> p.maximumPoolSize(6).connectionTimeout(Duration.ofSeconds(5)));
        if (s.password() != null && !s.password().isEmpty()) {
            n.password(s.password());
        }
        return n.build();
    }

    /** Starts with the first {@code nodes} shards of the cluster in the ring; wipes earlier state. */
    MoveFixture(PgCluster cluster, int nodes) throws SQLException {
        this(cluster, nodes, 1, MoveFixture::node);
    }

    /**
     * With {@code replicationFactor} copies of every key and each shard's node built by {@code nodeOf} (its zone, for
     * one), and a router that samples its copies every 50 ms.
     */
    MoveFixture(PgCluster cluster, int nodes, int replicationFactor,
            java.util.function.Function<PgShard, NodeConfig> nodeOf) throws SQLException {
        this(cluster, nodes, replicationFactor, nodeOf, b -> b);
    }

    /** With the topology's builder given to {@code more} last (reference tables, pins). */
    MoveFixture(PgCluster cluster, int nodes, java.util.function.UnaryOperator<Topology.Builder> more)
            throws SQLException {
        this(cluster, nodes, 1, MoveFixture::node, more);
    }

    private MoveFixture(PgCluster cluster, int nodes, int replicationFactor,
            java.util.function.Function<PgShard, NodeConfig> nodeOf, java.util.function.UnaryOperator<Topology.Builder> more)
            throws SQLException {
        this.cluster = cluster;
        wipe(cluster);
        for (PgShard s : cluster.shards()) {
            pools.add(nodeOf.apply(s));
        }
        Topology.Builder b = Topology.builder().version(1).ring(new RingSettings(KeyType.BIGINT,
                io.shardring.router.ring.HashRing.DEFAULT_VNODES, io.shardring.router.ring.TokenPlacement.ALLOCATED,
                replicationFactor)).table("events", "tenant_id").table("notes", "tenant_id");
        for (int i = 0; i < nodes; i++) {
            b.node(nodeOf.apply(cluster.shard(i)));
        }
        Topology v1 = more.apply(b).build().withStoredTokens();
        catalog = Catalog.open(pools.apply("shard0"));
        assertThat(catalog.initialize(v1)).isTrue();
        // the application's router, as the README builds it: from a configuration that names the catalog
        ShardringConfig config = new ShardringConfig(v1, RouterSettings.DEFAULTS.withDownBackoff(Duration.ofMillis(200))
                .withCatalogPoll(Duration.ofMillis(250)).withReplicaInterval(Duration.ofMillis(50)), "shard0",
                List.of(LOCATION));
        router = ShardedDataSource.builder(config).build();
        ShardedFlyway.configure(router).locations(LOCATION).load().migrate().orThrow();
        workload = new Workload(router, TENANTS);
        workload.loadNotes(NOTES_PER_TENANT);
    }

    /**
     * Removes every trace of an earlier test from the cluster: subscriptions first on every shard (an earlier test may
     * have left a move running), then slots, publications, schemas and tables.
     */
    static void wipe(PgCluster cluster) throws SQLException {
        for (PgShard s : cluster.shards()) {
            // secondary stores first: their subscriptions hold slots on the other shards
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                for (String db : list(c, "SELECT datname FROM pg_database WHERE datname LIKE '%\\_secondary'")) {
                    String url = NodeConfig.builder(s.name()).jdbcUrl(s.jdbcUrl()).user(s.user()).build()
                            .secondaryStoreUrl();
                    java.util.Properties props = new java.util.Properties();
                    props.setProperty("user", s.user());
                    if (s.password() != null && !s.password().isEmpty()) {
                        props.setProperty("password", s.password());
                    }
                    try (Connection store = java.sql.DriverManager.getConnection(url, props);
                            Statement ss = store.createStatement()) {
                        for (String sub : list(store, "SELECT subname FROM pg_subscription s JOIN pg_database d ON"
                                + " d.oid = s.subdbid WHERE d.datname = current_database()")) {
                            ss.execute("ALTER SUBSCRIPTION \"" + sub + "\" DISABLE");
                            ss.execute("ALTER SUBSCRIPTION \"" + sub + "\" SET (slot_name = NONE)");
                            ss.execute("DROP SUBSCRIPTION \"" + sub + "\"");
                        }
                    }
                    st.execute("DROP DATABASE \"" + db + "\" WITH (FORCE)");
                }
            }
        }
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                for (String sub : list(c, "SELECT subname FROM pg_subscription s JOIN pg_database d ON"
                        + " d.oid = s.subdbid WHERE d.datname = current_database()")) {
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" DISABLE");
                    st.execute("ALTER SUBSCRIPTION \"" + sub + "\" SET (slot_name = NONE)");
                    st.execute("DROP SUBSCRIPTION \"" + sub + "\"");
                }
            }
        }
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL");
                for (String slot : list(c, "SELECT slot_name FROM pg_replication_slots")) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (true) {
                        try {
                            st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                            break;
                        } catch (SQLException stillActive) {
                            if (System.nanoTime() > deadline) {
                                throw stillActive;
                            }
                            Thread.onSpinWait();
                        }
                    }
                }
                for (String pub : list(c, "SELECT pubname FROM pg_publication")) {
                    st.execute("DROP PUBLICATION \"" + pub + "\"");
                }
                st.execute("DROP SCHEMA IF EXISTS shardring CASCADE");
                st.execute("DROP TABLE IF EXISTS events, notes, accounts, plans, currencies, audit_log, allowed_tenants, flyway_schema_history");
            }
        }
    }

    static List<String> list(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    Mover.Options options() {
        // two pipes, so that the tests keep the multi-stream copy (and its failure paths) covered; the default is one
        return new Mover.Options().appLocations(LOCATION).deleteBatch(50).copyStreams(2);
    }

    Mover mover(MoveListener listener) {
        return new Mover(catalog, pools, options(), listener);
    }

    /** A mover that gives up at once on a move another process holds. */
    Mover impatientMover() {
        return new Mover(catalog, pools, options().lockWait(java.time.Duration.ZERO), MoveListener.NONE);
    }

    Plan plan(TopologyChange change) {
        return Planner.plan(catalog.load(), change, pools);
    }

    Plan addShard(int index) {
        return plan(TopologyChange.addNode(node(cluster.shard(index))));
    }

    /**
     * The workload's check against the catalog's newest topology, which the router must have reached too.
     */
    void checkEverything() throws SQLException {
        Topology t = catalog.load();
        workload.check(t, cluster.shards());
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (router.topology().version() != t.version() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(router.topology().version()).as("the router's topology version").isEqualTo(t.version());
    }

    @Override
    public void close() throws InterruptedException {
        try {
            workload.stop();
        } finally {
            router.close();
            pools.close();
        }
    }
}
