package io.shardring.migration.move;

import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.Pin;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The topology versions a move publishes: one per job cut over, in which exactly those jobs have moved. */
final class MoveTopologies {
    private MoveTopologies() {
    }

    /**
     * The topology to publish as {@code version} when the jobs in {@code moved} have cut over: {@code after} itself
     * once all have, otherwise the union of both rings' vnode tokens, each arc owned by its new owner if a moved job
     * covers it, by its old owner otherwise, with the pins of {@code after} (a change that moves a pin is one job,
     * and a rebalance keeps the pins, so they hold in every version between).
     */
    static Topology publishable(Topology before, Topology after, List<JobState> all, List<JobState> moved,
            long version) {
        if (moved.size() == all.size()) {
            return after.toBuilder().version(version).build().withStoredTokens();
        }
        return intermediate(before, after, moved, version);
    }

    static Topology intermediate(Topology before, Topology after, List<JobState> moved, long version) {
        TreeSet<Long> points = new TreeSet<>();
        for (long t : before.ring().tokens()) {
            points.add(t);
        }
        for (long t : after.ring().tokens()) {
            points.add(t);
        }
        // a key is pinned as in `after` if a moved job covers its hash, else as in `before` (an aborted pin or unpin
        // gives the key back to where it was)
        Map<Long, Pin> pins = new TreeMap<>();
        Set<Long> pinned = new HashSet<>();
        before.pins().forEach(p -> pinned.add(p.hash()));
        after.pins().forEach(p -> pinned.add(p.hash()));
        for (long h : pinned) {
            Topology from = covered(moved, h) ? after : before;
            from.pins().stream().filter(p -> p.hash() == h).findFirst().ifPresent(p -> pins.put(h, p));
        }
        HashRing beforeArcs = before.ring().unpinned();
        HashRing afterArcs = after.ring().unpinned();
        Map<String, List<Long>> tokens = new LinkedHashMap<>();
        long prev = points.isEmpty() ? 0 : points.last();
        for (long p : points) {
            // the elementary arc (prev, p] is wholly moved or not, but for the pinned hashes in it, which a rebalance's
            // jobs leave out: test a hash of it that is not pinned
            boolean isMoved = false;
            for (long probe : new long[] {p, p - 1, prev + 1}) {
                if (!pinned.contains(probe) && new TokenRange(prev, p).contains(probe)) {
                    isMoved = covered(moved, probe);
                    break;
                }
            }
            String owner = (isMoved ? afterArcs : beforeArcs).nodeForHash(p).id();
            tokens.computeIfAbsent(owner, k -> new ArrayList<>()).add(p);
            prev = p;
        }
        Topology.Builder b = Topology.builder().version(version).ring(before.ringSettings());
        Map<String, NodeConfig> configs = new LinkedHashMap<>(before.nodes());
        after.nodes().forEach(configs::put);
        for (NodeConfig n : configs.values()) {
            List<Long> ts = tokens.get(n.id());
            if (ts != null) {
                b.node(n.toBuilder().tokens(ts.stream().mapToLong(Long::longValue).toArray()).build());
            }
        }
        after.tables().forEach(b::table);
        pins.values().forEach(p -> b.pin(p.key(), p.node()));
        return b.referenceOf(after).build();
    }

    private static boolean covered(List<JobState> moved, long hash) {
        for (JobState j : moved) {
            for (TokenRange r : j.ranges) {
                if (r.contains(hash)) {
                    return true;
                }
            }
        }
        return false;
    }
}
