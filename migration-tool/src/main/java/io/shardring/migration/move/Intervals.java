package io.shardring.migration.move;

import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.List;

/** Sets of inclusive hash intervals [lo, hi], for adding, removing and comparing owned ranges. */
public final class Intervals {
    private Intervals() {
    }

    /** Arcs as sorted, merged, inclusive signed intervals. */
    public static List<long[]> of(List<TokenRange> ranges) {
        List<long[]> out = new ArrayList<>();
        for (TokenRange r : ranges) {
            out.addAll(r.inclusiveIntervals());
        }
        return normalize(out);
    }

    static List<long[]> normalize(List<long[]> in) {
        List<long[]> s = new ArrayList<>(in);
        s.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] iv : s) {
            if (!out.isEmpty()) {
                long[] last = out.get(out.size() - 1);
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

    static List<long[]> union(List<long[]> a, List<long[]> b) {
        List<long[]> all = new ArrayList<>(a);
        all.addAll(b);
        return normalize(all);
    }

    static List<long[]> minus(List<long[]> a, List<long[]> b) {
        List<long[]> out = new ArrayList<>();
        for (long[] iv : normalize(a)) {
            List<long[]> pieces = new ArrayList<>();
            pieces.add(new long[] {iv[0], iv[1]});
            for (long[] cut : normalize(b)) {
                List<long[]> next = new ArrayList<>();
                for (long[] p : pieces) {
                    if (cut[1] < p[0] || cut[0] > p[1]) {
                        next.add(p);
                        continue;
                    }
                    if (cut[0] > p[0]) {
                        next.add(new long[] {p[0], cut[0] - 1});
                    }
                    if (cut[1] < p[1]) {
                        next.add(new long[] {cut[1] + 1, p[1]});
                    }
                }
                pieces = next;
            }
            out.addAll(pieces);
        }
        return normalize(out);
    }

    /** Back to arcs of the ring: [lo, hi] is (lo - 1, hi]; [MIN, MAX] is the whole ring. */
    static List<TokenRange> toRanges(List<long[]> intervals) {
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

    static String json(List<TokenRange> ranges) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ranges.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append('[').append(ranges.get(i).startExclusive()).append(',').append(ranges.get(i).endInclusive())
                    .append(']');
        }
        return sb.append(']').toString();
    }

    static List<TokenRange> parseJson(String json) {
        List<TokenRange> out = new ArrayList<>();
        String body = json.trim();
        body = body.substring(1, body.length() - 1).trim();
        if (body.isEmpty()) {
            return out;
        }
        for (String pair : body.split("\\],\\s*\\[")) {
            String p = pair.replace("[", "").replace("]", "");
            String[] parts = p.split(",");
            out.add(new TokenRange(Long.parseLong(parts[0].trim()), Long.parseLong(parts[1].trim())));
        }
        return out;
    }
}
