package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A ring's arcs as lookups use them: the tokens sorted ascending with their owners, and an index on a hash's top bits
 * into them. What the ring's algorithms ({@link RingDiff}, {@link RingStats}, {@link ReplicaLayout}) read of a ring,
 * so that they need not know {@link HashRing}. Immutable; its arrays are shared with the ring, never with callers.
 */
final class Arcs {
    /** Sorted ascending; one extra {@link Long#MAX_VALUE} sentinel at the end that wraps to the first owner. */
    private final long[] tokens;
    private final RingNode[] owners;
    private final int[] index;
    private final int shift;
    private final int count;

    /** {@code arcs}: owner id by token; {@code ids}: the ring's nodes by id. */
    Arcs(TreeMap<Long, String> arcs, Map<String, RingNode> ids) {
        int n = arcs.size();
        this.count = n;
        this.tokens = new long[n + 1];
        this.owners = new RingNode[n + 1];
        int i = 0;
        for (Map.Entry<Long, String> e : arcs.entrySet()) {
            tokens[i] = e.getKey();
            owners[i] = ids.get(e.getValue());
            i++;
        }
        tokens[n] = Long.MAX_VALUE;
        owners[n] = owners[0];
        // 4 to 8 buckets a token, so that the scan after the bucket is mostly empty: with 2 to 4, bigint lookups on a
        // ring of 100 nodes whose token count fell just above a power of two took a third longer
        int bits = Math.max(4, Math.min(20, 34 - Integer.numberOfLeadingZeros(n)));
        this.shift = 64 - bits;
        this.index = new int[1 << bits];
        int t = 0;
        for (int b = 0; b < index.length; b++) {
            long lowest = ((long) b << shift) ^ Long.MIN_VALUE;
            while (tokens[t] < lowest) {
                t++;
            }
            index[b] = t;
        }
    }

    /** The owner of the first token at or after the hash, wrapping. */
    RingNode ownerOf(long hash) {
        return ownerOf(tokens, owners, index, shift, hash);
    }

    /**
     * The lookup itself, on arrays as {@link Arcs} builds them: a bucket of the index on the hash's top bits, then a
     * short forward scan to the first token at or after the hash (the sentinel ends it). Static so that
     * {@link HashRing#nodeForHash} runs it on the arrays it holds itself: no extra load on the routing path.
     */
    static RingNode ownerOf(long[] tokens, RingNode[] owners, int[] index, int shift, long hash) {
        int i = index[(int) ((hash ^ Long.MIN_VALUE) >>> shift)];
        while (tokens[i] < hash) {
            i++;
        }
        return owners[i];
    }

    long[] tokens() {
        return tokens;
    }

    RingNode[] owners() {
        return owners;
    }

    int[] index() {
        return index;
    }

    int shift() {
        return shift;
    }

    int count() {
        return count;
    }

    long tokenAt(int i) {
        return tokens[i];
    }

    /** The owner of the arc that ends at token i. */
    RingNode ownerAt(int i) {
        return owners[i];
    }

    /** The arcs {@code n} owns, adjacent arcs merged, in token order. */
    List<TokenRange> rangesOf(RingNode n) {
        List<TokenRange> out = new ArrayList<>();
        if (count == 0) {
            return out;
        }
        // start at a token whose arc belongs to another node, so merged arcs never split at index 0
        int first = 0;
        while (first < count && owners[first] == n) {
            first++;
        }
        if (first == count) {
            out.add(new TokenRange(tokens[0], tokens[0]));
            return out;
        }
        Long openStart = null;
        for (int k = 1; k <= count; k++) {
            int i = (first + k) % count;
            int prev = (first + k - 1) % count;
            if (owners[i] == n) {
                if (openStart == null) {
                    openStart = tokens[prev];
                }
            } else if (openStart != null) {
                out.add(new TokenRange(openStart, tokens[prev]));
                openStart = null;
            }
        }
        return out;
    }
}
