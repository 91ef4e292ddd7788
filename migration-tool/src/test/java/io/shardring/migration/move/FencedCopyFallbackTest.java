package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.testkit.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Servers without logical replication: the mover copies with COPY under the fence, losing nothing. */
class FencedCopyFallbackTest {
    private static PgCluster cluster;

    @BeforeAll
    static void start() {
        cluster = PgCluster.builder().shards(3).serverSetting("wal_level", "replica").start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void addingAndRemovingANodeWithoutLogicalReplicationUnderWrites() throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 2)) {
            f.startWriters(4);
            f.awaitOps(1500);
            Plan add = f.plan(TopologyChange.addNode(MoveFixture.node(cluster.shard(2))));
            assertThat(add.warnings()).anyMatch(w -> w.contains("COPY fallback"));
            f.mover(MoveListener.NONE).execute(add);
            f.awaitOps(f.ops.get() + 1000);
            assertThat(f.catalog.load().nodes()).containsKey("shard2");

            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.removeNode("shard0")));
            f.awaitOps(f.ops.get() + 1000);
            f.stopWriters();
            assertThat(f.catalog.load().nodes()).doesNotContainKey("shard0");
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }
}
