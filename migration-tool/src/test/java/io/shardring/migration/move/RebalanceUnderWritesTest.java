package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * 3 -> 4 and 4 -> 3 nodes while 8 writers insert, increment and delete: every writer keeps going in every phase
 * that is said to be online, and nothing acknowledged is lost, duplicated or brought back.
 */
@PgShards(4)
class RebalanceUnderWritesTest {
    private static final Set<String> ONLINE = PhaseProbe.INSIDE.keySet();

    @Test
    void addAndRemoveANodeWhileEightWritersKeepWriting(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(8);
            f.workload.awaitOps(3000);

            Topology before = f.catalog.load();
            Plan add = f.addShard(3);
            assertThat(add.isExecutable()).as(add.render()).isTrue();
            PhaseProbe duringAdd = new PhaseProbe(f.workload, ONLINE, 3);
            long moveId = f.mover(duringAdd).execute(add);
            assertThat(moveId).isPositive();
            assertThat(duringAdd.results()).as("writers' progress inside each phase of add-node")
                    .containsOnlyKeys(ONLINE).allSatisfy((phase, result) -> assertThat(result).isEqualTo("ok"));
            f.workload.awaitOps(f.workload.ops() + 1000);
            Topology grown = f.catalog.load();
            assertThat(grown.nodes()).containsKey("shard3");
            double moved = HashRing.diff(before.ring(), grown.ring()).movedShare();
            assertThat(moved).isCloseTo(add.movedShare(), Offset.offset(0.02));
            assertThat(moved).isCloseTo(0.25, Offset.offset(0.02));

            Plan remove = f.plan(TopologyChange.removeNode("shard1"));
            PhaseProbe duringRemove = new PhaseProbe(f.workload, ONLINE, 3);
            f.mover(duringRemove).execute(remove);
            assertThat(duringRemove.results()).as("writers' progress inside each phase of remove-node")
                    .containsOnlyKeys(ONLINE).allSatisfy((phase, result) -> assertThat(result).isEqualTo("ok"));
            f.workload.awaitOps(Math.max(8_000, f.workload.ops() + 1000));
            f.workload.stop();

            Topology shrunk = f.catalog.load();
            assertThat(shrunk.nodes()).doesNotContainKey("shard1").containsKey("shard3");
            assertThat(HashRing.diff(grown.ring(), shrunk.ring()).movedShare())
                    .isCloseTo(remove.movedShare(), Offset.offset(0.02));
            assertThat(f.workload.acknowledgedLiveRows()).isGreaterThan(1000);
            assertThat(f.workload.acknowledgedDeletes()).isGreaterThan(500);
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }

    @Test
    void aSecondRebalanceWhileOneRunsIsRefusedNamingIt(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan add = f.addShard(3);
            long first = f.mover(MoveListener.NONE).start(add);
            assertThatThrownBy(() -> f.mover(MoveListener.NONE).start(add)).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("move " + first).hasMessageContaining("add-node shard3");
            f.mover(MoveListener.NONE).abort(first);
            assertThat(f.mover(MoveListener.NONE).running()).isEmpty();
            assertThat(f.catalog.version()).isEqualTo(1);
        }
    }
}
