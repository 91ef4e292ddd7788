package io.shardring.examples.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The tenant DAO with two copies of every tenant (ring.replicationFactor 2): what it writes it reads back at once
 * from the primary, and its report, read from a secondary copy within a second's staleness, catches up with the
 * writes. The tests share one cluster, and so its catalog and replicas: each writes its own tenant, and whichever runs
 * first stores the catalog and syncs the replicas, the other finds them in place.
 */
@PgShards(3)
class TenantDaoReplicaTest {
    @Test
    void readsItsOwnWritesOnThePrimaryAndReportsFromACopy(PgCluster cluster) throws Exception {
        ShardringConfig config = TenantApp.initialized(cluster.shards(), 2);
        try (TenantApp app = TenantApp.start(config, new SimpleMeterRegistry());
                NodePools pools = new NodePools(System::getenv)) {
            config.topology().nodes().values().forEach(pools::add);
            // what an operator's `shardring init` does next with replicationFactor 2: create and fill the copies
            new ReplicaSync(Catalog.open(pools.apply("shard0")), pools, new ReplicaSync.Options()
                    .appLocations(TenantApp.MIGRATIONS), null).sync();
            TenantDao dao = app.dao();
            long tenant = 42;
            UUID ada = dao.createCustomer(tenant, "Ada", "ada@example.com");
            UUID order = dao.placeOrder(tenant, ada, 1250);
            dao.placeOrder(tenant, ada, 399);
            dao.updateOrderStatus(tenant, order, "paid");
            // its own writes: read at once, from the primary
            assertThat(dao.customers(tenant)).extracting(Customer::id).containsExactly(ada);
            assertThat(dao.totalCents(tenant)).isEqualTo(1649);

            String primary = app.shards().nodeFor(tenant);
            long t0 = System.nanoTime();
            while (app.shards().forKey(tenant, TenantDao.REPORTING) == app.shards().node(primary)) {
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("a copy within the bound").isLessThan(
                        Duration.ofSeconds(5));
                Thread.sleep(20);
            }
            List<TenantDao.StatusTotal> expected = List.of(new TenantDao.StatusTotal("new", 1, 399),
                    new TenantDao.StatusTotal("paid", 1, 1250));
            t0 = System.nanoTime();
            List<TenantDao.StatusTotal> report = dao.orderReport(tenant);
            while (!report.equals(expected)) {
                // the copy may be up to the bound behind: never more
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("report %s", report).isLessThan(
                        TenantDao.REPORTING.maxStaleness());
                Thread.sleep(10);
                report = dao.orderReport(tenant);
            }
            assertThat(app.shards().forKey(tenant, TenantDao.REPORTING)).as("the report's source")
                    .isNotSameAs(app.shards().node(primary));
        }
    }

    @Test
    void theExampleMainReadsTheReportFromTheCopyWithinItsBoundAndFromThePrimaryWhenTheBoundIsTooTight(
            PgCluster cluster) throws Exception {
        Printed printed = new Printed();
        ReplicaReadsExample.Result r = ReplicaReadsExample.run(cluster, printed.out);
        String out = printed.toString();

        List<TenantDao.StatusTotal> expected = List.of(new TenantDao.StatusTotal("new", 2, 2899),
                new TenantDao.StatusTotal("paid", 1, 1250));
        assertThat(r.fromPrimary()).isEqualTo(expected);
        assertThat(r.fromCopy()).isEqualTo(expected);
        assertThat(r.copy()).isNotEqualTo(r.primary());
        assertThat(r.copyServedBy()).isEqualTo("secondary store on " + r.copy());
        // sampled just after the read, so a moment after the router chose the copy within the bound
        assertThat(r.stalenessMs()).as("the copy's staleness after the read, ms").isBetween(0.0,
                2.0 * TenantDao.REPORTING.maxStaleness().toMillis());
        assertThat(r.tooTightServedBy()).isEqualTo("primary " + r.primary());
        assertThat(r.refusal()).contains("secondary store on " + r.copy() + " is ").contains(" ms behind");
        assertThat(out)
                .contains("ring.replicationFactor 2")
                .contains("replicas in line with topology version 1")
                .contains("tenant " + ReplicaReadsExample.TENANT + ": primary " + r.primary()
                        + ", copy in the secondary store on " + r.copy())
                .contains("the copy holds all the writes: read ")
                .contains(", from the secondary store on " + r.copy() + ", ")
                .contains("over the bound: read from primary " + r.primary() + ": new: orders 2, 2899 cents;"
                        + " paid: orders 1, 1250 cents")
                .contains("report with secondary(maxStaleness=0.001ms): refused: ");

        // by plain SQL: the tenant's orders on its primary and in the copy's secondary store, nowhere else
        for (PgShard s : cluster.shards()) {
            PGSimpleDataSource store = (PGSimpleDataSource) s.dataSource();
            store.setURL(TenantApp.node(s).secondaryStoreUrl());
            assertThat(orders(s.dataSource())).as("orders of the tenant on %s", s.name())
                    .isEqualTo(s.name().equals(r.primary()) ? "new 2899 2, paid 1250 1" : "");
            assertThat(orders(store)).as("orders of the tenant in the secondary store on %s", s.name())
                    .isEqualTo(s.name().equals(r.copy()) ? "new 2899 2, paid 1250 1" : "");
        }
    }

    /** The example tenant's orders in one database: "status cents count" by status. */
    private static String orders(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT string_agg(status"
                + " || ' ' || cents || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, sum(amount_cents) AS cents,"
                + " count(*) AS n FROM orders WHERE tenant_id = ? GROUP BY status) s")) {
            ps.setLong(1, ReplicaReadsExample.TENANT);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1) == null ? "" : rs.getString(1);
            }
        }
    }
}
