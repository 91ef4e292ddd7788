package io.shardring.migration.move;

import static java.lang.Long.MAX_VALUE;
import static java.lang.Long.MIN_VALUE;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Sets of inclusive hash intervals, above all at the ends of the signed 64-bit range, where {@code hi + 1}
 * overflows. (jqwik is not on this module's test classpath, so the property check is a seeded random loop.)
 */
class IntervalsTest {

    private static long[] iv(long lo, long hi) {
        return new long[] {lo, hi};
    }

    /** Intervals from bounds given in pairs: lo, hi, lo, hi, ... */
    private static List<long[]> ivs(long... bounds) {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < bounds.length; i += 2) {
            out.add(iv(bounds[i], bounds[i + 1]));
        }
        return out;
    }

    /** Comparable, readable form of a list of intervals. */
    private static List<List<Long>> show(List<long[]> intervals) {
        List<List<Long>> out = new ArrayList<>();
        for (long[] v : intervals) {
            assertThat(v).hasSize(2);
            out.add(List.of(v[0], v[1]));
        }
        return out;
    }

    private static void assertIntervals(List<long[]> actual, long... expectedBounds) {
        assertThat(show(actual)).isEqualTo(show(ivs(expectedBounds)));
    }

    private static List<long[]> deepCopy(List<long[]> in) {
        List<long[]> out = new ArrayList<>();
        in.forEach(v -> out.add(v.clone()));
        return out;
    }

    // ---- normalize ----

    @Test
    void anIntervalEndingAtMaxValueAbsorbsEverythingAfterItInSortedOrder() {
        // the historic bug: after [lo, MAX], "next.lo <= MAX + 1" wrapped to MIN and left the next one unmerged
        assertIntervals(HashIntervals.normalize(ivs(0, MAX_VALUE, 5, 6)), 0, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(5, 6, 0, MAX_VALUE, MAX_VALUE, MAX_VALUE)), 0, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(-3, MAX_VALUE, 10, 20, 100, MAX_VALUE, MAX_VALUE, MAX_VALUE)),
                -3, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(MAX_VALUE, MAX_VALUE, MAX_VALUE, MAX_VALUE)), MAX_VALUE, MAX_VALUE);
        // what comes before it stays apart unless adjacent
        assertIntervals(HashIntervals.normalize(ivs(MAX_VALUE - 5, MAX_VALUE, MIN_VALUE, -1, 3, 4)),
                MIN_VALUE, -1, 3, 4, MAX_VALUE - 5, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(0, MAX_VALUE, MIN_VALUE, -1, 7, 9)), MIN_VALUE, MAX_VALUE);
    }

    @Test
    void adjacentIntervalsMergeAndAGapOfOneValueKeepsThemApart() {
        assertIntervals(HashIntervals.normalize(ivs(1, 5, 6, 9)), 1, 9);
        assertIntervals(HashIntervals.normalize(ivs(6, 9, 1, 5)), 1, 9);
        assertIntervals(HashIntervals.normalize(ivs(1, 5, 7, 9)), 1, 5, 7, 9);
        assertIntervals(HashIntervals.normalize(ivs(1, 5, 3, 4, 2, 8)), 1, 8);
        assertIntervals(HashIntervals.normalize(ivs(MIN_VALUE, MIN_VALUE, MIN_VALUE + 1, MIN_VALUE + 1)),
                MIN_VALUE, MIN_VALUE + 1);
        assertIntervals(HashIntervals.normalize(ivs(MAX_VALUE - 1, MAX_VALUE - 1, MAX_VALUE, MAX_VALUE)),
                MAX_VALUE - 1, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(-1, -1, 0, 0)), -1, 0);
        assertIntervals(HashIntervals.normalize(List.of()));
    }

    @Test
    void maxValueAndMinValueAreNotAdjacent() {
        // they are neighbours on the ring, but these are intervals of signed values: MAX + 1 must not wrap to MIN
        assertIntervals(HashIntervals.normalize(ivs(MAX_VALUE, MAX_VALUE, MIN_VALUE, MIN_VALUE)),
                MIN_VALUE, MIN_VALUE, MAX_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(ivs(MAX_VALUE - 9, MAX_VALUE, MIN_VALUE, MIN_VALUE + 9)),
                MIN_VALUE, MIN_VALUE + 9, MAX_VALUE - 9, MAX_VALUE);
    }

    @Test
    void normalizeAndUnionLeaveTheirInputsAlone() {
        List<long[]> a = ivs(0, 10, 11, 20, 15, MAX_VALUE);
        List<long[]> b = ivs(MIN_VALUE, -1);
        List<long[]> aBefore = deepCopy(a);
        List<long[]> bBefore = deepCopy(b);
        assertIntervals(HashIntervals.union(a, b), MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.minus(a, b), 0, MAX_VALUE);
        assertIntervals(HashIntervals.normalize(a), 0, MAX_VALUE);
        assertThat(show(a)).isEqualTo(show(aBefore));
        assertThat(show(b)).isEqualTo(show(bBefore));
    }

    // ---- union, minus, same ----

    @Test
    void unionAtTheEdgesAndOfTheWholeRing() {
        List<long[]> whole = ivs(MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.union(whole, ivs(5, 6)), MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.union(ivs(5, 6), whole), MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.union(ivs(MIN_VALUE, -1), ivs(0, MAX_VALUE)), MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.union(ivs(MIN_VALUE, MIN_VALUE), ivs(MAX_VALUE, MAX_VALUE)),
                MIN_VALUE, MIN_VALUE, MAX_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.union(ivs(10, MAX_VALUE), ivs(MAX_VALUE, MAX_VALUE, 20, 30)), 10, MAX_VALUE);
        assertIntervals(HashIntervals.union(List.of(), List.of()));
        assertIntervals(HashIntervals.union(List.of(), ivs(3, 4)), 3, 4);
    }

    @Test
    void minusAtTheEdgesAndOfTheWholeRing() {
        List<long[]> whole = ivs(MIN_VALUE, MAX_VALUE);
        assertIntervals(HashIntervals.minus(whole, ivs(0, 0)), MIN_VALUE, -1, 1, MAX_VALUE);
        assertIntervals(HashIntervals.minus(whole, ivs(MIN_VALUE, MIN_VALUE)), MIN_VALUE + 1, MAX_VALUE);
        assertIntervals(HashIntervals.minus(whole, ivs(MAX_VALUE, MAX_VALUE)), MIN_VALUE, MAX_VALUE - 1);
        assertIntervals(HashIntervals.minus(whole, ivs(MIN_VALUE, MIN_VALUE, MAX_VALUE, MAX_VALUE)),
                MIN_VALUE + 1, MAX_VALUE - 1);
        assertIntervals(HashIntervals.minus(whole, whole));
        assertIntervals(HashIntervals.minus(whole, ivs(MIN_VALUE, 5, 10, MAX_VALUE)), 6, 9);
        assertIntervals(HashIntervals.minus(ivs(0, MAX_VALUE, 5, 6), ivs(MAX_VALUE, MAX_VALUE)), 0, MAX_VALUE - 1);
        assertIntervals(HashIntervals.minus(List.of(), whole));
        assertIntervals(HashIntervals.minus(ivs(9, 12, 1, 3), List.of()), 1, 3, 9, 12);
        // cuts that touch, overlap and cover pieces of one interval
        assertIntervals(HashIntervals.minus(ivs(0, 100), ivs(0, 0, 10, 20, 15, 30, 100, 100)), 1, 9, 31, 99);
    }

    @Test
    void sameComparesNormalizedSetsExactly() {
        assertThat(HashIntervals.same(ivs(MIN_VALUE, MAX_VALUE), ivs(MIN_VALUE, MAX_VALUE))).isTrue();
        assertThat(HashIntervals.same(ivs(MIN_VALUE, MAX_VALUE), ivs(MIN_VALUE, MAX_VALUE - 1))).isFalse();
        assertThat(HashIntervals.same(ivs(MIN_VALUE, MAX_VALUE), ivs(MIN_VALUE + 1, MAX_VALUE))).isFalse();
        assertThat(HashIntervals.same(ivs(1, 2), ivs(1, 2, 4, 5))).isFalse();
        assertThat(HashIntervals.same(List.of(), List.of())).isTrue();
        // different arcs, same set of hashes: equal once made intervals
        List<long[]> oneArc = HashIntervals.of(List.of(new TokenRange(0, 10)));
        List<long[]> twoArcs = HashIntervals.of(List.of(new TokenRange(5, 10), new TokenRange(0, 5)));
        assertThat(HashIntervals.same(oneArc, twoArcs)).isTrue();
        List<long[]> wrapping = HashIntervals.of(List.of(new TokenRange(5, -5)));
        List<long[]> split = HashIntervals.of(List.of(new TokenRange(MAX_VALUE, -5), new TokenRange(5, MAX_VALUE)));
        assertThat(HashIntervals.same(wrapping, split)).isTrue();
        assertThat(HashIntervals.same(HashIntervals.of(List.of(new TokenRange(0, 0))),
                HashIntervals.of(List.of(new TokenRange(MIN_VALUE, MAX_VALUE), new TokenRange(MAX_VALUE, MIN_VALUE)))))
                .isTrue();
    }

    // ---- toRanges and json ----

    @Test
    void toRangesRoundTripsThroughOf() {
        List<List<long[]>> cases = List.of(
                ivs(MIN_VALUE, MAX_VALUE),
                ivs(MIN_VALUE, 5),
                ivs(7, MAX_VALUE),
                ivs(MIN_VALUE, MIN_VALUE),
                ivs(MAX_VALUE, MAX_VALUE),
                ivs(MIN_VALUE, MIN_VALUE, MAX_VALUE, MAX_VALUE),
                ivs(MIN_VALUE, -100, -3, 3, 100, MAX_VALUE),
                ivs(0, 0),
                List.of());
        for (List<long[]> intervals : cases) {
            List<TokenRange> ranges = HashIntervals.toRanges(intervals);
            assertThat(ranges).hasSameSizeAs(intervals);
            for (int i = 0; i < ranges.size(); i++) {
                long lo = intervals.get(i)[0];
                long hi = intervals.get(i)[1];
                TokenRange r = ranges.get(i);
                assertThat(r.inclusiveIntervals()).as("%s from [%s, %s]", r, lo, hi).hasSize(1);
                assertThat(show(r.inclusiveIntervals())).isEqualTo(show(ivs(lo, hi)));
                assertThat(r.contains(lo) && r.contains(hi)).isTrue();
                assertThat(lo != MIN_VALUE && r.contains(lo - 1)).isFalse();
                assertThat(hi != MAX_VALUE && r.contains(hi + 1)).isFalse();
            }
            assertThat(show(HashIntervals.of(ranges))).as("of(toRanges(%s))", show(intervals)).isEqualTo(show(intervals));
        }
        assertThat(HashIntervals.toRanges(ivs(MIN_VALUE, MAX_VALUE)).get(0).isFullRing()).isTrue();
    }

    @Test
    void jsonRoundTrips() {
        List<List<TokenRange>> cases = List.of(
                List.of(),
                List.of(new TokenRange(0, 0)),
                List.of(new TokenRange(MAX_VALUE, MIN_VALUE)),
                List.of(new TokenRange(MAX_VALUE - 1, MAX_VALUE), new TokenRange(MIN_VALUE, MIN_VALUE + 1)),
                List.of(new TokenRange(5, -5), new TokenRange(-3074457345618258602L, 3074457345618258601L)),
                HashIntervals.toRanges(ivs(MIN_VALUE, -100, -3, 3, 100, MAX_VALUE)));
        for (List<TokenRange> ranges : cases) {
            String json = Intervals.json(ranges);
            assertThat(Intervals.parseJson(json)).as(json).isEqualTo(ranges);
        }
        assertThat(Intervals.json(List.of(new TokenRange(MAX_VALUE, MIN_VALUE), new TokenRange(-1, 2))))
                .isEqualTo("[[9223372036854775807,-9223372036854775808],[-1,2]]");
        // as PostgreSQL prints a json array, and with blanks around it
        assertThat(Intervals.parseJson(" [[1, 2], [-9223372036854775808, 3]] "))
                .containsExactly(new TokenRange(1, 2), new TokenRange(MIN_VALUE, 3));
        assertThat(Intervals.parseJson("[ ]")).isEmpty();
    }

    // ---- property: union and minus against a brute-force model ----

    /**
     * A model of the signed 64-bit line as {@value #ATOMS} atoms: {@value #K} single values at each end and one
     * atom for everything in between. Every interval built from whole atoms has bounds at or next to
     * {@code MIN_VALUE} and {@code MAX_VALUE}, where overflow bites, and any union or difference of such intervals
     * is again made of whole atoms, so a set of atoms is an exact model of it.
     */
    private static final int K = 5;
    private static final int ATOMS = 2 * K + 1;

    private static long start(int atom) {
        return atom <= K ? MIN_VALUE + atom : MAX_VALUE - (ATOMS - 1 - atom);
    }

    private static long end(int atom) {
        return atom < K ? MIN_VALUE + atom : atom == K ? MAX_VALUE - K : MAX_VALUE - (ATOMS - 1 - atom);
    }

    /** The canonical intervals of a set of atoms: one per maximal run. */
    private static List<long[]> canonical(boolean[] atoms) {
        List<long[]> out = new ArrayList<>();
        for (int a = 0; a < ATOMS; a++) {
            if (atoms[a] && (a == 0 || !atoms[a - 1])) {
                int b = a;
                while (b + 1 < ATOMS && atoms[b + 1]) {
                    b++;
                }
                out.add(iv(start(a), end(b)));
            }
        }
        return out;
    }

    @Test
    void theAtomsTileTheWholeLine() {
        assertThat(start(0)).isEqualTo(MIN_VALUE);
        assertThat(end(ATOMS - 1)).isEqualTo(MAX_VALUE);
        for (int a = 0; a + 1 < ATOMS; a++) {
            assertThat(end(a) + 1).as("atom %s ends right before atom %s", a, a + 1).isEqualTo(start(a + 1));
            assertThat(start(a)).isLessThanOrEqualTo(end(a));
        }
    }

    @Test
    void unionMinusSameToRangesAndJsonAgreeWithTheModelOnRandomSets() {
        Random random = new Random(20261125L);
        for (int round = 0; round < 20_000; round++) {
            boolean[] inA = new boolean[ATOMS];
            boolean[] inB = new boolean[ATOMS];
            List<long[]> a = randomIntervals(random, inA);
            List<long[]> b = randomIntervals(random, inB);
            String input = "a=" + show(a) + " b=" + show(b);

            boolean[] union = new boolean[ATOMS];
            boolean[] minus = new boolean[ATOMS];
            for (int i = 0; i < ATOMS; i++) {
                union[i] = inA[i] || inB[i];
                minus[i] = inA[i] && !inB[i];
            }
            List<long[]> normA = HashIntervals.normalize(a);
            assertThat(show(normA)).as("normalize %s", input).isEqualTo(show(canonical(inA)));
            assertThat(show(HashIntervals.union(a, b))).as("union %s", input).isEqualTo(show(canonical(union)));
            assertThat(show(HashIntervals.minus(a, b))).as("minus %s", input).isEqualTo(show(canonical(minus)));
            assertThat(HashIntervals.same(normA, HashIntervals.normalize(b))).as("same %s", input)
                    .isEqualTo(Arrays.equals(inA, inB));

            List<TokenRange> ranges = HashIntervals.toRanges(normA);
            assertThat(show(HashIntervals.of(ranges))).as("of(toRanges) %s", input).isEqualTo(show(normA));
            assertThat(Intervals.parseJson(Intervals.json(ranges))).as("json %s", input).isEqualTo(ranges);
        }
    }

    /** Up to four random intervals of whole atoms, overlapping or not, in any order; marks their atoms. */
    private static List<long[]> randomIntervals(Random random, boolean[] atoms) {
        List<long[]> out = new ArrayList<>();
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
            int x = random.nextInt(ATOMS);
            int y = random.nextInt(ATOMS);
            int lo = Math.min(x, y);
            int hi = Math.max(x, y);
            for (int at = lo; at <= hi; at++) {
                atoms[at] = true;
            }
            out.add(iv(start(lo), end(hi)));
        }
        return out;
    }
}
