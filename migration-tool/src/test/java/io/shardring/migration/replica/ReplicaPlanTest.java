package io.shardring.migration.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.ReplicaLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a sync decides for concrete links and pieces, without a server. */
class ReplicaPlanTest {
    private static final ReplicaLayout.Link A_B = new ReplicaLayout.Link("a", "b");
    private static final ReplicaLayout.Link A_C = new ReplicaLayout.Link("a", "c");
    private static final ReplicaLayout.Link C_B = new ReplicaLayout.Link("c", "b");
    private static final List<String> NODES = List.of("a", "b", "c");

    private static List<long[]> iv(long... bounds) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < bounds.length; i += 2) {
            out.add(new long[] {bounds[i], bounds[i + 1]});
        }
        return out;
    }

    private static ReplicaPlan.Piece ready(long id, ReplicaLayout.Link link, List<long[]> intervals) {
        return new ReplicaPlan.Piece(id, link.primary(), link.secondary(), intervals, false);
    }

    private static Map<ReplicaLayout.Link, List<long[]>> desired(Object... linksAndIntervals) {
        Map<ReplicaLayout.Link, List<long[]>> out = new LinkedHashMap<>();
        for (int i = 0; i < linksAndIntervals.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<long[]> intervals = (List<long[]>) linksAndIntervals[i + 1];
            out.put((ReplicaLayout.Link) linksAndIntervals[i], intervals);
        }
        return out;
    }

    @Test
    void piecesThatAreTheDesiredOnesChangeNothing() {
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 99), C_B, iv(200, 299)),
                List.of(ready(1, A_B, iv(0, 49)), ready(2, A_B, iv(50, 99)), ready(3, C_B, iv(200, 299))), NODES,
                true);
        assertThat(plan.isEmpty()).isTrue();
        assertThat(plan.stampNow).containsExactly("a", "b", "c");
        assertThat(plan.stampAtEnd()).isEmpty();
    }

    @Test
    void aLinkThatLosesSomeArcsIsNarrowedAndItsStoreDeletesThem() {
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 49)), List.of(ready(1, A_B, iv(0, 99))), NODES,
                true);
        assertThat(plan.shrinks).singleElement().satisfies(s -> {
            assertThat(s.piece().id()).isEqualTo(1);
            assertThat(s.drops()).isFalse();
            assertThat(s.keep()).containsExactly(new long[] {0, 49});
            assertThat(s.delete()).containsExactly(new long[] {50, 99});
        });
        assertThat(plan.seeds).isEmpty();
        assertThat(plan.changing).containsExactly("b");
        assertThat(plan.stampNow).containsExactly("a", "c");
        assertThat(plan.stampAtEnd()).containsExactly("b");
    }

    @Test
    void arcsAStoreKeepsForAnotherPrimaryAreNotDeleted() {
        // the arcs [50, 99] move from a's copy in b to c's copy in b: b keeps those rows, c's new piece seeds them
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 49), C_B, iv(50, 99)),
                List.of(ready(1, A_B, iv(0, 99))), NODES, true);
        assertThat(plan.shrinks).singleElement().satisfies(s -> {
            assertThat(s.keep()).containsExactly(new long[] {0, 49});
            assertThat(s.delete()).isEmpty();
        });
        assertThat(plan.seeds).singleElement().satisfies(s -> {
            assertThat(s.link()).isEqualTo(C_B);
            assertThat(s.intervals()).containsExactly(new long[] {50, 99});
        });
    }

    @Test
    void aLinkThatLosesEverythingIsDropped() {
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_C, iv(0, 99)), List.of(ready(1, A_B, iv(0, 99))), NODES,
                true);
        assertThat(plan.shrinks).singleElement().satisfies(s -> {
            assertThat(s.drops()).isTrue();
            assertThat(s.delete()).containsExactly(new long[] {0, 99});
        });
        assertThat(plan.seeds).singleElement().satisfies(s -> {
            assertThat(s.link()).isEqualTo(A_C);
            assertThat(s.intervals()).containsExactly(new long[] {0, 99});
        });
        assertThat(plan.changing).containsExactly("b", "c");
        assertThat(plan.stampNow).containsExactly("a");
    }

    @Test
    void aLinkThatGainsArcsGetsOneNewPieceForThem() {
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 99, 200, 249)),
                List.of(ready(1, A_B, iv(0, 49))), NODES, true);
        assertThat(plan.shrinks).isEmpty();
        assertThat(plan.seeds).singleElement().satisfies(s -> {
            assertThat(s.link()).isEqualTo(A_B);
            assertThat(s.intervals()).containsExactly(new long[] {50, 99}, new long[] {200, 249});
        });
        assertThat(plan.changing).containsExactly("b");
    }

    @Test
    void piecesIntoANodeThatLeftAreDroppedWithoutTouchingItsStore() {
        // c left: its copies of a's arcs go to b, its own arcs are a's now
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 99)),
                List.of(ready(1, A_C, iv(0, 99)), ready(2, C_B, iv(100, 199))), List.of("a", "b"), true);
        assertThat(plan.shrinks).extracting(s -> s.piece().id()).containsExactly(1L, 2L);
        assertThat(plan.shrinks).allSatisfy(s -> assertThat(s.drops()).isTrue());
        assertThat(plan.shrinks.get(0).delete()).as("c's store left with c").isEmpty();
        assertThat(plan.shrinks.get(1).delete()).containsExactly(new long[] {100, 199});
        assertThat(plan.seeds).singleElement().satisfies(s -> assertThat(s.link()).isEqualTo(A_B));
        assertThat(plan.changing).containsExactly("b");
        assertThat(plan.stampNow).containsExactly("a");
    }

    @Test
    void oneCopyLessDropsEveryPieceAndStampsNothing() {
        ReplicaPlan plan = ReplicaPlan.reconcile(Map.of(), List.of(ready(1, A_B, iv(0, 99)),
                ready(2, C_B, iv(100, 199))), NODES, false);
        assertThat(plan.shrinks).allSatisfy(s -> assertThat(s.drops()).isTrue()).hasSize(2);
        assertThat(plan.seeds).isEmpty();
        assertThat(plan.changing).containsExactly("b");
        assertThat(plan.stampNow).isEmpty();
        assertThat(plan.stampAtEnd()).as("the stores are left over").isEmpty();
        assertThat(ReplicaPlan.reconcile(Map.of(), List.of(), NODES, false).isEmpty()).isTrue();
    }

    @Test
    void aThirdCopySeedsEveryNewLinkAndKeepsTheOldPieces() {
        HashRing ring = HashRing.builder(KeyType.BIGINT).vnodes(4).node("a", 1, "z0").node("b", 1, "z1")
                .node("c", 1, "z2").build();
        ReplicaLayout two = ReplicaLayout.of(ring, 2);
        ReplicaLayout three = ReplicaLayout.of(ring, 3);
        List<ReplicaPlan.Piece> pieces = new ArrayList<>();
        for (ReplicaLayout.Link link : two.links()) {
            pieces.add(ready(pieces.size() + 1, link, two.intervalsOf(link)));
        }
        Map<ReplicaLayout.Link, List<long[]>> desired = new LinkedHashMap<>();
        three.links().forEach(link -> desired.put(link, three.intervalsOf(link)));
        ReplicaPlan plan = ReplicaPlan.reconcile(desired, pieces, NODES, true);
        assertThat(plan.shrinks).as("every arc's second copy stays where it is").isEmpty();
        assertThat(plan.seeds).isNotEmpty().allSatisfy(s -> assertThat(s.intervals()).containsExactlyElementsOf(
                HashIntervals.minus(three.intervalsOf(s.link()), two.intervalsOf(s.link()))));
        // and back to two: the third copies go again, and no store deletes what it keeps as a second copy
        List<ReplicaPlan.Piece> all = new ArrayList<>(pieces);
        plan.seeds.forEach(s -> all.add(ready(all.size() + 1, s.link(), s.intervals())));
        Map<ReplicaLayout.Link, List<long[]>> back = new LinkedHashMap<>();
        two.links().forEach(link -> back.put(link, two.intervalsOf(link)));
        ReplicaPlan down = ReplicaPlan.reconcile(back, all, NODES, true);
        assertThat(down.seeds).isEmpty();
        assertThat(down.shrinks).hasSameSizeAs(plan.seeds);
        down.shrinks.forEach(s -> assertThat(HashIntervals.intersect(s.delete(),
                two.secondaryIntervalsOf(s.piece().secondary()))).isEmpty());
    }

    @Test
    void piecesAStoppedSyncLeftSeedingAreFinishedWhenTheirLinkIsStillWanted() {
        ReplicaPlan.Piece wanted = new ReplicaPlan.Piece(1, "a", "b", iv(0, 99), true);
        ReplicaPlan.Piece unwanted = new ReplicaPlan.Piece(2, "a", "c", iv(0, 99), true);
        ReplicaPlan plan = ReplicaPlan.reconcile(desired(A_B, iv(0, 99)), List.of(wanted, unwanted), NODES, true);
        assertThat(plan.resume).containsExactly(wanted);
        assertThat(plan.shrinks).singleElement().satisfies(s -> assertThat(s.piece()).isEqualTo(unwanted));
        assertThat(plan.seeds).isEmpty();
    }
}
