package io.shardring.migration.move;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.List;

/** The mover's names for {@link HashIntervals}, and the journal's JSON form of a list of arcs. */
public final class Intervals {
    private Intervals() {
    }

    /** Arcs as sorted, merged, inclusive signed intervals. */
    public static List<long[]> of(List<TokenRange> ranges) {
        return HashIntervals.of(ranges);
    }

    static List<long[]> normalize(List<long[]> in) {
        return HashIntervals.normalize(in);
    }

    public static boolean same(List<long[]> a, List<long[]> b) {
        return HashIntervals.same(a, b);
    }

    static List<long[]> union(List<long[]> a, List<long[]> b) {
        return HashIntervals.union(a, b);
    }

    static List<long[]> minus(List<long[]> a, List<long[]> b) {
        return HashIntervals.minus(a, b);
    }

    /** Back to arcs of the ring: [lo, hi] is (lo - 1, hi]; [MIN, MAX] is the whole ring. */
    static List<TokenRange> toRanges(List<long[]> intervals) {
        return HashIntervals.toRanges(intervals);
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
