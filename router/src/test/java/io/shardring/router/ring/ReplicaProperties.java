package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Replica placement on random rings: arcs agree with the preference list, links cover them, changes add up. */
class ReplicaProperties {

    private static final int KEYS = 1_000;

    static final class Spec {
        final RingProperties.Spec ring;
        final int zones;
        final int replicationFactor;

        Spec(RingProperties.Spec ring, int zones, int replicationFactor) {
            this.ring = ring;
            this.zones = zones;
            this.replicationFactor = Math.min(replicationFactor, ring.weights.length);
        }

        HashRing build() {
            HashRing.Builder b = HashRing.builder(KeyType.BIGINT).placement(ring.placement).vnodes(ring.vnodes);
            for (int i = 0; i < ring.weights.length; i++) {
                b.node("n" + i, ring.weights[i], "z" + (i % zones));
            }
            return b.build();
        }

        @Override
        public String toString() {
            return ring + " zones=" + zones + " R=" + replicationFactor;
        }
    }

    @Provide
    Arbitrary<Spec> layouts() {
        return Combinators.combine(new RingProperties().rings(), Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 3)).as(Spec::new);
    }

    @Property(tries = 15)
    void everyKeysArcHoldsItsPreferenceListAndIsZoneDiverseFirst(@ForAll("layouts") Spec spec, @ForAll long seed) {
        HashRing ring = spec.build();
        ReplicaLayout layout = ReplicaLayout.of(ring, spec.replicationFactor);
        int zones = ring.zoneCount();
        for (ReplicaLayout.Arc a : layout.arcs()) {
            assertThat(new HashSet<>(a.nodes())).as("distinct nodes of %s", a).hasSize(spec.replicationFactor);
            Set<String> arcZones = new HashSet<>();
            a.nodes().forEach(n -> arcZones.add(n.zone()));
            assertThat(arcZones).as("zones of %s", a).hasSize(Math.min(spec.replicationFactor, zones));
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < KEYS; i++) {
            long key = i < 4 ? edgeKey(i) : rnd.nextLong();
            long hash = KeyHash.ofLong(key);
            ReplicaLayout.Arc arc = arcOf(layout, hash);
            assertThat(arc.nodes()).as("arc of key %d", key).isEqualTo(ring.preferenceList(key, spec.replicationFactor))
                    .isSameAs(layout.nodesForHash(hash));
            assertThat(arc.primary()).isSameAs(ring.route(key));
        }
    }

    @Property(tries = 15)
    void linksCoverEachArcOnceForEverySecondary(@ForAll("layouts") Spec spec) {
        HashRing ring = spec.build();
        ReplicaLayout layout = ReplicaLayout.of(ring, spec.replicationFactor);
        double secondaryShare = 0;
        for (RingNode n : ring.nodes()) {
            List<long[]> kept = layout.secondaryIntervalsOf(n.id());
            // a node never keeps a secondary copy of what it owns
            assertThat(HashIntervals.intersect(kept, HashIntervals.of(ring.rangesOf(n.id())))).isEmpty();
            secondaryShare += HashIntervals.share(kept);
        }
        assertThat(secondaryShare).as("copies besides the primary, over the ring")
                .isCloseTo(spec.replicationFactor - 1, org.assertj.core.data.Offset.offset(1e-9));
        for (ReplicaLayout.Link link : layout.links()) {
            List<long[]> expected = new ArrayList<>();
            for (ReplicaLayout.Arc a : layout.arcs()) {
                if (a.primary().id().equals(link.primary())
                        && a.secondaries().stream().anyMatch(s -> s.id().equals(link.secondary()))) {
                    expected.addAll(a.range().inclusiveIntervals());
                }
            }
            assertThat(HashIntervals.same(layout.intervalsOf(link), HashIntervals.normalize(expected)))
                    .as("intervals of %s", link).isTrue();
            assertThat(HashIntervals.minus(layout.intervalsOf(link), HashIntervals.of(ring.rangesOf(link.primary()))))
                    .as("%s within its primary's arcs", link).isEmpty();
        }
    }

    @Property(tries = 12)
    void changesTurnTheOldSecondariesIntoTheNew(@ForAll("layouts") Spec spec, @ForAll @IntRange(min = 0, max = 2)
            int change) {
        HashRing before = spec.build();
        HashRing after;
        if (change == 0 || before.nodes().size() <= spec.replicationFactor) {
            after = before.withNode(RingNode.of("joiner", 1.0, "z0"));
        } else if (change == 1) {
            after = before.withoutNode("n0");
        } else {
            after = before.withWeight("n0", before.node("n0").weight() * 2);
        }
        ReplicaLayout was = ReplicaLayout.of(before, spec.replicationFactor);
        ReplicaLayout is = ReplicaLayout.of(after, spec.replicationFactor);
        ReplicaLayout.Changes c = ReplicaLayout.changes(was, is);
        Set<String> nodes = new HashSet<>();
        before.nodes().forEach(n -> nodes.add(n.id()));
        after.nodes().forEach(n -> nodes.add(n.id()));
        for (String node : nodes) {
            List<long[]> had = before.contains(node) ? was.secondaryIntervalsOf(node) : List.of();
            List<long[]> has = after.contains(node) ? is.secondaryIntervalsOf(node) : List.of();
            List<long[]> seed = c.seed().getOrDefault(node, List.of());
            List<long[]> drop = c.drop().getOrDefault(node, List.of());
            assertThat(HashIntervals.intersect(seed, had)).as("seeded arcs %s had", node).isEmpty();
            assertThat(HashIntervals.minus(drop, had)).as("dropped arcs %s never had", node).isEmpty();
            assertThat(HashIntervals.same(HashIntervals.union(HashIntervals.minus(had, drop), seed), has))
                    .as("%s: had - drop + seed = has", node).isTrue();
        }
        for (var e : c.follow().entrySet()) {
            ReplicaLayout.Link link = e.getKey();
            assertThat(HashIntervals.minus(e.getValue(), is.intervalsOf(link))).as("followed arcs of %s", link)
                    .isEmpty();
            assertThat(HashIntervals.intersect(e.getValue(), was.intervalsOf(link))).isEmpty();
        }
        assertThat(ReplicaLayout.changes(is, is).isEmpty()).isTrue();
    }

    private static long edgeKey(int i) {
        return new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE}[i];
    }

    static ReplicaLayout.Arc arcOf(ReplicaLayout layout, long hash) {
        for (ReplicaLayout.Arc a : layout.arcs()) {
            if (a.range().contains(hash)) {
                return a;
            }
        }
        throw new AssertionError("no arc holds hash " + hash);
    }
}
