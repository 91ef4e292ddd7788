package io.shardring.examples.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The tenant DAO keeps working while an operator adds a shard: the application's router follows the catalog, so
 * the move is a pause inside its transactions. No DAO call fails, and every order placed is read back after the
 * move, from the tenant's new shard.
 */
@PgShards(4)
class TenantDaoRebalanceTest {
    private static final int TENANTS = 200;

    @Test
    void theDaoNoticesNothingWhileAShardIsAdded(PgCluster cluster) throws Exception {
        ShardringConfig config = TenantApp.initialized(cluster.shards().subList(0, 3));
        try (TenantApp app = TenantApp.start(config, new SimpleMeterRegistry());
                NodePools pools = new NodePools(System::getenv)) {
            TenantDao dao = app.dao();
            Map<Long, UUID> customer = new ConcurrentHashMap<>();
            for (long t = 0; t < TENANTS; t++) {
                customer.put(t, dao.createCustomer(t, "customer " + t, t + "@example.com"));
            }
            Map<Long, AtomicLong> placedCents = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong failures = new AtomicLong();
            Thread[] clerks = new Thread[4];
            for (int i = 0; i < clerks.length; i++) {
                int me = i;
                clerks[i] = new Thread(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        long tenant = (me + 4 * n++) % TENANTS;
                        try {
                            dao.placeOrder(tenant, customer.get(tenant), 100);
                            placedCents.computeIfAbsent(tenant, k -> new AtomicLong()).addAndGet(100);
                        } catch (RuntimeException e) {
                            failures.incrementAndGet();
                        }
                    }
                });
                clerks[i].start();
            }
            Thread.sleep(500);

            Catalog catalog = Catalog.open(cluster.shard(0).dataSource());
            TopologyChange add = TopologyChange.addNode(TenantApp.node(cluster.shard(3)));
            new Mover(catalog, pools, new Mover.Options().appLocations(TenantApp.MIGRATIONS), MoveListener.NONE)
                    .execute(Planner.plan(catalog.load(), add, id -> pools.add(nodeOf(cluster, id)).apply(id)));
            Thread.sleep(500);
            stop.set(true);
            for (Thread c : clerks) {
                c.join(30_000);
            }

            assertThat(failures.get()).as("DAO calls that failed during the move").isZero();
            assertThat(app.shards().topology().nodes()).containsKey("shard3");
            long moved = 0;
            for (long t = 0; t < TENANTS; t++) {
                long expected = placedCents.getOrDefault(t, new AtomicLong()).get();
                assertThat(dao.totalCents(t)).as("orders of tenant %s", t).isEqualTo(expected);
                if (app.shards().nodeFor(t).equals("shard3")) {
                    moved++;
                }
            }
            assertThat(moved).as("tenants now on the added shard").isPositive();
        }
    }

    private static io.shardring.router.topology.NodeConfig nodeOf(PgCluster cluster, String id) {
        return TenantApp.node(cluster.shard(Integer.parseInt(id.substring("shard".length()))));
    }
}
