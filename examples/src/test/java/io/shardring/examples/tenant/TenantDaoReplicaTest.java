package io.shardring.examples.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The tenant DAO with two copies of every tenant (ring.replicationFactor 2): what it writes it reads back at once
 * from the primary, and its report, read from a secondary copy within a second's staleness, catches up with the
 * writes.
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
}
