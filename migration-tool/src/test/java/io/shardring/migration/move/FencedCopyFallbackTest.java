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
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan add = f.addShard(2);
            assertThat(add.warnings()).anyMatch(w -> w.contains("COPY fallback"));
            f.mover(MoveListener.NONE).execute(add);
            f.workload.awaitOps(f.workload.ops() + 300);
            assertThat(f.catalog.load().nodes()).containsKey("shard2");

            f.mover(MoveListener.NONE).execute(f.plan(TopologyChange.removeNode("shard0")));
            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(f.catalog.load().nodes()).doesNotContainKey("shard0");
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }
}
