package io.shardring.migration.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.ring.RingNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A sync's plan, applied in memory to the pieces it was made from, leaves exactly the desired arcs per link, each
 * once; it touches only links that differ, deletes only what a store no longer keeps, and a plan made from its
 * result is empty. On rings before and after a change (a node added, removed or reweighted, the replication factor
 * changed), with pieces as a sync that stopped may leave them, and on arbitrary arc sets.
 */
class ReplicaPlanProperties {

    enum Change { NONE, ADD, REMOVE, REWEIGHT, FACTOR }

    @Property(tries = 40)
    void aRingChangeIsReconciledExactly(@ForAll @IntRange(min = 2, max = 6) int nodes,
            @ForAll @IntRange(min = 1, max = 8) int vnodes, @ForAll @IntRange(min = 1, max = 3) int factorBefore,
            @ForAll @IntRange(min = 1, max = 3) int factorAfter, @ForAll Change change, @ForAll long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).vnodes(vnodes);
        for (int i = 0; i < nodes; i++) {
            b.node("n" + i, 0.5 + rnd.nextInt(4) * 0.5, "z" + (i % 3));
        }
        HashRing before = b.build();
        HashRing after = switch (change) {
            case NONE, FACTOR -> before;
            case ADD -> before.withNode(RingNode.of("joiner", 1.0, "z" + rnd.nextInt(3)));
            case REMOVE -> before.withoutNode("n" + rnd.nextInt(nodes));
            case REWEIGHT -> before.withWeight("n" + rnd.nextInt(nodes), 0.5 + rnd.nextInt(6) * 0.5);
        };
        int r0 = Math.min(factorBefore, before.nodes().size());
        int r1 = Math.min(change == Change.FACTOR ? factorAfter : factorBefore, after.nodes().size());
        Map<ReplicaLayout.Link, List<long[]>> had = links(before, r0);
        Map<ReplicaLayout.Link, List<long[]>> desired = links(after, r1);
        List<ReplicaPlan.Piece> pieces = new ArrayList<>();
        had.forEach((link, iv) -> {
            if (rnd.nextInt(8) > 0) { // else a stopped sync dropped it already
                split(rnd, pieces, link, iv);
            }
        });
        if (rnd.nextBoolean()) { // a stopped sync seeded some links already
            desired.forEach((link, iv) -> {
                if (rnd.nextBoolean()) {
                    split(rnd, pieces, link, HashIntervals.minus(iv, covered(pieces, link)));
                }
            });
        }
        List<String> ids = after.nodes().stream().map(RingNode::id).toList();
        checkReconciles(desired, pieces, ids, r1 >= 2);
    }

    @Property(tries = 150)
    void arbitraryArcsAreReconciledExactly(@ForAll @IntRange(min = 1, max = 5) int nodes, @ForAll long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> all = List.of("n0", "n1", "n2", "n3", "n4", "n5");
        List<String> topology = new ArrayList<>(all.subList(0, nodes));
        Map<ReplicaLayout.Link, List<long[]>> desired = new TreeMap<>();
        List<ReplicaPlan.Piece> pieces = new ArrayList<>();
        for (String p : all) {
            for (String s : all) {
                if (p.equals(s)) {
                    continue;
                }
                ReplicaLayout.Link link = new ReplicaLayout.Link(p, s);
                if (topology.contains(p) && topology.contains(s) && rnd.nextInt(3) > 0) {
                    desired.put(link, cells(rnd));
                }
                if (rnd.nextInt(3) == 0) {
                    split(rnd, pieces, link, cells(rnd));
                }
            }
        }
        checkReconciles(desired, pieces, topology, !desired.isEmpty() || rnd.nextBoolean());
    }

    private static void checkReconciles(Map<ReplicaLayout.Link, List<long[]>> desired, List<ReplicaPlan.Piece> pieces,
            List<String> nodes, boolean replicated) {
        ReplicaPlan plan = ReplicaPlan.reconcile(desired, pieces, nodes, replicated);
        List<ReplicaPlan.Piece> result = apply(plan, pieces);

        Set<ReplicaLayout.Link> links = new LinkedHashSet<>(desired.keySet());
        pieces.forEach(p -> links.add(p.link()));
        for (ReplicaLayout.Link link : links) {
            List<long[]> want = desired.getOrDefault(link, List.of());
            assertSameArcs(covered(result, link), want, "arcs of " + link + " after the plan");
            List<ReplicaPlan.Piece> of = result.stream().filter(p -> p.link().equals(link)).toList();
            for (int i = 0; i < of.size(); i++) {
                for (int j = i + 1; j < of.size(); j++) {
                    assertThat(HashIntervals.intersect(of.get(i).intervals(), of.get(j).intervals()))
                            .as("arcs of %s in two pieces", link).isEmpty();
                }
            }
            if (HashIntervals.same(covered(pieces, link), want)) {
                assertThat(plan.shrinks).as("shrinks of unchanged %s", link)
                        .noneMatch(s -> s.piece().link().equals(link));
                assertThat(plan.seeds).as("seeds of unchanged %s", link).noneMatch(s -> s.link().equals(link));
            }
        }

        Map<String, List<long[]>> kept = new TreeMap<>();
        desired.forEach((link, iv) -> kept.merge(link.secondary(), iv, HashIntervals::union));
        Set<String> changed = new LinkedHashSet<>();
        for (ReplicaPlan.Shrink s : plan.shrinks) {
            String store = s.piece().secondary();
            List<long[]> lost = HashIntervals.minus(s.piece().intervals(), s.keep());
            List<long[]> expected = nodes.contains(store)
                    ? HashIntervals.minus(lost, kept.getOrDefault(store, List.of())) : List.of();
            assertSameArcs(s.delete(), expected, "rows " + store + " deletes for " + s.piece().name());
            changed.add(store);
        }
        plan.seeds.forEach(s -> changed.add(s.link().secondary()));
        changed.retainAll(nodes);
        assertThat(plan.changing).as("stores marked as changing").containsExactlyInAnyOrderElementsOf(changed);
        assertThat(plan.stampNow).as("stamped at once and changing").noneMatch(plan.changing::contains);
        if (replicated) {
            Set<String> stamped = new LinkedHashSet<>(plan.stampNow);
            stamped.addAll(plan.stampAtEnd());
            assertThat(stamped).as("every store stamped").containsExactlyInAnyOrderElementsOf(nodes);
        } else {
            assertThat(plan.stampNow).isEmpty();
            assertThat(plan.stampAtEnd()).isEmpty();
        }
        assertThat(plan.resume).as("pieces whose copy is finished first").containsExactlyElementsOf(pieces.stream()
                .filter(p -> p.seeding() && desired.containsKey(p.link())).toList());

        ReplicaPlan again = ReplicaPlan.reconcile(desired, result, nodes, replicated);
        assertThat(again.isEmpty()).as("plan after the plan: %s shrinks, %s seeds", again.shrinks.size(),
                again.seeds.size()).isTrue();
    }

    private static void assertSameArcs(List<long[]> actual, List<long[]> expected, String what) {
        assertThat(HashIntervals.same(actual, expected)).as("%s: %s, expected %s", what, show(actual), show(expected))
                .isTrue();
    }

    private static String show(List<long[]> intervals) {
        return intervals.stream().map(java.util.Arrays::toString).toList().toString();
    }

    /** The pieces after the plan, all ready: what the catalog records after a sync that ran through. */
    private static List<ReplicaPlan.Piece> apply(ReplicaPlan plan, List<ReplicaPlan.Piece> pieces) {
        List<ReplicaPlan.Piece> out = new ArrayList<>();
        for (ReplicaPlan.Piece p : pieces) {
            List<long[]> intervals = p.intervals();
            for (ReplicaPlan.Shrink s : plan.shrinks) {
                if (s.piece().id() == p.id()) {
                    intervals = s.keep();
                }
            }
            if (!intervals.isEmpty()) {
                out.add(new ReplicaPlan.Piece(p.id(), p.primary(), p.secondary(), intervals, false));
            }
        }
        long id = pieces.stream().mapToLong(ReplicaPlan.Piece::id).max().orElse(0);
        for (ReplicaPlan.Seed s : plan.seeds) {
            out.add(new ReplicaPlan.Piece(++id, s.link().primary(), s.link().secondary(), s.intervals(), false));
        }
        return out;
    }

    private static Map<ReplicaLayout.Link, List<long[]>> links(HashRing ring, int factor) {
        Map<ReplicaLayout.Link, List<long[]>> out = new TreeMap<>();
        if (factor >= 2) {
            ReplicaLayout layout = ReplicaLayout.of(ring, factor);
            layout.links().forEach(link -> out.put(link, layout.intervalsOf(link)));
        }
        return out;
    }

    private static List<long[]> covered(List<ReplicaPlan.Piece> pieces, ReplicaLayout.Link link) {
        List<long[]> out = List.of();
        for (ReplicaPlan.Piece p : pieces) {
            if (p.link().equals(link)) {
                out = HashIntervals.union(out, p.intervals());
            }
        }
        return out;
    }

    /** Adds pieces of {@code link} that together cover {@code intervals} once: one to three, some still seeding. */
    private static void split(SplittableRandom rnd, List<ReplicaPlan.Piece> pieces, ReplicaLayout.Link link,
            List<long[]> intervals) {
        int parts = 1 + rnd.nextInt(3);
        List<List<long[]>> split = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            split.add(new ArrayList<>());
        }
        for (long[] iv : intervals) {
            if (iv[0] < iv[1] && rnd.nextInt(4) == 0) { // cut one interval in two
                long width = iv[1] - iv[0]; // overflows for an arc wider than half the ring: cut that one in the middle
                long cut = width > 0 ? iv[0] + Math.floorMod(rnd.nextLong(), width) : (iv[0] >> 1) + (iv[1] >> 1);
                split.get(rnd.nextInt(parts)).add(new long[] {iv[0], cut});
                split.get(rnd.nextInt(parts)).add(new long[] {cut + 1, iv[1]});
            } else {
                split.get(rnd.nextInt(parts)).add(iv);
            }
        }
        for (List<long[]> part : split) {
            if (!part.isEmpty()) {
                pieces.add(new ReplicaPlan.Piece(pieces.size() + 1, link.primary(), link.secondary(),
                        HashIntervals.normalize(part), rnd.nextInt(5) == 0));
            }
        }
    }

    /** A random set of 16 cells of the ring (each a sixteenth), some cut short. */
    private static List<long[]> cells(SplittableRandom rnd) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            if (rnd.nextBoolean()) {
                long lo = Long.MIN_VALUE + ((long) i << 60);
                long hi = i == 15 ? Long.MAX_VALUE : lo + (1L << 60) - 1;
                out.add(new long[] {lo, rnd.nextBoolean() ? hi : lo + rnd.nextInt(1000)});
            }
        }
        return HashIntervals.normalize(out);
    }
}
