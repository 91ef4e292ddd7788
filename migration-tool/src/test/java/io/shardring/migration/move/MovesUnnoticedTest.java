package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Moves as the application sees them through a router built from a configuration that names the catalog: writers
 * that retry nothing themselves see no exception across add-node, set-weight and remove-node, nor when the
 * target's server dies in the cutover; a router still on an old version reads every moved row until it switches;
 * a long transaction on a source holds other keys' writes back by at most the fence's lock timeout.
 */
@PgShards(4)
class MovesUnnoticedTest {

    @Test
    void writersSeeNoExceptionAcrossAddNodeSetWeightAndRemoveNode(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.exceptionsFail(true);
            f.workload.start(8);
            f.workload.awaitOps(1000);

            f.mover(MoveListener.NONE).execute(f.addShard(3));
            f.workload.awaitOps(f.workload.ops() + 400);
            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.setWeight("shard1", 2.0)));
            f.workload.awaitOps(f.workload.ops() + 400);
            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.removeNode("shard2")));
            f.workload.awaitOps(f.workload.ops() + 400);
            f.workload.stop();

            assertThat(f.workload.exceptions()).as("exceptions the application saw").isZero();
            assertThat(f.catalog.load().nodes()).containsOnlyKeys("shard0", "shard1", "shard3");
            f.checkEverything();
        }
    }

    @Test
    void aTargetKilledInTheCutoverGivesTheRangesBackAndTheApplicationNoticesNothing(PgCluster cluster)
            throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.exceptionsFail(true);
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            long tenant = VerifyFailedTest.tenantIn(f, job0.ranges());
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            AtomicLong releasedAt = new AtomicLong();
            CompletableFuture<Long> writableAt = new CompletableFuture<>();
            assertThatThrownBy(() -> f.mover((m, j, phase, event, d, r, l) -> {
                if (j == 0 && phase.equals("cutover") && event.equals("fenced")) {
                    cluster.kill(3);
                    // from now on, try a write to a moving key straight on the source (not through the router)
                    CompletableFuture.runAsync(() -> writableAt.complete(untilWritable(f, source, tenant)));
                }
                if (j == 0 && phase.equals("cutover") && event.equals("released")) {
                    releasedAt.set(System.nanoTime());
                }
            }).execute(plan)).isInstanceOf(ShardUnavailableException.class).hasMessageContaining("shard3")
                    .hasMessageContaining(":" + cluster.shard(3).port()).hasMessageContaining("resume");
            assertThat(releasedAt.get()).as("the fenced ranges were given back").isPositive();
            long writable = writableAt.get(10, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(writable - releasedAt.get())).as("ms from the release until"
                    + " the source accepted a write to a moving key").isLessThan(1000);
            f.workload.awaitOps(f.workload.ops() + 300);

            cluster.restart(3);
            f.mover(MoveListener.NONE).resume();
            f.workload.awaitOps(f.workload.ops() + 400);
            f.workload.stop();
            assertThat(f.workload.exceptions()).as("exceptions the application saw").isZero();
            assertThat(f.catalog.load().nodes()).containsKey("shard3");
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }

    /** When the shard first accepted a write of the tenant's rows (the guard refuses it while fenced). */
    private static long untilWritable(MoveFixture f, int shard, long tenant) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection c = f.cluster.shard(shard).connect(); PreparedStatement ps = c.prepareStatement(
                    "UPDATE notes SET body = body WHERE tenant_id = ?")) {
                ps.setLong(1, tenant);
                ps.executeUpdate();
                return System.nanoTime();
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the source refused writes to a moving key for 30 s", e);
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    throw new IllegalStateException(ie);
                }
            }
        }
    }

    @Test
    void aRouterStillOnAnOldVersionReadsEveryMovedRowUntilItSwitches(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            f.workload.stop();
            Topology v1 = f.catalog.load();
            Plan plan = f.addShard(3);
            Map<Long, Long> expected = notesPerTenant(f, plan);
            assertThat(expected).isNotEmpty();

            // an application instance whose router has not switched yet: it reports version 1 while it lives
            RouterRegistry registry = new RouterRegistry(f.catalog.dataSource());
            AtomicLong reportedVersion = new AtomicLong(1);
            AtomicBoolean alive = new AtomicBoolean(true);
            Thread heartbeat = new Thread(() -> {
                while (alive.get()) {
                    registry.report("old-instance", "app-host-7", 4242, reportedVersion.get());
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            heartbeat.setDaemon(true);
            heartbeat.start();
            try (ShardedDataSource old = ShardedDataSource.builder(v1).build()) {
                CountDownLatch waiting = new CountDownLatch(1);
                List<String> waitDetails = new ArrayList<>();
                CompletableFuture<Long> move = CompletableFuture.supplyAsync(() -> f.mover((m, j, p, e, d, r, l) -> {
                    if (p.equals("cleanup") && e.equals("waiting")) {
                        synchronized (waitDetails) {
                            waitDetails.add(d);
                        }
                        waiting.countDown();
                    }
                }).execute(plan));
                assertThat(waiting.await(120, TimeUnit.SECONDS)).as("cleanup waits for the old router").isTrue();
                assertThat(waitDetails.get(0)).contains("app-host-7 pid 4242 at version 1");
                assertThat(move).isNotDone();
                assertThat(f.catalog.version()).as("every job cut over").isGreaterThan(3);

                Map<Long, Long> seenByOld = readThrough(old, expected.keySet());
                assertThat(seenByOld).as("moved tenants' notes read through the router on version 1")
                        .isEqualTo(expected);

                old.apply(f.catalog.load());
                reportedVersion.set(old.topology().version());
                assertThat(move.get(60, TimeUnit.SECONDS)).isPositive();
                assertThat(readThrough(old, expected.keySet())).as("and after it switched").isEqualTo(expected);
            } finally {
                alive.set(false);
                heartbeat.join(2000);
                registry.remove("old-instance");
            }
            f.checkEverything();
        }
    }

    /** Notes per tenant for the tenants that the plan moves. */
    private static Map<Long, Long> notesPerTenant(MoveFixture f, Plan plan) {
        Map<Long, Long> out = new HashMap<>();
        for (long t = 0; t < MoveFixture.TENANTS; t++) {
            if (!plan.before().ring().route(t).id().equals(plan.after().ring().route(t).id())) {
                out.put(t, (long) MoveFixture.NOTES_PER_TENANT);
            }
        }
        return out;
    }

    private static Map<Long, Long> readThrough(ShardedDataSource router, Iterable<Long> tenants) throws SQLException {
        Map<Long, Long> out = new HashMap<>();
        for (long t : tenants) {
            try (Connection c = router.forKey(t).getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM notes WHERE tenant_id = ?")) {
                ps.setLong(1, t);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out.put(t, rs.getLong(1));
                }
            }
        }
        return out;
    }

    @Test
    void aLongTransactionOnTheSourceHoldsOtherKeysBackByAtMostTheFencesLockTimeout(PgCluster cluster)
            throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            long staying = stayingTenantOn(plan, job0.source(), 0);
            long locked = stayingTenantOn(plan, job0.source(), staying + 1);
            AtomicLong worstMs = new AtomicLong();
            AtomicBoolean probing = new AtomicBoolean(true);
            Thread probe = new Thread(() -> {
                while (probing.get()) {
                    long start = System.nanoTime();
                    f.router.inTransaction(staying, c -> {
                        try (PreparedStatement ps = c.prepareStatement("UPDATE notes SET body = body WHERE tenant_id"
                                + " = ?")) {
                            ps.setLong(1, staying);
                            return ps.executeUpdate();
                        }
                    });
                    worstMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), Math::max);
                }
            });
            probe.setDaemon(true);
            AtomicLong fencedAt = new AtomicLong();
            AtomicLong longTxEnd = new AtomicLong();
            f.mover((m, j, phase, event, d, r, l) -> {
                if (j == 0 && phase.equals("cutover") && event.equals("started")) {
                    longTransaction(f, source, locked, 3000, longTxEnd);
                    probe.start();
                }
                if (j == 0 && phase.equals("cutover") && event.equals("fenced")) {
                    fencedAt.set(System.nanoTime());
                }
            }).execute(plan);
            probing.set(false);
            probe.join(10_000);
            assertThat(fencedAt.get()).as("the fence waited for the long transaction").isGreaterThan(longTxEnd.get());
            assertThat(worstMs.get()).as("slowest write to a key that stays on %s while the fence retried its locks"
                    + " (lock timeout 200 ms)", job0.source()).isLessThan(700);
            f.checkEverything();
        }
    }

    @Test
    void aFenceThatCannotGetItsLocksFailsTheCutoverCleanlyAndResumeFinishesLater(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            long staying = stayingTenantOn(plan, job0.source(), 0);
            AtomicLong longTxEnd = new AtomicLong();
            Thread[] longTx = new Thread[1];
            Mover mover = new Mover(f.catalog, f.pools, f.options().fenceTimeout(Duration.ofSeconds(1)),
                    (m, j, phase, event, d, r, l) -> {
                        if (j == 0 && phase.equals("cutover") && event.equals("started")) {
                            longTx[0] = longTransaction(f, source, staying, 4000, longTxEnd);
                        }
                    });
            assertThatThrownBy(() -> mover.execute(plan)).hasMessageContaining("could not lock the sharded tables on "
                    + job0.source()).hasMessageContaining("within 1000 ms").hasMessageContaining("nothing was changed");
            assertThat(f.catalog.version()).isEqualTo(1);
            long movingTenant = VerifyFailedTest.tenantIn(f, job0.ranges());
            assertThat((int) f.router.inTransaction(movingTenant, c -> c.createStatement().executeUpdate(
                    "UPDATE notes SET body = body WHERE tenant_id = " + movingTenant)))
                    .as("the source still owns the moving keys").isEqualTo(MoveFixture.NOTES_PER_TENANT);
            longTx[0].join(30_000);
            assertThat(longTxEnd.get()).as("the long transaction committed").isPositive();
            f.mover(MoveListener.NONE).resume();
            assertThat(f.catalog.load().nodes()).containsKey("shard3");
            f.checkEverything();
        }
    }

    /** A tenant that stays on {@code node} after the plan (the first at or after {@code from}). */
    private static long stayingTenantOn(Plan plan, String node, long from) {
        for (long t = from; t < MoveFixture.TENANTS; t++) {
            if (plan.before().ring().route(t).id().equals(node) && plan.after().ring().route(t).id().equals(node)) {
                return t;
            }
        }
        throw new AssertionError("no tenant stays on " + node);
    }

    /**
     * A transaction on the shard that writes a row of {@code tenant} and stays open for {@code millis}: it holds
     * the table's ROW EXCLUSIVE lock, which the fence's SHARE ROW EXCLUSIVE lock must wait for.
     */
    private static Thread longTransaction(MoveFixture f, int shard, long tenant, long millis, AtomicLong end) {
        CountDownLatch holding = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (Connection c = f.cluster.shard(shard).connect(); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.executeUpdate("UPDATE notes SET body = body WHERE tenant_id = " + tenant);
                holding.countDown();
                Thread.sleep(millis);
                c.commit();
                end.set(System.nanoTime());
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        t.setDaemon(true);
        t.start();
        try {
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return t;
    }
}
