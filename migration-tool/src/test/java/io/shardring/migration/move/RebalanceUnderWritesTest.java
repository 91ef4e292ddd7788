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
import org.junit.jupiter.api.Test;

/** 3 -> 4 and 4 -> 3 nodes while 8 writers insert and update; nothing acknowledged is lost. */
@PgShards(4)
class RebalanceUnderWritesTest {

    @Test
    void addAndRemoveANodeWhileEightWritersKeepWriting(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.startWriters(8);
            f.awaitOps(3000);

            Topology before = f.catalog.load();
            Plan add = f.plan(TopologyChange.addNode(MoveFixture.node(cluster.shard(3))));
            assertThat(add.isExecutable()).as(add.render()).isTrue();
            long moveId = f.mover(MoveListener.NONE).execute(add);
            assertThat(moveId).isPositive();
            f.awaitOps(f.ops.get() + 2000);
            Topology grown = f.catalog.load();
            assertThat(grown.nodes()).containsKey("shard3");
            double moved = HashRing.diff(before.ring(), grown.ring()).movedShare();
            assertThat(moved).isCloseTo(add.movedShare(), org.assertj.core.data.Offset.offset(0.02));
            assertThat(moved).isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.02));

            Plan remove = f.plan(TopologyChange.removeNode("shard1"));
            f.mover(MoveListener.NONE).execute(remove);
            f.awaitOps(Math.max(10_000, f.ops.get() + 2000));
            f.stopWriters();

            Topology shrunk = f.catalog.load();
            assertThat(shrunk.nodes()).doesNotContainKey("shard1").containsKey("shard3");
            assertThat(HashRing.diff(grown.ring(), shrunk.ring()).movedShare())
                    .isCloseTo(remove.movedShare(), org.assertj.core.data.Offset.offset(0.02));
            assertThat(f.ops.get()).isGreaterThanOrEqualTo(10_000);
            assertThat(f.acknowledged).hasSizeGreaterThan(1000);
            f.checkEverything();
        }
    }

    @Test
    void aSecondRebalanceWhileOneRunsIsRefusedNamingIt(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            Plan add = f.plan(TopologyChange.addNode(MoveFixture.node(cluster.shard(3))));
            long first = f.mover(MoveListener.NONE).start(add);
            assertThatThrownBy(() -> f.mover(MoveListener.NONE).start(add)).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("move " + first).hasMessageContaining("add-node shard3");
            f.mover(MoveListener.NONE).abort(first);
            assertThat(f.mover(MoveListener.NONE).running()).isEmpty();
            assertThat(f.catalog.version()).isEqualTo(1);
        }
    }
}
