package io.shardring.benchmarks.ring;

import io.shardring.router.ring.HashRing;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A ring as sorted tokens and their owners, whatever built it, so that shares and movements of different
 * ring implementations are computed by one piece of code. A token t owns the arc (previous token, t] in
 * signed 64-bit order, wrapping; a hash is owned by the first token at or after it.
 */
final class TokenView {
    private static final double TWO_64 = 18446744073709551616.0;

    private final long[] tokens;
    private final String[] owners;

    private TokenView(long[] tokens, String[] owners) {
        this.tokens = tokens;
        this.owners = owners;
    }

    static TokenView of(HashRing ring) {
        long[] t = ring.tokens();
        String[] o = new String[t.length];
        for (int i = 0; i < t.length; i++) {
            o[i] = ring.nodeForHash(t[i]).id();
        }
        return new TokenView(t, o);
    }

    static TokenView of(TreeMap<Long, String> map) {
        long[] t = new long[map.size()];
        String[] o = new String[map.size()];
        int i = 0;
        for (Map.Entry<Long, String> e : map.entrySet()) {
            t[i] = e.getKey();
            o[i] = e.getValue();
            i++;
        }
        return new TokenView(t, o);
    }

    int size() {
        return tokens.length;
    }

    String ownerOf(long hash) {
        int i = Arrays.binarySearch(tokens, hash);
        if (i < 0) {
            i = -i - 1;
        }
        return owners[i == tokens.length ? 0 : i];
    }

    /** Each node's share of the keyspace, in [0, 1]. */
    Map<String, Double> shares() {
        Map<String, Double> s = new LinkedHashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            long prev = tokens[(i + tokens.length - 1) % tokens.length];
            s.merge(owners[i], arc(prev, tokens[i]), Double::sum);
        }
        return s;
    }

    /**
     * The keyspace whose owner differs between two rings: [total moved share, share moved between two
     * nodes of which neither is {@code changedNode}].
     */
    static double[] moved(TokenView before, TokenView after, String changedNode) {
        TreeSet<Long> points = new TreeSet<>();
        for (long t : before.tokens) {
            points.add(t);
        }
        for (long t : after.tokens) {
            points.add(t);
        }
        long[] p = points.stream().mapToLong(Long::longValue).toArray();
        double moved = 0;
        double collateral = 0;
        for (int i = 0; i < p.length; i++) {
            long prev = p[(i + p.length - 1) % p.length];
            String from = before.ownerOf(p[i]);
            String to = after.ownerOf(p[i]);
            if (!from.equals(to)) {
                double a = arc(prev, p[i]);
                moved += a;
                if (!from.equals(changedNode) && !to.equals(changedNode)) {
                    collateral += a;
                }
            }
        }
        return new double[] {moved, collateral};
    }

    /** The share of the arc (prev, t]; prev == t is the whole ring. */
    static double arc(long prev, long t) {
        if (prev == t) {
            return 1.0;
        }
        long d = t - prev;
        double u = d >= 0 ? (double) d : ((double) (d >>> 1)) * 2.0 + (d & 1);
        return u / TWO_64;
    }
}
