package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.TokenRange;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * One test per safety mechanism of the mover, each written so that it fails when the mechanism is taken out (see the
 * "what protects what" table in docs/architecture.md). The workload tests catch the same faults by chance; these
 * catch them every time.
 */
@PgShards(4)
class MoverSafetyTest {
    private static final long PROBE_ID = 8_000_000_000_000L;

    /** The fence: once the cutover has fenced the source, a write there to a moving key is refused. */
    @Test
    void afterTheFenceTheSourceRefusesWritesToTheMovingKeys(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            long tenant = VerifyFailedTest.tenantIn(f, job0.ranges());
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            AtomicReference<Throwable> atFence = new AtomicReference<>();
            f.mover((m, j, phase, event, d, r, l) -> {
                if (j == 0 && phase.equals("cutover") && event.equals("fenced")) {
                    atFence.set(catchWrite(f, source, tenant));
                }
            }).execute(plan);
            assertThat((Object) atFence.get()).as("a write to a moving key on the fenced source").isNotNull()
                    .isInstanceOf(SQLException.class);
            assertThat(((SQLException) atFence.get()).getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE);
            assertThat((Object) catchWrite(f, 3, tenant)).as("the same write on the new owner").isNull();
        }
    }

    /**
     * The marker wait: writes the source accepted just before the fence, still unapplied on the target because its
     * subscription is paused, are on the target before it takes over, and verify finds the copies equal.
     */
    @Test
    void theCutoverWaitsUntilTheTargetAppliedEverythingTheSourceAccepted(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            long tenant = VerifyFailedTest.tenantIn(f, job0.ranges());
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            f.mover((m, j, phase, event, d, r, l) -> {
                if (j == 0 && phase.equals("cutover") && event.equals("started")) {
                    String sub = "shardring_m" + m + "_j0";
                    sql(f, 3, "ALTER SUBSCRIPTION " + sub + " DISABLE");
                    for (int i = 0; i < 50; i++) {
                        sql(f, source, "INSERT INTO events (tenant_id, id, val) VALUES (" + tenant + ", "
                                + (PROBE_ID + i) + ", 7)");
                    }
                    Thread later = new Thread(() -> {
                        try {
                            Thread.sleep(1500);
                        } catch (InterruptedException e) {
                            return;
                        }
                        sql(f, 3, "ALTER SUBSCRIPTION " + sub + " ENABLE");
                    });
                    later.setDaemon(true);
                    later.start();
                }
            }).execute(plan);
            assertThat(MoverKillTest.count(cluster, 3, "SELECT count(*) FROM events WHERE tenant_id = " + tenant
                    + " AND id >= " + PROBE_ID)).as("writes accepted by the source before the fence").isEqualTo(50);
        }
    }

    /** Delete replication: a row deleted on the source after the copy is gone on the target too. */
    @Test
    void deletesOnTheSourceDuringTheMoveReachTheTarget(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan plan = f.addShard(3);
            MoveJob job0 = plan.jobs().get(0);
            long tenant = VerifyFailedTest.tenantIn(f, job0.ranges());
            int source = Integer.parseInt(job0.source().substring("shard".length()));
            sql(f, source, "INSERT INTO events (tenant_id, id, val) VALUES (" + tenant + ", " + PROBE_ID + ", 1)");
            f.mover((m, j, phase, event, d, r, l) -> {
                // copied, subscribed and caught up: the delete can only travel by replication
                if (j == 0 && phase.equals("copy") && event.equals("finished")) {
                    sql(f, source, "DELETE FROM events WHERE tenant_id = " + tenant + " AND id = " + PROBE_ID);
                    sql(f, source, "DELETE FROM notes WHERE tenant_id = " + tenant);
                }
            }).execute(plan);
            assertThat(MoverKillTest.count(cluster, 3, "SELECT count(*) FROM events WHERE id = " + PROBE_ID)
                    + MoverKillTest.count(cluster, 3, "SELECT count(*) FROM notes WHERE tenant_id = " + tenant))
                    .as("rows deleted on the source during the move, on the new owner").isZero();
        }
    }

    /** The cleanup predicate: cleanup deletes exactly the moved rows on each source, nothing else. */
    @Test
    void cleanupDeletesExactlyTheMovedRows(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            f.workload.stop();
            Plan plan = f.addShard(3);
            long[] before = new long[3];
            long[] moving = new long[3];
            for (MoveJob job : plan.jobs()) {
                int s = Integer.parseInt(job.source().substring("shard".length()));
                before[s] = MoverKillTest.count(cluster, s, "SELECT count(*) FROM events")
                        + MoverKillTest.count(cluster, s, "SELECT count(*) FROM notes");
                moving[s] = MoverKillTest.count(cluster, s, "SELECT count(*) FROM events WHERE "
                        + TokenRange.toSql(job.ranges(), plan.after().ring().keyType(), "tenant_id"))
                        + MoverKillTest.count(cluster, s, "SELECT count(*) FROM notes WHERE "
                        + TokenRange.toSql(job.ranges(), plan.after().ring().keyType(), "tenant_id"));
                assertThat(moving[s]).isPositive();
            }
            f.mover(MoveListener.NONE).execute(plan);
            for (int s = 0; s < 3; s++) {
                long after = MoverKillTest.count(cluster, s, "SELECT count(*) FROM events")
                        + MoverKillTest.count(cluster, s, "SELECT count(*) FROM notes");
                assertThat(after).as("rows left on shard%s", s).isEqualTo(before[s] - moving[s]);
            }
            f.checkEverything();
        }
    }

    /** The move lock: while one process works on a move, another's resume and abort are refused, naming why. */
    @Test
    void oneProcessAtATimeWorksOnAMove(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            long moveId = f.mover(MoveListener.NONE).start(f.addShard(3));
            try (MoveLock held = MoveLock.take(f.catalog, moveId, Duration.ZERO)) {
                assertThatThrownBy(() -> f.impatientMover().resume()).isInstanceOf(ShardringException.class)
                        .hasMessageContaining("move " + moveId).hasMessageContaining("another shardring process")
                        .hasMessageContaining("catalog session");
                assertThatThrownBy(() -> f.impatientMover().abort(moveId))
                        .hasMessageContaining("another shardring process");
                assertThat(new MoveJournal(f.catalog).jobs(moveId)).allSatisfy(j -> assertThat(j.phase)
                        .isEqualTo(Phase.PREPARE));
            }
            // a holder that goes away while we wait (a process killed a moment ago): the wait takes the move over
            MoveLock held = MoveLock.take(f.catalog, moveId, Duration.ZERO);
            CompletableFuture<Void> release = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(700);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                held.close();
            });
            long t0 = System.nanoTime();
            f.mover(MoveListener.NONE).resume();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("waited for the holder").isGreaterThan(
                    Duration.ofMillis(600));
            release.join();
            assertThat(f.mover(MoveListener.NONE).running()).isEmpty();
            f.checkEverything();
        }
    }

    private static SQLException catchWrite(MoveFixture f, int shard, long tenant) {
        try (Connection c = f.cluster.shard(shard).connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO events (tenant_id, id, val) VALUES (?, ?, 0)")) {
            ps.setLong(1, tenant);
            ps.setLong(2, PROBE_ID + shard);
            ps.executeUpdate();
            return null;
        } catch (SQLException e) {
            return e;
        }
    }

    static void sql(MoveFixture f, int shard, String sql) {
        try (Connection c = f.cluster.shard(shard).connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

}
