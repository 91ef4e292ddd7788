package io.shardring.migration.replica;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.ReplicaLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a sync changes, decided from the desired arcs of every (primary, secondary) link and the pieces the catalog
 * records, without a server: the pieces a stopped sync left seeding, which pieces give up arcs (narrowed, or dropped
 * when nothing is left) and which rows their stores delete, the arcs each link gains (one new piece per link), and
 * which stores are marked as changing meanwhile. {@code ReplicaSync} applies it.
 */
final class ReplicaPlan {

    /** The name of every piece's publication, slot and subscription starts so, followed by its id. */
    static final String PREFIX = "shardring_r_";

    /** One piece as the catalog records it: a row-filtered publication and the subscription in its store. */
    record Piece(long id, String primary, String secondary, List<long[]> intervals, boolean seeding) {
        Piece {
            intervals = List.copyOf(intervals);
        }

        String name() {
            return PREFIX + id;
        }

        ReplicaLayout.Link link() {
            return new ReplicaLayout.Link(primary, secondary);
        }
    }

    /**
     * A piece that gives up arcs: it keeps {@code keep} (dropped when empty), and its store then deletes the rows in
     * {@code delete}, the lost arcs it does not keep for another primary (none when the store left the topology).
     */
    record Shrink(Piece piece, List<long[]> keep, List<long[]> delete) {
        Shrink {
            keep = List.copyOf(keep);
            delete = List.copyOf(delete);
        }

        boolean drops() {
            return keep.isEmpty();
        }
    }

    /** The arcs a link gains: one new piece copies them. */
    record Seed(ReplicaLayout.Link link, List<long[]> intervals) {
        Seed {
            intervals = List.copyOf(intervals);
        }
    }

    /** Seeding pieces of a desired link: their copy is finished first, as they are. */
    final List<Piece> resume;
    /** Every piece that loses arcs, in the catalog's order. */
    final List<Shrink> shrinks;
    /** In link order. */
    final List<Seed> seeds;
    /** Stores of the topology that nothing here changes: stamped with the version at once. */
    final Set<String> stampNow;
    /** Stores of the topology that change: they hold no version until the sync is done. */
    final Set<String> changing;
    /** Whether the changing stores are stamped at the end: not when the ring keeps one copy (they are left over). */
    final boolean stampChanging;

    private ReplicaPlan(List<Piece> resume, List<Shrink> shrinks, List<Seed> seeds, Set<String> stampNow,
            Set<String> changing, boolean stampChanging) {
        this.resume = List.copyOf(resume);
        this.shrinks = List.copyOf(shrinks);
        this.seeds = List.copyOf(seeds);
        this.stampNow = java.util.Collections.unmodifiableSet(stampNow);
        this.changing = java.util.Collections.unmodifiableSet(changing);
        this.stampChanging = stampChanging;
    }

    /**
     * @param desired the arcs of every link of the topology's replica layout (empty when the ring keeps one copy)
     * @param pieces every piece the catalog records, in its order (pieces of one link do not overlap)
     * @param nodes the nodes of the topology, in its order
     * @param replicated whether the ring keeps two or more copies
     */
    static ReplicaPlan reconcile(Map<ReplicaLayout.Link, List<long[]>> desired, List<Piece> pieces,
            Collection<String> nodes, boolean replicated) {
        Map<ReplicaLayout.Link, List<long[]>> want = new TreeMap<>(desired);
        Map<String, List<long[]>> kept = new TreeMap<>(); // what each store keeps, whoever its primary
        want.forEach((link, iv) -> kept.merge(link.secondary(), iv, HashIntervals::union));
        List<Piece> resume = new ArrayList<>();
        List<Shrink> shrinks = new ArrayList<>();
        Map<ReplicaLayout.Link, List<long[]>> remaining = new TreeMap<>();
        Set<String> touched = new LinkedHashSet<>();
        for (Piece p : pieces) {
            List<long[]> target = want.getOrDefault(p.link(), List.of());
            if (p.seeding() && want.containsKey(p.link())) {
                resume.add(p);
            }
            List<long[]> keep = HashIntervals.intersect(p.intervals(), target);
            remaining.merge(p.link(), keep, HashIntervals::union);
            if (HashIntervals.same(keep, p.intervals())) {
                continue;
            }
            touched.add(p.secondary());
            List<long[]> delete = nodes.contains(p.secondary())
                    ? HashIntervals.minus(HashIntervals.minus(p.intervals(), keep),
                            kept.getOrDefault(p.secondary(), List.of()))
                    : List.of();
            shrinks.add(new Shrink(p, keep, delete));
        }
        List<Seed> seeds = new ArrayList<>();
        want.forEach((link, iv) -> {
            List<long[]> gained = HashIntervals.minus(iv, remaining.getOrDefault(link, List.of()));
            if (!gained.isEmpty()) {
                touched.add(link.secondary());
                seeds.add(new Seed(link, gained));
            }
        });
        Set<String> changing = new LinkedHashSet<>();
        for (String s : touched) {
            if (nodes.contains(s)) {
                changing.add(s);
            }
        }
        Set<String> stampNow = new LinkedHashSet<>();
        if (replicated) {
            for (String n : nodes) {
                if (!touched.contains(n)) {
                    stampNow.add(n);
                }
            }
        }
        return new ReplicaPlan(resume, shrinks, seeds, stampNow, changing, replicated);
    }

    /** Nothing to resume, give up, seed or mark: the pieces are the desired ones. */
    boolean isEmpty() {
        return resume.isEmpty() && shrinks.isEmpty() && seeds.isEmpty() && changing.isEmpty();
    }

    /** The stores stamped with the version at the end. */
    Set<String> stampAtEnd() {
        return stampChanging ? changing : Set.of();
    }
}
