package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The versions a move publishes between its jobs, and what an abort publishes, with pinned keys. */
class MoveTopologiesTest {
    private static final long WHALE = 42;

    private static Topology threeNodes(long... extraTokenOfB) {
        Topology.Builder b = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT)).table("events",
                "tenant_id");
        for (String id : List.of("a", "b", "c")) {
            b.node(NodeConfig.builder(id).jdbcUrl("jdbc:postgresql://" + id + ":5432/app").user("app").build());
        }
        Topology t = b.build().withStoredTokens();
        if (extraTokenOfB.length == 0) {
            return t;
        }
        Topology.Builder withToken = Topology.builder().version(1).ring(t.ringSettings()).table("events", "tenant_id");
        for (NodeConfig n : t.nodes().values()) {
            long[] tokens = n.tokens();
            if (n.id().equals("b")) {
                tokens = java.util.Arrays.copyOf(tokens, tokens.length + extraTokenOfB.length);
                System.arraycopy(extraTokenOfB, 0, tokens, n.tokens().length, extraTokenOfB.length);
                java.util.Arrays.sort(tokens);
            }
            withToken.node(n.toBuilder().tokens(tokens).build());
        }
        return withToken.build();
    }

    private static List<JobState> jobs(Topology before, Topology after) {
        List<JobState> out = new ArrayList<>();
        for (Map.Entry<String, List<RingDiff.Move>> e : HashRing.diff(before.ring(), after.ring()).byPair()
                .entrySet()) {
            List<TokenRange> ranges = new ArrayList<>();
            e.getValue().forEach(m -> ranges.add(m.range()));
            RingDiff.Move first = e.getValue().get(0);
            out.add(new JobState(out.size(), first.from().id(), first.to().id(), ranges, Phase.CUTOVER));
        }
        return out;
    }

    @Test
    void anAbortedPinLeavesTheKeyWhereItWasAndADonePinMovesIt() {
        Topology before = threeNodes();
        String owner = before.ring().route(WHALE).id();
        String other = owner.equals("a") ? "b" : "a";
        Topology after = before.withRing(before.ring().withPin(WHALE, other), 2);
        List<JobState> jobs = jobs(before, after);
        assertThat(jobs).hasSize(1);
        Topology aborted = MoveTopologies.intermediate(before, after, List.of(), 2);
        assertThat(aborted.ring().route(WHALE).id()).isEqualTo(owner);
        assertThat(aborted.pins()).isEmpty();
        Topology done = MoveTopologies.intermediate(before, after, jobs, 2);
        assertThat(done.ring().route(WHALE).id()).isEqualTo(other);
        assertThat(done.pins()).hasSize(1);
        // and an aborted unpin keeps the pin
        Topology unpinned = after.withRing(after.ring().withoutPin(WHALE), 3);
        assertThat(MoveTopologies.intermediate(after, unpinned, List.of(), 3).ring().route(WHALE).id())
                .isEqualTo(other);
    }

    @Test
    void betweenTheJobsOfARebalanceEveryKeyIsWhereTheMovedJobsSayAndPinsStay() {
        long pinHash = KeyType.BIGINT.hash(WHALE);
        // a pin on a vnode token of b: the rebalance's job ranges stop one hash short of that token
        Topology plain = threeNodes(pinHash);
        Topology before = plain.withRing(plain.ring().withPin(WHALE, "c"), 1);
        RingNode d = RingNode.of("d", 1.0, null);
        Topology after = Topology.builder().version(2).ring(before.ringSettings()).table("events", "tenant_id")
                .node(NodeConfig.builder("d").jdbcUrl("jdbc:postgresql://d:5432/app").user("app").build())
                .build();
        Topology.Builder grown = before.toBuilder().version(2);
        grown.node(after.node("d"));
        after = grown.build().withRing(before.ring().withNode(d), 2);
        check(before, after);
        Topology.Builder shrunk = Topology.builder().version(2).ring(before.ringSettings()).table("events", "tenant_id");
        before.nodes().values().stream().filter(n -> !n.id().equals("a")).forEach(shrunk::node);
        check(before, shrunk.build().withRing(before.ring().withoutNode("a"), 2));
    }

    private static void check(Topology before, Topology after) {
        long pinHash = KeyType.BIGINT.hash(WHALE);
        List<JobState> jobs = jobs(before, after);
        assertThat(jobs).isNotEmpty();
        SplittableRandom rnd = new SplittableRandom(3);
        long[] keys = new long[20_000];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = rnd.nextLong();
        }
        for (int k = 0; k <= jobs.size(); k++) {
            List<JobState> moved = jobs.subList(0, k);
            Topology mid = MoveTopologies.intermediate(before, after, moved, 2);
            assertThat(mid.ring().route(WHALE).id()).as("the pin with %d jobs moved", k).isEqualTo("c");
            for (long key : keys) {
                long h = KeyType.BIGINT.hash(key);
                boolean isMoved = moved.stream().anyMatch(j -> j.ranges.stream().anyMatch(r -> r.contains(h)));
                assertThat(mid.ring().route(key).id()).as("key %d with %d jobs moved", key, k)
                        .isEqualTo((isMoved ? after : before).ring().route(key).id());
            }
            // the hashes right before and after the pinned token: vnode arcs, moved with their jobs
            for (long h : new long[] {pinHash - 1, pinHash + 1}) {
                boolean isMoved = moved.stream().anyMatch(j -> j.ranges.stream().anyMatch(r -> r.contains(h)));
                assertThat(mid.ring().nodeForHash(h).id()).isEqualTo((isMoved ? after : before).ring().nodeForHash(h)
                        .id());
            }
        }
    }
}
