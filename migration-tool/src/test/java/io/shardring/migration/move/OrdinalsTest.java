package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Node ordinals across a ring's life: a ring made before ordinals (no `init` since) gets them at its next move, before
 * the node it adds, above the ids its nodes drew from 1 (ordinal 0 set aside), so no node draws an id drawn before;
 * a node removed, then added back by a move that is aborted, then added again, never gets an ordinal given before.
 */
@PgShards(3)
class OrdinalsTest {

    @Test
    void aRingWithoutOrdinalsGetsThemAtItsNextMoveAndNoOrdinalIsEverGivenTwice(PgCluster cluster) throws Exception {
        MoveFixture.wipe(cluster);
        Map<String, DataSource> nodes = new LinkedHashMap<>();
        for (int i = 0; i < 2; i++) {
            try (Connection c = cluster.shard(i).connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS tickets");
                s.execute("CREATE TABLE tickets (tenant_id bigint NOT NULL, id bigserial, PRIMARY KEY (tenant_id, id))");
            }
            nodes.put(cluster.shard(i).name(), cluster.shard(i).dataSource());
        }
        try (Connection c = cluster.shard(2).connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS shardring CASCADE");
            s.execute("DROP TABLE IF EXISTS tickets");
        }
        Topology v1 = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT)).table("tickets", "tenant_id")
                .node(MoveFixture.node(cluster.shard(0))).node(MoveFixture.node(cluster.shard(1))).build()
                .withStoredTokens();
        // a ring as a version before ordinals made it: the catalog and the guard, no membership, no ordinal
        ShardedFlyway.configure(v1, nodes).locations().load().migrate().orThrow();
        try (NodePools pools = new NodePools(System::getenv)) {
            cluster.shards().forEach(s -> pools.add(MoveFixture.node(s)));
            Catalog catalog = Catalog.open(pools.apply("shard0"));
            assertThat(catalog.initialize(v1)).isTrue();
            for (int i = 0; i < 2; i++) {
                PgShard s = cluster.shard(i);
                for (long t = 0; t < 400; t++) {
                    if (v1.ring().route(t).id().equals(s.name())) {
                        sql(s, "INSERT INTO tickets (tenant_id) SELECT " + t + " FROM generate_series(1, 3)");
                    }
                }
            }
            NodeOrdinals ordinals = new NodeOrdinals(catalog.dataSource());
            assertThat(ordinals.active()).isEmpty();
            Mover mover = new Mover(catalog, pools, new Mover.Options().deleteBatch(100), MoveListener.NONE);

            // the ring's nodes drew ids from 1 each: ordinal 0 is set aside (its range holds those ids), they get 1
            // and 2, the node added 3, and every node draws from its own range, above every id drawn before
            mover.execute(Planner.plan(catalog.load(), TopologyChange.addNode(MoveFixture.node(cluster.shard(2))),
                    pools));
            assertThat(ordinals.active()).isEqualTo(Map.of("shard0", 1, "shard1", 2, "shard2", 3));
            for (int i = 0; i < 3; i++) {
                assertThat(maxValue(cluster.shard(i))).as("shard%d's sequence", i)
                        .isEqualTo(SequenceRanges.high(i + 1));
                sql(cluster.shard(i), "INSERT INTO tickets (tenant_id) VALUES (" + tenantOn(catalog.load(),
                        "shard" + i) + ")");
                assertThat(maxId(cluster.shard(i))).isGreaterThanOrEqualTo(SequenceRanges.low(i + 1));
            }
            assertNewIdsUnique(cluster);

            // removed: its ordinal is retired
            mover.execute(Planner.plan(catalog.load(), TopologyChange.removeNode("shard2"), pools));
            assertThat(ordinals.active()).containsOnlyKeys("shard0", "shard1");

            // added back, aborted before its cutover: the ordinal it got is retired too
            Plan again = Planner.plan(catalog.load(), TopologyChange.addNode(MoveFixture.node(cluster.shard(2))), pools);
            Throwable stopped = catchThrowable(() -> new Mover(catalog, pools, new Mover.Options(),
                    CrashResumeTest.crashAt("copy", "started", 0)).execute(again));
            assertThat(stopped).hasMessageContaining("simulated crash");
            long moveId = mover.running().orElseThrow().id;
            mover.abort(moveId);
            assertThat(ordinals.active()).containsOnlyKeys("shard0", "shard1");

            // and added for good: a fourth ordinal, never one given before
            mover.execute(Planner.plan(catalog.load(), TopologyChange.addNode(MoveFixture.node(cluster.shard(2))),
                    pools));
            assertThat(ordinals.active().get("shard2")).isEqualTo(5);
            assertThat(maxValue(cluster.shard(2))).isEqualTo(SequenceRanges.high(5));
            sql(cluster.shard(2), "INSERT INTO tickets (tenant_id) VALUES (" + tenantOn(catalog.load(), "shard2") + ")");
            assertThat(maxId(cluster.shard(2))).isGreaterThanOrEqualTo(SequenceRanges.low(5));
            assertNewIdsUnique(cluster);
        }
    }

    private static long tenantOn(Topology t, String node) {
        for (long k = 0; ; k++) {
            if (t.ring().route(k).id().equals(node)) {
                return k;
            }
        }
    }

    /** Ids drawn since the nodes had ordinals (above ordinal 0's range) are never on two nodes. */
    private static void assertNewIdsUnique(PgCluster cluster) throws SQLException {
        Set<Long> ids = new HashSet<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id FROM tickets WHERE id > " + SequenceRanges.high(0))) {
                while (rs.next()) {
                    assertThat(ids.add(rs.getLong(1))).as("id %d on two nodes", rs.getLong(1)).isTrue();
                }
            } catch (SQLException noTable) {
                // shard2 before it joined
            }
        }
    }

    private static long maxValue(PgShard s) throws SQLException {
        return one(s, "SELECT max_value FROM pg_sequences WHERE sequencename = 'tickets_id_seq'");
    }

    private static long maxId(PgShard s) throws SQLException {
        return one(s, "SELECT max(id) FROM tickets");
    }

    private static long one(PgShard s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void sql(PgShard s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
