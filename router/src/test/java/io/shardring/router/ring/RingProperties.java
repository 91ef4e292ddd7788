package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

/** Consistent-hashing guarantees, checked on random rings with random keys. */
class RingProperties {

    private static final int KEYS = 20_000;

    static final class Spec {
        final TokenPlacement placement;
        final int vnodes;
        final double[] weights;

        Spec(TokenPlacement placement, int vnodes, List<Double> weights) {
            this.placement = placement;
            this.vnodes = vnodes;
            this.weights = weights.stream().mapToDouble(Double::doubleValue).toArray();
        }

        HashRing build() {
            HashRing.Builder b = HashRing.builder(KeyType.BIGINT).placement(placement).vnodes(vnodes);
            for (int i = 0; i < weights.length; i++) {
                b.node("n" + i, weights[i], "z" + (i % 3));
            }
            return b.build();
        }

        @Override
        public String toString() {
            return placement + " vnodes=" + vnodes + " weights=" + java.util.Arrays.toString(weights);
        }
    }

    @Provide
    Arbitrary<Spec> rings() {
        return specs(Arbitraries.of(TokenPlacement.class), 1, 0.25, 4.0, 12);
    }

    @Provide
    Arbitrary<Spec> allocatedRings() {
        return specs(Arbitraries.just(TokenPlacement.ALLOCATED), 8, 0.5, 2.0, 20);
    }

    /** Rings of 1 to {@code maxNodes} nodes, {@code minVnodes} to 64 vnodes, weights in [minWeight, maxWeight]. */
    private static Arbitrary<Spec> specs(Arbitrary<TokenPlacement> placements, int minVnodes, double minWeight,
            double maxWeight, int maxNodes) {
        return Combinators.combine(placements, Arbitraries.integers().between(minVnodes, 64),
                Arbitraries.doubles().between(minWeight, maxWeight).ofScale(2).list().ofMinSize(1).ofMaxSize(maxNodes))
                .as(Spec::new);
    }

