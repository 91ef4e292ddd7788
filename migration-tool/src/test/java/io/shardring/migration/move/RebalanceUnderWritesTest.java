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
 * that is said to be online, and nothing acknowledged is lost, duplicated or brought back. A whale tenant, which takes
 * half of the inserts, is pinned to a node of its own choosing first: it moves alone, and both rebalances keep it.
 */
@PgShards(4)
class RebalanceUnderWritesTest {
    private static final Set<String> ONLINE = PhaseProbe.INSIDE.keySet();
    private static final int NOTES_OF_ONE_TENANT = MoveFixture.NOTES_PER_TENANT;

    @Test
    void pinAWhaleThenAddAndRemoveANodeWhileEightWritersKeepWriting(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            long whale = 7;
            f.workload.focus(whale);
            f.workload.start(8);
            f.workload.awaitOps(3000);

            Topology unpinned = f.catalog.load();
            String ringOwner = unpinned.ring().route(whale).id();
            String pinNode = ringOwner.equals("shard2") ? "shard0" : "shard2"; // not shard1, which leaves below
            Plan pin = f.plan(TopologyChange.pin(whale, pinNode));
            long hash = io.shardring.router.ring.KeyType.BIGINT.hash(whale);
            assertThat(pin.jobs()).as(pin.render()).singleElement().satisfies(j -> {
                assertThat(j.source()).isEqualTo(ringOwner);
                assertThat(j.target()).isEqualTo(pinNode);
                assertThat(j.ranges()).extracting(r -> r.startExclusive() + ".." + r.endInclusive())
                        .containsExactly((hash - 1) + ".." + hash);
                assertThat(j.rows()).as("the whale's rows only").isGreaterThan(NOTES_OF_ONE_TENANT)
                        .isLessThan(f.workload.acknowledgedLiveRows() / 2 + 1000);
            });
            assertThat(pin.render()).contains("plan: pin 7 to " + pinNode).contains("pinned keys after: 7 on " + pinNode);
            PhaseProbe duringPin = new PhaseProbe(f.workload, ONLINE, 3);
            f.mover(duringPin).execute(pin);
            assertThat(duringPin.results()).as("writers' progress inside each phase of the pin's move")
                    .containsOnlyKeys(ONLINE).allSatisfy((phase, result) -> assertThat(result).isEqualTo("ok"));
            Topology before = f.catalog.load();
            assertThat(before.ring().route(whale).id()).isEqualTo(pinNode);
            assertThat(HashRing.diff(unpinned.ring(), before.ring()).moves()).hasSize(1);
            assertThat(f.workload.acknowledgedLiveRows(whale)).isGreaterThan(500);
            // the guard: the old owner refuses the whale's rows, its pin node takes them
            try (java.sql.Connection c = f.pools.apply(ringOwner).getConnection();
                    java.sql.Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.executeUpdate("INSERT INTO events (tenant_id, id, val) VALUES (7, -1, 0)"))
                        .isInstanceOfSatisfying(java.sql.SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo("SR001"));
                try (java.sql.ResultSet r = st.executeQuery("SELECT count(*) FROM events WHERE tenant_id = 7")) {
                    assertThat(r.next() && r.getLong(1) == 0).as("the whale's rows left " + ringOwner).isTrue();
                }
            }

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
            for (Topology t : new Topology[] {grown, shrunk}) {
                assertThat(t.ring().route(whale).id()).as("the pin through version " + t.version()).isEqualTo(pinNode);
                assertThat(t.pins()).hasSize(1);
            }
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);

            // unpinned, the whale goes back to its arc's owner, and only it moves
            Plan unpin = f.plan(TopologyChange.unpin(whale));
            String backTo = shrunk.ring().unpinned().route(whale).id();
            if (backTo.equals(pinNode)) {
                assertThat(unpin.jobs()).isEmpty();
            } else {
                assertThat(unpin.jobs()).singleElement().satisfies(j -> {
                    assertThat(j.source()).isEqualTo(pinNode);
                    assertThat(j.target()).isEqualTo(backTo);
                });
            }
            f.mover(MoveListener.NONE).execute(unpin);
            assertThat(f.catalog.load().pins()).isEmpty();
            f.checkEverything();
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
