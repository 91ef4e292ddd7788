package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaLayoutTest {

    private static HashRing ring(int nodes, int zones) {
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT);
        for (int i = 0; i < nodes; i++) {
            b.node("n" + i, 1.0, "z" + (i % zones));
        }
        return b.build();
    }

    @Test
    void fourNodesInThreeZonesKeepEachArcsSecondaryInAnotherZoneAndSpreadTheLoad() {
        HashRing ring = ring(4, 3);
        ReplicaLayout layout = ReplicaLayout.of(ring, 2);
        for (ReplicaLayout.Arc a : layout.arcs()) {
            assertThat(a.secondaries()).hasSize(1);
            assertThat(a.secondaries().get(0).zone()).as("%s", a).isNotEqualTo(a.primary().zone());
        }
        // n0 and n3 share zone z0: neither is ever the other's secondary
        assertThat(layout.links()).doesNotContain(new ReplicaLayout.Link("n0", "n3"),
                new ReplicaLayout.Link("n3", "n0"));
        // n0's copies go to n1 (z1) and n2 (z2), about half each: not all on one node
        assertThat(layout.spread()).isBetween(0.4, 0.62);
        assertThat(layout.warnings()).isEmpty();
        // the figures of docs/architecture.md; successors (the next nodes clockwise) gave 1.0 at every size
        for (int n : new int[] {6, 10, 30, 100, 300}) {
            ReplicaLayout l = ReplicaLayout.of(ring(n, 3), 2);
            System.out.println(n + " nodes / 3 zones, R=2: " + l + " spread=" + l.spread());
            assertThat(l.spread()).as("spread at %d nodes", n).isLessThan(0.35);
        }
    }

    @Test
    void aJoinToAThousandNodesSeedsLittleMoreThanTheJoinersShare() {
        HashRing ring = ring(1000, 3);
        long t0 = System.nanoTime();
        ReplicaLayout layout = ReplicaLayout.of(ring, 2);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        HashRing joined = ring.withNode(RingNode.of("joiner", 1.0, "z1"));
        ReplicaLayout after = ReplicaLayout.of(joined, 2);
        ReplicaLayout.Changes c = ReplicaLayout.changes(layout, after);
        double joinerShare = HashIntervals.share(HashIntervals.of(joined.rangesOf("joiner")));
        System.out.println("1000 nodes, R=2: " + layout + " in " + ms + " ms, spread=" + layout.spread()
                + ", join seeds " + c.seededShare() / joinerShare + " x the joiner's share, follow links "
                + c.follow().size() + ", drops " + c.drop().size());
        // the joiner's own copies (about its share) and the copies of the arcs it took, which their old owner,
        // where it ranks first, must now keep as a secondary
        assertThat(c.seededShare()).isBetween(joinerShare, 2.5 * joinerShare);
        // even a node the allocation left with a single arc spreads its copies over several nodes
        assertThat(layout.spread()).isLessThan(0.2);
    }

    @Test
    void aFactorAboveTheNodeCountIsRefusedAndAboveTheZoneCountWarned() {
        assertThatThrownBy(() -> ReplicaLayout.of(ring(2, 2), 3)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("ring.replicationFactor 3").hasMessageContaining("the ring has 2")
                .hasMessageContaining("add nodes");
        ReplicaLayout layout = ReplicaLayout.of(ring(5, 2), 3);
        assertThat(layout.warnings()).singleElement().asString().contains("ring.replicationFactor 3")
                .contains("2 zones");
        for (ReplicaLayout.Arc a : layout.arcs()) {
            assertThat(a.nodes().stream().map(RingNode::zone).distinct()).hasSize(2);
        }
        assertThat(ReplicaLayout.of(ring(3, 1), 1).links()).isEmpty();
        assertThat(ReplicaLayout.of(ring(3, 1), 1).spread()).isZero();
    }

    @Test
    void hashIntervalsSubtractIntersectAndMeasureAtTheEndsOfTheRing() {
        long min = Long.MIN_VALUE;
        long max = Long.MAX_VALUE;
        List<long[]> all = List.of(new long[] {min, max});
        List<long[]> cut = List.of(new long[] {min, min + 1}, new long[] {-5, 5}, new long[] {max, max});
        List<long[]> rest = HashIntervals.minus(all, cut);
        assertThat(rest).hasSize(2);
        assertThat(rest.get(0)).containsExactly(min + 2, -6);
        assertThat(rest.get(1)).containsExactly(6, max - 1);
        assertThat(HashIntervals.same(HashIntervals.union(rest, cut), all)).isTrue();
        assertThat(HashIntervals.same(HashIntervals.intersect(all, cut), HashIntervals.normalize(cut))).isTrue();
        assertThat(HashIntervals.share(all)).isEqualTo(1.0);
        assertThat(HashIntervals.share(List.of(new long[] {0, max}))).isEqualTo(0.5);
        assertThat(HashIntervals.toRanges(all)).containsExactly(new TokenRange(0, 0));
        assertThat(HashIntervals.toRanges(List.of(new long[] {min, 7}))).containsExactly(new TokenRange(max, 7));
    }
}
