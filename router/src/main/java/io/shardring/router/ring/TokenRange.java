package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.List;

/**
 * A half-open arc of the ring, {@code (start, end]} in signed 64-bit order, possibly wrapping past
 * {@link Long#MAX_VALUE}; {@code start == end} is the whole ring. A vnode with token t owns
 * {@code (previous token, t]}.
 */
public final class TokenRange {
    private static final double TWO_64 = 18446744073709551616.0;

    private final long start;
    private final long end;

    public TokenRange(long startExclusive, long endInclusive) {
        this.start = startExclusive;
        this.end = endInclusive;
    }

    public long startExclusive() {
        return start;
    }

    public long endInclusive() {
        return end;
    }

    public boolean isFullRing() {
        return start == end;
    }

    /** True when the arc passes {@link Long#MAX_VALUE} and so is two ranges in SQL. */
    public boolean wraps() {
        return start > end;
    }

    public boolean contains(long hash) {
        if (start < end) {
            return hash > start && hash <= end;
        }
        if (start > end) {
            return hash > start || hash <= end;
        }
        return true;
    }

    /** The number of hash values in the arc, as an unsigned 64-bit count (0 means 2^64, the whole ring). */
    public long sizeUnsigned() {
        return end - start;
    }

    /** The arc's share of the keyspace, in [0, 1]. */
    public double share() {
        return isFullRing() ? 1.0 : unsignedToDouble(end - start) / TWO_64;
    }

    /**
     * The arc as inclusive signed intervals {@code [lo, hi]} for SQL {@code BETWEEN}: one, or two when it
     * wraps. Each element is a two-element array.
     */
    public List<long[]> inclusiveIntervals() {
        List<long[]> out = new ArrayList<>(2);
        if (start == end) {
            out.add(new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
        } else if (start < end) {
            out.add(new long[] {start + 1, end});
        } else {
            if (start != Long.MAX_VALUE) {
                out.add(new long[] {start + 1, Long.MAX_VALUE});
            }
            out.add(new long[] {Long.MIN_VALUE, end});
        }
        return out;
    }

    /**
     * The SQL predicate selecting the rows whose key column lies in this arc, e.g.
     * {@code hashint8extended("tenant_id", 0) BETWEEN -42 AND 17}. The column is quoted.
     */
    public String toSql(KeyType keyType, String column) {
        String hash = keyType.sqlHash(column);
        StringBuilder sql = new StringBuilder();
        List<long[]> parts = inclusiveIntervals();
        if (parts.size() > 1) {
            sql.append('(');
        }
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                sql.append(" OR ");
            }
            sql.append(hash).append(" BETWEEN ").append(parts.get(i)[0]).append(" AND ").append(parts.get(i)[1]);
        }
        if (parts.size() > 1) {
            sql.append(')');
        }
        return sql.toString();
    }

    /** The SQL predicate selecting the rows in any of the given arcs; {@code FALSE} when there are none. */
    public static String toSql(List<TokenRange> ranges, KeyType keyType, String column) {
        if (ranges.isEmpty()) {
            return "FALSE";
        }
        StringBuilder sql = new StringBuilder("(");
        for (int i = 0; i < ranges.size(); i++) {
            if (i > 0) {
                sql.append(" OR ");
            }
            sql.append(ranges.get(i).toSql(keyType, column));
        }
        return sql.append(')').toString();
    }

    static double unsignedToDouble(long x) {
        return x >= 0 ? (double) x : ((double) (x >>> 1)) * 2.0 + (x & 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenRange && ((TokenRange) o).start == start && ((TokenRange) o).end == end;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(start) * 31 + Long.hashCode(end);
    }

    @Override
    public String toString() {
        return "(" + start + ", " + end + "]";
    }
}
