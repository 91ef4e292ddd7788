package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.router.ShardringException;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A shard's PostgreSQL killed with SIGKILL (the postmaster and every backend at once) in the middle of a move, while
 * writers write; restarted on its data directory; then resume. Nothing acknowledged is lost. (The test kit's servers
 * commit synchronously: with {@code synchronous_commit = off} a killed server may lose its last acknowledged commits
 * by design, which would say nothing about the mover.)
 */
@PgShards(4)
class ShardKillTest {
    private static PgCluster cluster;

    @BeforeAll
    static void start(PgCluster pg) {
        cluster = pg;
    }

    private static int index(String node) {
        return Integer.parseInt(node.substring("shard".length()));
    }

    @Test
    void aSourceKilledMidCopyIsRestartedAndTheMoveResumes() throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            // not shard0: it holds the catalog, without which nothing can be journaled
            int job = plan.jobs().get(0).source().equals("shard0") ? 1 : 0;
            MoveJob moving = plan.jobs().get(job);
            int source = index(moving.source());
            assertThatThrownBy(() -> f.mover((m, j, phase, event, detail, rows, lag) -> {
                if (j == job && phase.equals("copy") && event.equals("progress") && detail.endsWith("events copied")) {
                    cluster.kill(source);
                }
            }).execute(plan)).isInstanceOf(ShardringException.class).hasMessageContaining("resume");
            assertThat(new MoveJournal(f.catalog).jobs(f.mover(MoveListener.NONE).running().orElseThrow().id)
                    .get(job).phase).isEqualTo(Phase.COPY);

            cluster.restart(source);
            f.mover(MoveListener.NONE).resume();

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.catalog.load().ring().stats().shares().get("shard3")).isCloseTo(0.25, Offset.offset(0.02));
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }

    @Test
    void aTargetKilledMidCutoverIsRestartedAndTheMoveResumes() throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            assertThatThrownBy(() -> f.mover((m, j, phase, event, detail, rows, lag) -> {
                if (j == 0 && phase.equals("cutover") && event.equals("fenced")) {
                    cluster.kill(3);
                }
            }).execute(plan)).isInstanceOf(ShardringException.class).hasMessageContaining("resume");
            long moveId = f.mover(MoveListener.NONE).running().orElseThrow().id;
            assertThat(new MoveJournal(f.catalog).jobs(moveId).get(0).phase).isEqualTo(Phase.CUTOVER);
            // the target may own the ranges already: abort cannot give them back while it is away
            assertThatThrownBy(() -> f.mover(MoveListener.NONE).abort(moveId)).hasMessageContaining("shard3")
                    .hasMessageContaining("unreachable");
            assertThat(new MoveJournal(f.catalog).jobs(moveId).get(0).phase).isEqualTo(Phase.CUTOVER);

            cluster.restart(3);
            f.mover(MoveListener.NONE).resume();

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.catalog.load().nodes()).containsKey("shard3");
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }
}
