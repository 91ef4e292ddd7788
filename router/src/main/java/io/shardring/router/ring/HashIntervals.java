package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.List;

/**
 * Sets of inclusive hash intervals {@code [lo, hi]}, sorted, disjoint and not touching: the form in which arcs are
 * added, removed and compared (owned ranges, a move's ranges, a secondary's ranges), and in which the guard and the
 * range predicates test them.
 */
public final class HashIntervals {
    private HashIntervals() {
    }

    /** Arcs as sorted, merged, inclusive signed intervals (an arc across Long.MAX_VALUE gives two). */
    public static List<long[]> of(List<TokenRange> ranges) {
        List<long[]> out = new ArrayList<>();
        for (TokenRange r : ranges) {
            out.addAll(r.inclusiveIntervals());
        }
        return normalize(out);
    }

    /** Sorted by low end, overlapping and touching intervals merged into one; the input is not changed. */
    public static List<long[]> normalize(List<long[]> in) {
        List<long[]> s = new ArrayList<>(in);
        s.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] iv : s) {
            if (!out.isEmpty()) {
                long[] last = out.get(out.size() - 1);
                // last[1] + 1 would overflow at Long.MAX_VALUE, where last already reaches the end of the ring
                if (last[1] == Long.MAX_VALUE || iv[0] <= last[1] + 1) {
                    last[1] = Math.max(last[1], iv[1]);
                    continue;
                }
            }
            out.add(new long[] {iv[0], iv[1]});
        }
        return out;
    }

    public static boolean same(List<long[]> a, List<long[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i)[0] != b.get(i)[0] || a.get(i)[1] != b.get(i)[1]) {
                return false;
            }
        }
        return true;
    }

    public static List<long[]> union(List<long[]> a, List<long[]> b) {
        List<long[]> all = new ArrayList<>(a);
        all.addAll(b);
        return normalize(all);
    }

    /** The hashes in {@code a} and not in {@code b}; one pass over both, sorted. */
    public static List<long[]> minus(List<long[]> a, List<long[]> b) {
        List<long[]> cuts = normalize(b);
        List<long[]> out = new ArrayList<>();
        int j = 0;
        for (long[] iv : normalize(a)) {
            long lo = iv[0];
            long hi = iv[1];
            while (j < cuts.size() && cuts.get(j)[1] < lo) {
                j++; // cuts below this interval cannot cut a later one either
            }
            boolean open = true;
            for (int k = j; k < cuts.size() && cuts.get(k)[0] <= hi; k++) {
                long[] cut = cuts.get(k);
                if (cut[0] > lo) {
                    out.add(new long[] {lo, cut[0] - 1});
                }
                if (cut[1] >= hi) {
                    open = false;
                    break;
                }
                lo = cut[1] + 1;
            }
            if (open) {
                out.add(new long[] {lo, hi});
            }
        }
        return out;
    }

    /** The hashes in both. */
    public static List<long[]> intersect(List<long[]> a, List<long[]> b) {
        return minus(a, minus(a, b));
    }

    /** The number of hashes in the set over 2^64: its share of the ring. */
    public static double share(List<long[]> intervals) {
        double s = 0;
        for (long[] iv : intervals) {
            // the count hi - lo + 1 as an unsigned 64-bit number; the whole ring wraps to 0 and counts as 2^64
            long count = iv[1] - iv[0] + 1;
            s += count == 0 ? 0x1p64 : (count < 0 ? count + 0x1p64 : count);
        }
        return s / 0x1p64;
    }

    /** Back to arcs of the ring: [lo, hi] is (lo - 1, hi]; [MIN, MAX] is the whole ring. */
    public static List<TokenRange> toRanges(List<long[]> intervals) {
        List<TokenRange> out = new ArrayList<>();
        for (long[] iv : intervals) {
            if (iv[0] == Long.MIN_VALUE && iv[1] == Long.MAX_VALUE) {
                out.add(new TokenRange(0, 0));
            } else if (iv[0] == Long.MIN_VALUE) {
                out.add(new TokenRange(Long.MAX_VALUE, iv[1]));
            } else {
                out.add(new TokenRange(iv[0] - 1, iv[1]));
            }
        }
        return out;
    }
}