    @Property(tries = 60)
    void addingANodeMovesKeysOnlyToIt(@ForAll("rings") Spec spec, @ForAll @DoubleRange(min = 0.25, max = 4) double w,
            @ForAll long seed) {
        HashRing before = spec.build();
        HashRing after = before.withNode(RingNode.of("joiner", w, "z9"));
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < KEYS; i++) {
            long key = rnd.nextLong();
            RingNode was = before.route(key);
            RingNode is = after.route(key);
            if (!was.id().equals(is.id())) {
                assertThat(is.id()).isEqualTo("joiner");
            }
        }
        HashRing.diff(before, after).moves().forEach(m -> assertThat(m.to().id()).isEqualTo("joiner"));
    }

    @Property(tries = 60)
    void removingANodeMovesOnlyItsKeys(@ForAll("rings") Spec spec, @ForAll @IntRange(min = 0, max = 11) int victim,
            @ForAll long seed) {
        net.jqwik.api.Assume.that(spec.weights.length >= 2);
        HashRing before = spec.build();
        String gone = "n" + (victim % spec.weights.length);
        HashRing after = before.withoutNode(gone);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < KEYS; i++) {
            long key = rnd.nextLong();
            RingNode was = before.route(key);
            RingNode is = after.route(key);
            if (!was.id().equals(is.id())) {
                assertThat(was.id()).isEqualTo(gone);
            }
            assertThat(is.id()).isNotEqualTo(gone);
        }
        assertThat(after.contains(gone)).isFalse();
    }

    @Property(tries = 40)
    void reweightingMovesKeysOnlyToOrFromThatNode(@ForAll("rings") Spec spec,
            @ForAll @DoubleRange(min = 0.25, max = 4) double w, @ForAll long seed) {
        net.jqwik.api.Assume.that(spec.weights.length >= 2);
        HashRing before = spec.build();
        HashRing after = before.withWeight("n0", w);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < KEYS; i++) {
            long key = rnd.nextLong();
            String was = before.route(key).id();
            String is = after.route(key).id();
            if (!was.equals(is)) {
                assertThat(was.equals("n0") || is.equals("n0")).as(was + " -> " + is).isTrue();
            }
        }
    }

    @Property(tries = 60)
    void allocatedJoinMovesItsWeightShare(@ForAll("allocatedRings") Spec spec,
            @ForAll @DoubleRange(min = 0.5, max = 2) double w) {
        HashRing before = spec.build();
        HashRing after = before.withNode(RingNode.of("joiner", w, null));
        double totalWeight = w;
        for (double x : spec.weights) {
            totalWeight += x;
        }
        double optimal = w / totalWeight;
        double moved = HashRing.diff(before, after).movedShare();
        assertThat(Math.abs(moved - optimal) / optimal).as("moved %s vs optimal %s", moved, optimal)
                .isLessThanOrEqualTo(0.01);
        assertThat(after.stats().shares().get("joiner")).isCloseTo(optimal,
                org.assertj.core.data.Offset.offset(optimal * 0.01));
    }

    /** No more nodes than vnodes: every donor gives exactly its excess, so the shares are exact. */
    @Provide
    Arbitrary<Spec> smallAllocatedRings() {
        return specs(Arbitraries.just(TokenPlacement.ALLOCATED), 20, 0.25, 4.0, 20);
    }

    @Property(tries = 30)
    void smallAllocatedRingsAreExact(@ForAll("smallAllocatedRings") Spec spec) {
        HashRing ring = spec.build();
        assertThat(ring.stats().peakToMean()).as(ring.stats().toString()).isLessThanOrEqualTo(1.001);
    }

    /** The bounded allocation's promise, on rings of up to 400 nodes built node by node with any weights. */
    @Property(tries = 12)
    void largeRingsStayBalancedWithBoundedTokens(@ForAll @IntRange(min = 65, max = 400) int nodes,
            @ForAll long seed) {
        int vnodes = 64;
        SplittableRandom rnd = new SplittableRandom(seed);
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).vnodes(vnodes);
        for (int i = 0; i < nodes; i++) {
            b.node("n" + i, 0.25 + rnd.nextDouble() * 3.75, "z" + (i % 3));
        }
        HashRing ring = b.build();
        assertThat(ring.stats().peakToMean()).isLessThanOrEqualTo(1.03);
        assertThat(ring.tokens().length).as("tokens").isLessThanOrEqualTo(nodes * vnodes);
        for (RingNode n : ring.nodes()) {
            assertThat(ring.rangesOf(n.id()).size()).as("arcs of " + n.id()).isLessThanOrEqualTo(2 * vnodes);
        }
    }

    /**
     * Any history of joins, removals and reweights: each change adds at most 2 x vnodes tokens, moves exactly
     * the optimal share, and leaves the ring balanced within 3% with at most 2 x vnodes arcs per node.
     */
    @Property(tries = 15)
    void changesStayBoundedBalancedAndOptimal(@ForAll @IntRange(min = 1, max = 150) int nodes, @ForAll long seed) {
        int vnodes = 64;
        SplittableRandom rnd = new SplittableRandom(seed);
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).vnodes(vnodes);
        for (int i = 0; i < nodes; i++) {
            b.node("n" + i, 0.25 + rnd.nextDouble() * 3.75, "z" + (i % 3));
        }
        HashRing ring = b.build();
        int next = nodes;
        for (int step = 0; step < 12; step++) {
            HashRing before = ring;
            int kind = ring.nodes().size() < 2 ? 0 : rnd.nextInt(3);
            String id = kind == 0 ? "n" + next++ : ring.nodes().get(rnd.nextInt(ring.nodes().size())).id();
            double w = 0.25 + rnd.nextDouble() * 3.75;
            double optimal;
            if (kind == 0) {
                ring = ring.withNode(RingNode.of(id, w, "z0"));
                optimal = ring.stats().shares().get(id);
                assertThat(optimal).isCloseTo(w / totalWeight(ring), org.assertj.core.data.Offset.offset(1e-9));
            } else if (kind == 1) {
                optimal = before.stats().shares().get(id);
                ring = ring.withoutNode(id);
            } else {
                ring = ring.withWeight(id, w);
                optimal = Math.abs(w / totalWeight(ring) - before.stats().shares().get(id));
            }
            String change = (kind == 0 ? "join " : kind == 1 ? "remove " : "reweight ") + id;
            assertThat(HashRing.diff(before, ring).movedShare()).as(change)
                    .isCloseTo(optimal, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(ring.tokens().length - before.tokens().length).as(change).isLessThanOrEqualTo(2 * vnodes);
            assertThat(ring.stats().peakToMean()).as(change).isLessThanOrEqualTo(1.03);
            for (RingNode n : ring.nodes()) {
                assertThat(ring.rangesOf(n.id()).size()).as(change + ": arcs of " + n.id())
                        .isLessThanOrEqualTo(2 * vnodes);
            }
        }
    }

    private static double totalWeight(HashRing ring) {
        return ring.nodes().stream().mapToDouble(RingNode::weight).sum();
    }

    @Property(tries = 3)
    void diffAgreesWithKeyLevelMovesOfAMillionKeys(@ForAll("rings") Spec spec, @ForAll long seed) {
        HashRing before = spec.build();
        HashRing after = before.withNode(RingNode.of("joiner", 1.0, null));
        if (spec.weights.length > 1) {
            after = after.withoutNode("n0");
        }
        RingDiff diff = HashRing.diff(before, after);
        SplittableRandom rnd = new SplittableRandom(seed);
        long movedKeys = 0;
        for (int i = 0; i < 1_000_000; i++) {
            long key = rnd.nextLong();
            long h = KeyHash.ofLong(key);
            String was = before.nodeForHash(h).id();
            String is = after.nodeForHash(h).id();
            RingDiff.Move m = diff.moveFor(h);
            if (was.equals(is)) {
                assertThat(m).as("hash %s keeps %s but the diff moves it", h, was).isNull();
            } else {
                movedKeys++;
                assertThat(m).as("hash %s moves %s -> %s but the diff misses it", h, was, is).isNotNull();
                assertThat(m.from().id()).isEqualTo(was);
                assertThat(m.to().id()).isEqualTo(is);
            }
        }
        assertThat(movedKeys / 1_000_000.0).isCloseTo(diff.movedShare(), org.assertj.core.data.Offset.offset(0.005));
    }
}
