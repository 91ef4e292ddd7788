package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

@PgShards(3)
class MoverBadInputTest {

    @Test
    void anUnreachableTargetFailsTheMoveNamingItAndAbortLeavesNothingBehind(PgCluster cluster) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (MoveFixture f = new MoveFixture(cluster, 2)) {
            NodeConfig ghost = NodeConfig.builder("ghost").jdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/app")
                    .user("app").pool(p -> p.connectionTimeout(Duration.ofSeconds(1))).build();
            f.pools.add(ghost);
            // the planner refuses a new node it cannot reach
            Plan refused = f.plan(TopologyChange.addNode(ghost));
            assertThat(refused.isExecutable()).isFalse();
            assertThat(refused.errors()).anyMatch(e -> e.startsWith("cannot reach new node ghost: "));
            // a plan made without checking it (no data source given for it): the mover names the node and stops
            Plan plan = Planner.plan(f.catalog.load(), TopologyChange.addNode(ghost),
                    id -> id.equals("ghost") ? null : f.pools.apply(id));
            assertThat(plan.warnings()).anyMatch(w -> w.contains("ghost"));
            Mover mover = f.mover(MoveListener.NONE);
            assertThatThrownBy(() -> mover.execute(plan)).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("ghost").hasMessageContaining("resume");
            long id = mover.running().orElseThrow().id;
            mover.abort(id);
            assertThat(mover.running()).isEmpty();
            assertThat(f.catalog.version()).isEqualTo(1);
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }

    @Test
    void unknownNodesExistingNodesTheLastNodeAndBadWeightsAreRefused(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 1)) {
            assertThatThrownBy(() -> f.plan(TopologyChange.removeNode("nope"))).hasMessageContaining("'nope'");
            assertThatThrownBy(() -> f.plan(TopologyChange.addNode(MoveFixture.node(cluster.shard(0)))))
                    .hasMessageContaining("shard0").hasMessageContaining("already");
            assertThatThrownBy(() -> f.plan(TopologyChange.removeNode("shard0"))).hasMessageContaining("last node");
            assertThatThrownBy(() -> TopologyChange.setWeight("shard0", 0)).hasMessageContaining("weight 0.0");
            assertThatThrownBy(() -> TopologyChange.setWeight("shard0", -1)).hasMessageContaining("-1.0");
            assertThat(f.catalog.version()).isEqualTo(1);
        }
    }

    @Test
    void aPlanFromAnOlderVersionIsRefused(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 2)) {
            Plan stale = f.plan(TopologyChange.setWeight("shard0", 2.0));
            f.catalog.publish(f.catalog.load().toBuilder().version(2).build(), "a concurrent change");
            assertThatThrownBy(() -> f.mover(MoveListener.NONE).start(stale)).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("version 1").hasMessageContaining("version 2");
        }
    }

    @Test
    void aCatalogSchemaNewerThanTheToolIsRefused(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 1)) {
            try (Connection c = cluster.shard(0).connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO shardring.catalog_schema_history (installed_rank, version, description, type,"
                        + " script, checksum, installed_by, execution_time, success) VALUES (99, '99', 'from the future',"
                        + " 'SQL', 'V99__future.sql', 0, 'test', 0, true)");
            }
            assertThatThrownBy(() -> Catalog.open(f.pools.apply("shard0"))).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("99").hasMessageContaining("newer");
        }
    }
}
