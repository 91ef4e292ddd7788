package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The mover is stopped at each phase, as by a crash (its listener throws there), while writers keep
 * writing; then resume (or abort) finishes, and every acknowledged write is still there exactly once.
 */
@PgShards(4)
class CrashResumeTest {

    /** A listener that throws once, at the given phase and event of job 0 (or of the given job). */
    static MoveListener crashAt(String phase, String event, int job) {
        AtomicBoolean fired = new AtomicBoolean();
        return (m, j, p, e, d, r, l) -> {
            if (j == job && p.equals(phase) && e.equals(event) && fired.compareAndSet(false, true)) {
                throw new IllegalStateException("simulated crash at " + phase + " " + event + " of job " + j);
            }
        };
    }

    @ParameterizedTest(name = "crash at {0} {1} of job {2}, then resume")
    // phase boundaries; MoverKillTest kills a real process inside the copy, the cutover and the cleanup
    @CsvSource({"prepare, started, 0", "copy, finished, 2", "cutover, fenced, 2", "verify, info, 1",
            "cleanup, started, 0"})
    void resumeFinishesTheMoveWithNothingLost(String phase, String event, int job, PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            assertThat(plan.jobs()).hasSize(3);
            Throwable crash = catchThrowable(() -> f.mover(crashAt(phase, event, job)).execute(plan));
            assertThat(crash).hasMessageContaining("simulated crash");
            assertThat(f.mover(MoveListener.NONE).running()).isPresent();
            // writers to fenced keys wait (retrying) until an operator resumes: do so promptly
            Thread.sleep(300);

            f.mover(MoveListener.NONE).resume();

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.mover(MoveListener.NONE).running()).isEmpty();
            assertThat(f.catalog.load().nodes()).containsKey("shard3");
            assertThat(f.catalog.load().ring().stats().shares().get("shard3"))
                    .isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.02));
            f.checkEverything();
            assertNoReplicationLeft(cluster);
        }
    }

    @ParameterizedTest(name = "crash at {0} {1} of job {2}, then abort")
    @CsvSource({"copy, finished, 0", "cutover, fenced, 0"})
    void abortReturnsToTheOldTopologyWithNothingLost(String phase, String event, int job, PgCluster cluster)
            throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            Throwable crash = catchThrowable(() -> f.mover(crashAt(phase, event, job)).execute(plan));
            assertThat(crash).hasMessageContaining("simulated crash");
            long moveId = f.mover(MoveListener.NONE).running().orElseThrow().id;

            f.mover(MoveListener.NONE).abort(moveId);

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.mover(MoveListener.NONE).running()).isEmpty();
            assertThat(f.catalog.version()).isEqualTo(1);
            assertThat(f.catalog.load().nodes()).doesNotContainKey("shard3");
            f.checkEverything();
            assertNoReplicationLeft(cluster);
            try (Connection c = cluster.shard(3).connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM events")) {
                rs.next();
                assertThat(rs.getLong(1)).as("rows copied to the abandoned target").isZero();
            }
        }
    }

    @org.junit.jupiter.api.Test
    void abortAfterAJobCutOverKeepsThatJobMovedAndCleansUp(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            Throwable crash = catchThrowable(() -> f.mover(crashAt("cutover", "fenced", 1)).execute(plan));
            assertThat(crash).hasMessageContaining("simulated crash");
            long moveId = f.mover(MoveListener.NONE).running().orElseThrow().id;

            f.mover(MoveListener.NONE).abort(moveId);

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.catalog.version()).as("job 0 published its version").isEqualTo(2);
            assertThat(f.catalog.load().nodes()).containsKey("shard3");
            f.checkEverything();
            assertNoReplicationLeft(cluster);
        }
    }

    static void assertNoReplicationLeft(PgCluster cluster) throws SQLException {
        for (var shard : cluster.shards()) {
            try (Connection c = shard.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT (SELECT count(*) FROM pg_subscription) + (SELECT count(*) FROM pg_publication)"
                            + " + (SELECT count(*) FROM pg_replication_slots)")) {
                rs.next();
                assertThat(rs.getLong(1)).as("subscriptions, publications and slots left on %s", shard.name()).isZero();
            }
        }
    }
}
