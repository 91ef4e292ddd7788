package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Chooses tokens for {@link TokenPlacement#ALLOCATED} rings, one change at a time.
 *
 * <p>A receiver takes exactly its deficit, in about {@code budget} pieces, each from the node that is most
 * loaded at that moment (load = share / weight); a giver hands its excess (or, when it leaves, everything) in
 * about {@code budget} pieces, each to the node that is least loaded at that moment. A piece is a whole arc when
 * the arc is small enough, else the arc's first part, split off by one new token. The keyspace moved therefore
 * equals the deficit or excess, which is the optimum, and no key moves between two nodes that the change does
 * not concern. When no more than {@code budget} nodes are off their target (a ring of up to about {@code budget}
 * nodes), or no more than 2 x budget and the change moves at least {@value #EXACT_SHARE} of the ring, each gives or
 * receives exactly its difference and the shares come out exact. On a larger ring balance comes from always taking
 * from the most loaded and giving to the least loaded: no piece lifts a node more than 1/budget of its target above
 * it, or takes a donor more than 1/budget below.
 *
 * <p>Arcs stay bounded: a change adds at most about {@code budget} arcs, and a node that already has
 * {@code budget} arcs takes pieces that extend one of its own arcs (the first part of the arc after it) unless
 * that would spare a node more than 1/budget more loaded, so a long history of changes does not pile arcs up.
 * Tokens therefore stay O(nodes x budget) whatever the node count. Finding the most loaded node or a node's
 * largest arc is logarithmic (ordered sets; arcs linked in ring order), so a change on a ring of a thousand nodes
 * takes tens of milliseconds.
 */
final class TokenAllocator {
    private static final double TWO_64 = 18446744073709551616.0;
    private static final double EPSILON = 1e-15;
    /** An arc up to this much larger than the piece wanted is taken whole: no token for a sliver. */
    private static final double WHOLE_ARC_SLACK = 1.5;
    /**
     * A donor goes at most this many 1/budget parts of its target below it: a heavy joiner would otherwise drain
     * light donors, and a lower floor costs the joiner more pieces. (2 let light donors end 3% below their target while
     * heavy ones stayed above it, which lowered the mean load that peak-to-mean divides by.)
     */
    private static final double DONOR_PARTS = 1;
    /**
     * A change that moves at least this share of the ring gives or takes each node's difference exactly while no
     * more than 2 x budget nodes are off their target. Why: every node is above its target by the same fraction
     * after a join, so a donor the budget's pieces leave out stays that far above it; just past budget nodes a heavy
     * joiner's share is 3% of the ring (66 random nodes, weights 0.25 to 4: peak-to-mean 1.037). Only a large move
     * pays with more pieces: a share that large needs few nodes, and on larger rings the pieces stay at budget.
     */
    private static final double EXACT_SHARE = 0.02;

    /** The arc {@code (start, end]}; {@code end} is its token. Arcs link to their neighbours in ring order. */
    private static final class Arc {
        long start;
        final long end;
        double length;
        Node owner;
        Arc prev;
        Arc next;

        Arc(long start, long end, Node owner) {
            this.start = start;
            this.end = end;
            this.owner = owner;
            this.length = rangeShare(start, end);
        }
    }

    private static final Comparator<Arc> LARGEST_FIRST = Comparator.comparingDouble((Arc a) -> -a.length)
            .thenComparingLong(a -> a.end);

    private static final class Node {
        final String id;
        double weight;
        double share;
        /** Whether it is in byLoad: it takes part in the change as a donor or receiver. */
        boolean ranked;
        /** Sorted only for the few nodes a change takes from or gives from; the others just collect. */
        private TreeSet<Arc> sorted;
        private List<Arc> unsorted = new ArrayList<>();

        Node(String id, double weight) {
            this.id = id;
            this.weight = weight;
        }

        /** Share per unit of weight: times the total weight, 1.0 is its exact target. */
        double load() {
            return share / weight;
        }

        TreeSet<Arc> arcs() {
            if (sorted == null) {
                sorted = new TreeSet<>(LARGEST_FIRST);
                sorted.addAll(unsorted);
                unsorted = null;
            }
            return sorted;
        }

        int arcCount() {
            return sorted != null ? sorted.size() : unsorted.size();
        }

        void add(Arc a) {
            if (sorted != null) {
                sorted.add(a);
            } else {
                unsorted.add(a);
            }
        }

        void remove(Arc a) {
            if (sorted != null) {
                sorted.remove(a);
            } else {
                unsorted.remove(a);
            }
        }
    }

    private static final Comparator<Node> BY_LOAD = Comparator.comparingDouble(Node::load)
            .thenComparing(n -> n.id);

    /** Any arc of the ring, from which the links reach all; null while the ring is empty. */
    private Arc anyArc;
    private final Map<String, Node> nodes = new HashMap<>();
    /** Every node taking part, least loaded first; a node is taken out before its share changes. */
    private final TreeSet<Node> byLoad = new TreeSet<>(BY_LOAD);
    private double totalWeight;

    /** An allocator over existing tokens; every owner must be in {@code weights}. */
    TokenAllocator(TreeMap<Long, String> tokens, Map<String, Double> weights) {
        weights.forEach((id, w) -> {
            nodes.put(id, new Node(id, w));
            totalWeight += w;
        });
        if (!tokens.isEmpty()) {
            long prev = tokens.lastKey();
            Arc last = null;
            for (Map.Entry<Long, String> e : tokens.entrySet()) {
                Node n = nodes.get(e.getValue());
                Arc a = new Arc(prev, e.getKey(), n);
                last = link(last, a);
                n.add(a);
                n.share += a.length;
                prev = e.getKey();
            }
            link(last, anyArc);
        }
        for (Node n : nodes.values()) {
            rank(n);
        }
    }

    /** Links {@code a} after {@code last} (the first arc when {@code last} is null); returns {@code a}. */
    private Arc link(Arc last, Arc a) {
        if (last == null) {
            anyArc = a;
        } else {
            last.next = a;
            a.prev = last;
        }
        return a;
    }

    private void rank(Node n) {
        byLoad.add(n);
        n.ranked = true;
    }

    private void unrank(Node n) {
        byLoad.remove(n);
        n.ranked = false;
    }

    /** The tokens and their owners, adjacent tokens of one owner merged. */
    TreeMap<Long, String> tokens() {
        TreeMap<Long, String> out = new TreeMap<>();
        if (anyArc == null) {
            return out;
        }
        Arc a = anyArc;
        do {
            // a token ends a run of one owner's arcs only where the next arc has another owner
            if (a.next.owner != a.owner) {
                out.put(a.end, a.owner.id);
            }
            a = a.next;
        } while (a != anyArc);
        if (out.isEmpty()) {
            out.put(anyArc.end, anyArc.owner.id);
        }
        return out;
    }

    /** Adds a node that takes its weight share from the most loaded nodes, in about {@code budget} pieces. */
    void join(String id, double weight, int budget) {
        Node joiner = new Node(id, weight);
        nodes.put(id, joiner);
        totalWeight += weight;
        if (anyArc == null) {
            long step = Long.divideUnsigned(-1L, budget);
            long lastToken = Long.MIN_VALUE + step * budget;
            Arc last = null;
            for (int i = 0; i < budget; i++) {
                long token = Long.MIN_VALUE + step * (i + 1);
                Arc a = new Arc(i == 0 ? lastToken : token - step, token, joiner);
                last = link(last, a);
                joiner.add(a);
            }
            link(last, anyArc);
            joiner.share = 1.0;
            rank(joiner);
            return;
        }
        rank(joiner);
        take(joiner, target(joiner) - joiner.share, budget);
    }

    /** Removes a node, handing its arcs to the least loaded nodes. */
    void remove(String id, int budget) {
        Node leaving = nodes.get(id);
        unrank(leaving);
        totalWeight -= leaving.weight;
        give(leaving, leaving.share, budget);
        // rounding can leave slivers too small to split: they go whole
        for (Arc a : new ArrayList<>(leaving.arcs())) {
            transfer(a, byLoad.first(), a.length, a.length);
        }
        nodes.remove(id);
    }

    /** Changes a node's weight; it takes from the most loaded or gives to the least loaded. */
    void reweight(String id, double weight, int budget) {
        Node n = nodes.get(id);
        unrank(n);
        totalWeight += weight - n.weight;
        n.weight = weight;
        double delta = target(n) - n.share;
        if (delta > 0) {
            rank(n);
            take(n, delta, budget);
        } else {
            // kept out of byLoad while it gives, so that it never receives its own arcs
            give(n, -delta, budget);
            rank(n);
        }
    }

    private double target(Node n) {
        return n.weight / totalWeight;
    }

    /** How much a donor may still give in this change, when there are many. */
    private double room(Node donor, int budget) {
        return donor.share - target(donor) * (1 - DONOR_PARTS / budget);
    }

    private void take(Node receiver, double amount, int budget) {
        // few donors above their target (a small ring): each gives exactly its excess, and all land on it
        boolean exact = exact(countOff(receiver, +1), amount, budget);
        double need = amount;
        int left = budget;
        while (need > EPSILON) {
            Node donor = byLoad.last() != receiver ? byLoad.last() : byLoad.lower(receiver);
            if (donor == null || donor.arcCount() == 0) {
                return;
            }
            Arc arc = donor.arcs().first();
            if (receiver.arcCount() >= budget) {
                Arc adjacent = richestNeighbour(receiver, exact ? 0 : DONOR_PARTS / budget);
                // extending an arc is worth a slightly less loaded donor, not an unbalanced ring
                if (adjacent != null && adjacent.owner.load() >= donor.load() - 1.0 / (budget * totalWeight)) {
                    arc = adjacent;
                }
            }
            double piece = left > 1 ? need / left : need;
            double most = need;
            double excess = arc.owner.share - target(arc.owner);
            if (exact && excess > EPSILON) {
                piece = Math.min(need, excess);
                most = piece;
            } else {
                // many donors (a large ring): about budget pieces, each donor at most 1/budget below its target
                double room = room(arc.owner, budget);
                if (room > EPSILON) {
                    piece = Math.min(piece, room);
                    most = Math.min(most, room);
                }
            }
            double moved = transfer(arc, receiver, piece, most);
            if (moved <= 0) {
                return;
            }
            need -= moved;
            left--;
        }
    }

    /** Whether a change of {@code amount} with {@code off} nodes off their target moves each one's exact difference. */
    private static boolean exact(int off, double amount, int budget) {
        return off <= budget || (amount >= EXACT_SHARE && off <= 2 * budget);
    }

    /** How many ranked nodes other than {@code except} are above ({@code sign} +1) or below (-1) their target. */
    private int countOff(Node except, int sign) {
        int count = 0;
        for (Node n : byLoad) {
            if (n != except && sign * (n.share - target(n)) > EPSILON) {
                count++;
            }
        }
        return count;
    }

    /**
     * Of the arcs right after the receiver's own, the one whose owner is most loaded and may still give (be more
     * than {@code below} of its target below it).
     */
    private Arc richestNeighbour(Node receiver, double below) {
        Arc best = null;
        for (Arc own : receiver.arcs()) {
            Arc after = own.next;
            Node d = after.owner;
            if (d != receiver && d.ranked && d.share - target(d) * (1 - below) > EPSILON
                    && (best == null || d.load() > best.owner.load())) {
                best = after;
            }
        }
        return best;
    }

    private void give(Node giver, double amount, int budget) {
        // few nodes below their target (a small ring): each receives exactly its deficit
        boolean exact = exact(countOff(giver, -1), amount, budget);
        double left = amount;
        int pieces = budget;
        while (left > EPSILON && giver.arcCount() > 0) {
            double piece = pieces > 1 ? left / pieces : left;
            Node receiver = byLoad.first();
            Arc arc = giver.arcs().first();
            if (receiver.arcCount() >= budget) {
                Arc adjacent = poorestNeighbour(giver);
                if (adjacent != null && adjacent.prev.owner.load() <= receiver.load() + 1.0 / (budget * totalWeight)) {
                    arc = adjacent;
                    receiver = arc.prev.owner;
                }
            }
            // a light receiver takes a piece of its own size, not the giver's: a node of weight 4 leaving would
            // otherwise lift a node of weight 0.25 by a quarter of its share
            double deficit = target(receiver) - receiver.share;
            double room = exact && deficit > EPSILON ? deficit : Math.max(0, deficit) + target(receiver) / budget;
            double moved = transfer(arc, receiver, Math.min(piece, room), Math.min(left, room));
            if (moved <= 0) {
                return;
            }
            left -= moved;
            pieces--;
        }
    }

    /**
     * Of the giver's arcs, the one whose predecessor's owner is least loaded and below its target: its first part
     * extends that owner's arc.
     */
    private Arc poorestNeighbour(Node giver) {
        Arc best = null;
        for (Arc own : giver.arcs()) {
            Node before = own.prev.owner;
            if (before != giver && before.ranked && before.share < target(before)
                    && (best == null || before.load() < best.prev.owner.load())) {
                best = own;
            }
        }
        return best;
    }

    /**
     * Moves about {@code wanted} of the keyspace from an arc to {@code to}: the whole arc if it is not much larger
     * (and not more than {@code most}), else its first part, ending at a new token. Returns the share moved.
     */
    private double transfer(Arc arc, Node to, double wanted, double most) {
        Node from = arc.owner;
        Arc taken;
        if (arc.length <= Math.min(wanted * WHOLE_ARC_SLACK, most * (1 + 1e-9))) {
            from.arcs().remove(arc);
            taken = arc;
        } else {
            long units = (long) (wanted * TWO_64 / 2) * 2; // below 2^64 without overflowing a long
            long split = arc.start + units;
            // no token lies inside an arc, so a split strictly inside it is a new token
            if (units == 0 || split == arc.end) {
                return 0;
            }
            from.arcs().remove(arc);
            taken = new Arc(arc.start, split, to);
            taken.prev = arc.prev;
            taken.next = arc;
            arc.prev.next = taken;
            arc.prev = taken;
            arc.start = split;
            arc.length = rangeShare(split, arc.end);
            from.arcs().add(arc);
        }
        double moved = taken.length;
        taken.owner = to;
        reshare(from, -moved);
        reshare(to, moved);
        to.add(merged(taken));
        return moved;
    }

    /** Joins an arc with the receiver's arcs before and after it, so that its arcs count runs, not pieces. */
    private Arc merged(Arc taken) {
        Node to = taken.owner;
        Arc before = taken.prev;
        if (before != taken && before.owner == to) {
            to.remove(before);
            unlink(before);
            taken.start = before.start;
            taken.length = rangeShare(taken.start, taken.end);
        }
        Arc after = taken.next;
        if (after != taken && after.owner == to) {
            to.remove(after);
            unlink(taken);
            after.start = taken.start;
            after.length = rangeShare(after.start, after.end);
            return after;
        }
        return taken;
    }

    private void unlink(Arc a) {
        a.prev.next = a.next;
        a.next.prev = a.prev;
        if (anyArc == a) {
            anyArc = a.next;
        }
    }

    private void reshare(Node n, double delta) {
        if (n.ranked) {
            byLoad.remove(n);
        }
        n.share += delta;
        if (n.ranked) {
            byLoad.add(n);
        }
    }

    private static double rangeShare(long prev, long token) {
        return prev == token ? 1.0 : TokenRange.unsignedToDouble(token - prev) / TWO_64;
    }
}
