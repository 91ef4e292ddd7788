package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The exact arcs whose owner changes between two rings: the input of a migration plan. Adjacent arcs
 * with the same old and new owner are merged.
 */
public final class RingDiff {
    /** One arc moving from one node to another. */
    public static final class Move {
        private final TokenRange range;
        private final RingNode from;
        private final RingNode to;

        Move(TokenRange range, RingNode from, RingNode to) {
            this.range = range;
            this.from = from;
            this.to = to;
        }

        public TokenRange range() {
            return range;
        }

        public RingNode from() {
            return from;
        }

        public RingNode to() {
            return to;
        }

        @Override
        public String toString() {
            return range + " " + from.id() + " -> " + to.id();
        }
    }

    private final List<Move> moves;
    /** Moves sorted by end token, for a binary search in {@link #moveFor}. */
    private final Move[] byEnd;
    private final long[] ends;
    /** The one move whose arc wraps past Long.MAX_VALUE, if any: arcs are disjoint. */
    private final Move wrapping;

    private RingDiff(List<Move> moves) {
        this.moves = Collections.unmodifiableList(moves);
        this.byEnd = moves.toArray(new Move[0]);
        java.util.Arrays.sort(byEnd, java.util.Comparator.comparingLong(m -> m.range.endInclusive()));
        this.ends = new long[byEnd.length];
        Move wrap = null;
        for (int i = 0; i < byEnd.length; i++) {
            ends[i] = byEnd[i].range.endInclusive();
            if (byEnd[i].range.wraps() || byEnd[i].range.isFullRing()) {
                wrap = byEnd[i];
            }
        }
        this.wrapping = wrap;
    }

    static RingDiff of(Arcs before, Arcs after) {
        TreeSet<Long> points = new TreeSet<>();
        for (int i = 0; i < before.count(); i++) {
            points.add(before.tokenAt(i));
        }
        for (int i = 0; i < after.count(); i++) {
            points.add(after.tokenAt(i));
        }
        long[] p = points.stream().mapToLong(Long::longValue).toArray();
        List<Move> out = new ArrayList<>();
        // each elementary arc (p[i-1], p[i]] lies inside one arc of each ring, owned by the owner of p[i]
        for (int i = 0; i < p.length; i++) {
            long start = p[(i + p.length - 1) % p.length];
            RingNode from = before.ownerOf(p[i]);
            RingNode to = after.ownerOf(p[i]);
            if (from.id().equals(to.id())) {
                continue;
            }
            Move last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.range.endInclusive() == start && last.from.id().equals(from.id())
                    && last.to.id().equals(to.id())) {
                out.set(out.size() - 1, new Move(new TokenRange(last.range.startExclusive(), p[i]), from, to));
            } else {
                out.add(new Move(new TokenRange(start, p[i]), from, to));
            }
        }
        // merge across the wrap point
        if (out.size() > 1) {
            Move first = out.get(0);
            Move last = out.get(out.size() - 1);
            if (last.range.endInclusive() == first.range.startExclusive() && last.from.id().equals(first.from.id())
                    && last.to.id().equals(first.to.id())) {
                out.set(0, new Move(new TokenRange(last.range.startExclusive(), first.range.endInclusive()),
                        first.from, first.to));
                out.remove(out.size() - 1);
            }
        }
        return new RingDiff(out);
    }

    public List<Move> moves() {
        return moves;
    }

    public boolean isEmpty() {
        return moves.isEmpty();
    }

    /** The share of the keyspace that changes owner, in [0, 1]. */
    public double movedShare() {
        double s = 0;
        for (Move m : moves) {
            s += m.range.share();
        }
        return s;
    }

    /** The move that covers a key hash, or null if that hash keeps its owner. */
    public Move moveFor(long hash) {
        int i = java.util.Arrays.binarySearch(ends, hash);
        if (i < 0) {
            i = -i - 1;
        }
        if (i < byEnd.length && byEnd[i].range.contains(hash)) {
            return byEnd[i];
        }
        return wrapping != null && wrapping.range.contains(hash) ? wrapping : null;
    }

    /** The moves grouped by (source, target) pair, as "from->to"; one mover job each. */
    public Map<String, List<Move>> byPair() {
        Map<String, List<Move>> out = new LinkedHashMap<>();
        for (Move m : moves) {
            out.computeIfAbsent(m.from.id() + "->" + m.to.id(), k -> new ArrayList<>()).add(m);
        }
        return out;
    }

    @Override
    public String toString() {
        return "RingDiff(" + moves.size() + " arcs, moved share " + movedShare() + ")";
    }
}
