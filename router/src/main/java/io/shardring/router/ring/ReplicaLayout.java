package io.shardring.router.ring;

import com.dynatrace.hash4j.hashing.Hashing;
import io.shardring.router.ConfigurationException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Where the copies of a ring's keys live with replication factor R: every key's primary is its owner on the ring, and
 * its R - 1 secondaries are chosen per slice of the hash space ({@value #SLICES} equal slices) by weighted rendezvous
 * hashing: each slice ranks all nodes by a score from the slice's number and the node's id (scaled by weight), and a
 * piece of an arc takes the best-ranked nodes other than its primary, one per zone not yet holding a copy first,
 * then any.
 *
 * <p>Why not the next nodes clockwise (the Dynamo preference list): allocated rings have few arcs per node when they
 * are small (4 nodes: 8 arcs), and a node's arcs are mostly followed by the same neighbour, so every key of a node had
 * its copy on one other node ({@link #spread()} 1.0 at 4, 100 and 1,000 nodes), which would take the node's whole read
 * load when it fails. By slice, a node's keys spread their copies over all eligible nodes in proportion to weight,
 * and a change of topology moves only the copies it must: a joining node takes the slices it ranks first in, a
 * leaving node's copies go to the next in each slice's ranking. Why so many slices: a node that the allocation left
 * with one arc of 1/1,000 of the ring covers only one of 1,024 slices, and had all its copies on one node again
 * (spread 0.98 at 1,000 nodes, 0.11 with 16,384). Computed once per topology, off the routing path.
 */
public final class ReplicaLayout {
    /** One arc and its nodes: element 0 the primary, then the secondaries in preference order. */
    public static final class Arc {
        private final TokenRange range;
        private final List<RingNode> nodes;

        Arc(TokenRange range, List<RingNode> nodes) {
            this.range = range;
            this.nodes = nodes;
        }

        public TokenRange range() {
            return range;
        }

        public RingNode primary() {
            return nodes.get(0);
        }

        public List<RingNode> secondaries() {
            return nodes.subList(1, nodes.size());
        }

        public List<RingNode> nodes() {
            return nodes;
        }

        @Override
        public String toString() {
            return range + " " + nodes;
        }
    }

    /** A replication link: the primary whose rows of some arcs the secondary keeps a copy of. */
    public record Link(String primary, String secondary) implements Comparable<Link> {
        public Link {
            Objects.requireNonNull(primary);
            Objects.requireNonNull(secondary);
        }

        @Override
        public int compareTo(Link o) {
            int c = primary.compareTo(o.primary);
            return c != 0 ? c : secondary.compareTo(o.secondary);
        }

        @Override
        public String toString() {
            return primary + " -> " + secondary;
        }
    }

    private final HashRing ring;
    private final int replicationFactor;
    private final List<Arc> arcs;
    /** Per link, its arcs as sorted inclusive intervals; links in order. */
    private final Map<Link, List<long[]>> links;
    /** Per node, every arc it keeps as a secondary. */
    private final Map<String, List<long[]>> bySecondary;
    /** The last hash of each arc, ascending: arcs are in hash order from Long.MIN_VALUE. */
    private final long[] arcEnds;

    private ReplicaLayout(HashRing ring, int replicationFactor, List<Arc> arcs, Map<Link, List<long[]>> links) {
        this.ring = ring;
        this.replicationFactor = replicationFactor;
        this.arcs = arcs;
        this.links = links;
        Map<String, List<long[]>> kept = new HashMap<>();
        links.forEach((link, iv) -> kept.computeIfAbsent(link.secondary, s -> new ArrayList<>()).addAll(iv));
        Map<String, List<long[]>> normalized = new HashMap<>();
        kept.forEach((node, iv) -> normalized.put(node, HashIntervals.normalize(iv)));
        this.bySecondary = normalized;
        this.arcEnds = new long[arcs.size()];
        for (int i = 0; i < arcEnds.length; i++) {
            TokenRange r = arcs.get(i).range;
            arcEnds[i] = r.isFullRing() ? Long.MAX_VALUE : r.endInclusive();
        }
    }

    /**
     * The layout of {@code ring} with {@code replicationFactor} copies of every key.
     *
     * @throws ConfigurationException when the factor is below 1 or above the ring's node count
     */
    public static ReplicaLayout of(HashRing ring, int replicationFactor) {
        int nodes = ring.nodes().size();
        if (replicationFactor < 1 || replicationFactor > nodes) {
            throw new ConfigurationException("ring.replicationFactor " + replicationFactor + " needs " + replicationFactor
                    + " nodes, but the ring has " + nodes + "; lower ring.replicationFactor to at most " + nodes
                    + " or add nodes");
        }
        List<Arc> arcs = new ArrayList<>();
        Map<Link, List<long[]>> raw = new TreeMap<>();
        ReplicaRanking ranking = new ReplicaRanking(ring.nodes(), ring.zoneCount());
        // pieces of arcs cut at slice ends, in hash order; runs of pieces with the same nodes become one arc
        List<RingNode> open = null;
        long openLo = 0;
        long openHi = 0;
        for (long[] piece : arcPieces(ring.arcs())) {
            RingNode primary = ring.arcs().ownerAt((int) piece[2]);
            for (int j = ReplicaRanking.sliceOf(piece[0]); ; j++) {
                long lo = Math.max(piece[0], ReplicaRanking.sliceStart(j));
                long hi = Math.min(piece[1], ReplicaRanking.sliceEnd(j));
                List<RingNode> nodesOfPiece = ranking.nodes(j, primary, replicationFactor);
                if (open != null && (!open.equals(nodesOfPiece) || lo != openHi + 1)) {
                    add(arcs, raw, openLo, openHi, open);
                    open = null;
                }
                if (open == null) {
                    open = nodesOfPiece;
                    openLo = lo;
                }
                openHi = hi;
                if (hi == piece[1]) {
                    break;
                }
            }
        }
        if (open != null) {
            add(arcs, raw, openLo, openHi, open);
        }
        Map<Link, List<long[]>> links = new LinkedHashMap<>();
        raw.forEach((link, intervals) -> links.put(link, HashIntervals.normalize(intervals)));
        return new ReplicaLayout(ring, replicationFactor, Collections.unmodifiableList(arcs),
                Collections.unmodifiableMap(links));
    }

    private static void add(List<Arc> arcs, Map<Link, List<long[]>> links, long lo, long hi, List<RingNode> nodes) {
        TokenRange range = HashIntervals.toRanges(List.of(new long[] {lo, hi})).get(0);
        arcs.add(new Arc(range, nodes));
        for (int s = 1; s < nodes.size(); s++) {
            links.computeIfAbsent(new Link(nodes.get(0).id(), nodes.get(s).id()), l -> new ArrayList<>())
                    .add(new long[] {lo, hi});
        }
    }

    /** Slices of the hash space that rank the nodes for secondaries: 2^14 of 2^50 hashes each. */
    public static final int SLICES = ReplicaRanking.SLICES;

    /**
     * The ring's arcs as inclusive intervals in hash order, each {@code {lo, hi, token index}}: the arc that token i
     * ends is (token i-1, token i], and the one that wraps past Long.MAX_VALUE is cut in two.
     */
    private static List<long[]> arcPieces(Arcs ring) {
        int n = ring.count();
        List<long[]> pieces = new ArrayList<>();
        if (n == 0) {
            return pieces;
        }
        if (n == 1) {
            pieces.add(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0});
            return pieces;
        }
        long last = ring.tokenAt(n - 1);
        pieces.add(new long[] {Long.MIN_VALUE, ring.tokenAt(0), 0});
        for (int i = 1; i < n; i++) {
            pieces.add(new long[] {ring.tokenAt(i - 1) + 1, ring.tokenAt(i), i});
        }
        if (last != Long.MAX_VALUE) {
            pieces.add(new long[] {last + 1, Long.MAX_VALUE, 0});
        }
        return pieces;
    }

    /** The copies of a key with this hash: its primary, then its secondaries. A binary search; allocates nothing. */
    public List<RingNode> nodesForHash(long hash) {
        return arcs.get(arcIndexForHash(hash)).nodes;
    }

    /** The index in {@link #arcs()} of the arc that holds this hash. */
    public int arcIndexForHash(long hash) {
        int i = Arrays.binarySearch(arcEnds, hash);
        return i >= 0 ? i : -i - 1;
    }

    /** The copies of a key: its primary, then its secondaries. */
    public List<RingNode> nodesFor(Object key) {
        return nodesForHash(ring.keyType().hash(key));
    }

    public HashRing ring() {
        return ring;
    }

    public int replicationFactor() {
        return replicationFactor;
    }

    /** Every arc with its nodes, in hash order from Long.MIN_VALUE. */
    public List<Arc> arcs() {
        return arcs;
    }

    /** Every (primary, secondary) pair that replicates at least one arc, ordered by primary then secondary. */
    public List<Link> links() {
        return List.copyOf(links.keySet());
    }

    /** The arcs that {@code link}'s secondary keeps for its primary, merged; empty for a pair that is no link. */
    public List<TokenRange> rangesOf(Link link) {
        return HashIntervals.toRanges(intervalsOf(link));
    }

    /** The same as sorted inclusive hash intervals (the form of a publication's row filter). */
    public List<long[]> intervalsOf(Link link) {
        List<long[]> iv = links.get(link);
        return iv == null ? List.of() : iv;
    }

    /** Every arc a node keeps as a secondary, whoever its primary, as sorted inclusive intervals. */
    public List<long[]> secondaryIntervalsOf(String nodeId) {
        ring.node(nodeId); // names the node when it is not in the ring
        return bySecondary.getOrDefault(nodeId, List.of());
    }

    /**
     * The largest fraction of one node's keys whose copies include one particular other node: 1/(n-1) is the ideal
     * for R = 2 and n nodes, 1.0 means that a node's whole load falls on one other node when it fails.
     */
    public double spread() {
        Map<String, Double> primaryShare = new HashMap<>();
        Map<Link, Double> linkShare = new HashMap<>();
        for (Arc a : arcs) {
            double s = a.range.share();
            primaryShare.merge(a.primary().id(), s, Double::sum);
            for (RingNode sec : a.secondaries()) {
                linkShare.merge(new Link(a.primary().id(), sec.id()), s, Double::sum);
            }
        }
        double worst = 0;
        for (Map.Entry<Link, Double> e : linkShare.entrySet()) {
            worst = Math.max(worst, e.getValue() / primaryShare.get(e.getKey().primary));
        }
        return worst;
    }

    /**
     * Warnings about the placement, one line each, for {@code plan} and {@code status}: a factor above the zone count
     * keeps two copies of some arcs in one zone.
     */
    public List<String> warnings() {
        int zones = ring.zoneCount();
        if (replicationFactor > 1 && replicationFactor > zones) {
            return List.of("ring.replicationFactor " + replicationFactor + " is above the " + zones + " zone"
                    + (zones == 1 ? "" : "s") + " of the ring's nodes: every arc has a copy in each zone, and "
                    + (replicationFactor - zones) + " more in zones that hold one already; add zones for copies that"
                    + " survive the loss of a zone");
        }
        return List.of();
    }

    /**
     * What a change of topology does to the secondaries: per node, the arcs it must start keeping (seed: copy them
     * from their primary), the arcs it keeps no longer (drop: delete its copy), and the arcs it keeps in both whose
     * primary changed (follow: the copy stays, the link it arrives by changes). Arcs whose secondary stays with the
     * same primary are in none of them.
     */
    public static Changes changes(ReplicaLayout before, ReplicaLayout after) {
        Map<String, List<long[]>> seed = new TreeMap<>();
        Map<String, List<long[]>> drop = new TreeMap<>();
        Map<Link, List<long[]>> follow = new TreeMap<>();
        Set<String> nodes = new TreeSet<>();
        before.links.keySet().forEach(l -> nodes.add(l.secondary));
        after.links.keySet().forEach(l -> nodes.add(l.secondary));
        for (String node : nodes) {
            List<long[]> had = before.ring.contains(node) ? before.secondaryIntervalsOf(node) : List.of();
            List<long[]> has = after.ring.contains(node) ? after.secondaryIntervalsOf(node) : List.of();
            putIfAny(seed, node, HashIntervals.minus(has, had));
            putIfAny(drop, node, HashIntervals.minus(had, has));
        }
        for (Map.Entry<Link, List<long[]>> e : after.links.entrySet()) {
            Link link = e.getKey();
            if (!before.ring.contains(link.secondary)) {
                continue;
            }
            List<long[]> kept = HashIntervals.intersect(e.getValue(), before.secondaryIntervalsOf(link.secondary));
            putIfAny(follow, link, HashIntervals.minus(kept, before.intervalsOf(link)));
        }
        return new Changes(seed, drop, follow);
    }

    private static <K> void putIfAny(Map<K, List<long[]>> map, K key, List<long[]> intervals) {
        if (!intervals.isEmpty()) {
            map.put(key, intervals);
        }
    }

    /** The result of {@link #changes}: sorted inclusive intervals per node or link. */
    public static final class Changes {
        private final Map<String, List<long[]>> seed;
        private final Map<String, List<long[]>> drop;
        private final Map<Link, List<long[]>> follow;

        Changes(Map<String, List<long[]>> seed, Map<String, List<long[]>> drop, Map<Link, List<long[]>> follow) {
            this.seed = Collections.unmodifiableMap(seed);
            this.drop = Collections.unmodifiableMap(drop);
            this.follow = Collections.unmodifiableMap(follow);
        }

        /** Per secondary node, the arcs it must copy from their primary. */
        public Map<String, List<long[]>> seed() {
            return seed;
        }

        /** Per node, the arcs whose secondary copy it deletes. */
        public Map<String, List<long[]>> drop() {
            return drop;
        }

        /** Per link of the new layout, arcs its secondary kept from another primary. */
        public Map<Link, List<long[]>> follow() {
            return follow;
        }

        /** The share of the ring that must be copied to a new secondary, summed over nodes. */
        public double seededShare() {
            double s = 0;
            for (List<long[]> iv : seed.values()) {
                s += HashIntervals.share(iv);
            }
            return s;
        }

        public boolean isEmpty() {
            return seed.isEmpty() && drop.isEmpty() && follow.isEmpty();
        }
    }

    @Override
    public String toString() {
        return "ReplicaLayout(R=" + replicationFactor + ", " + arcs.size() + " arcs, " + links.size() + " links)";
    }
}
