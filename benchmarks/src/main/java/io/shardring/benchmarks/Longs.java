package io.shardring.benchmarks;

import java.util.Arrays;

/** A growable array of longs: writers log every call's start and duration without boxing. */
public final class Longs {
    public long[] a = new long[1 << 12];
    public int n;

    public void add(long v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
        }
        a[n++] = v;
    }

    /** Percentile in ms of durations in nanos (100 = max); 0 when empty, so a JSON figure is never NaN. */
    public static double pct(Longs xs, double p) {
        if (xs.n == 0) {
            return 0;
        }
        long[] s = Arrays.copyOf(xs.a, xs.n);
        Arrays.sort(s);
        int idx = (int) Math.ceil(p / 100.0 * s.length) - 1;
        idx = Math.max(0, Math.min(s.length - 1, idx));
        return s[idx] / 1e6;
    }
}
