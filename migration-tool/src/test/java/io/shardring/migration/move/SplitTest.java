package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.TokenRange;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The copy's split of ranges into streams covers every hash exactly once; the stream count is checked. */
class SplitTest {

    @Test
    void aCopyStreamCountOutsideOneToSixteenIsRefusedByName() {
        for (int bad : new int[] {0, -1, 17}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Mover.Options().copyStreams(bad))
                    .isInstanceOf(io.shardring.router.ConfigurationException.class)
                    .hasMessageContaining("copyStreams").hasMessageContaining("was " + bad);
        }
        assertThat(new Mover.Options().copyStreams()).isEqualTo(1);
        assertThat(new Mover.Options().copyStreams(16).copyStreams()).isEqualTo(16);
    }

    @Test
    void piecesPartitionEachRange() {
        List<TokenRange> ranges = List.of(new TokenRange(100, 5000), new TokenRange(Long.MAX_VALUE - 10, Long.MIN_VALUE + 10),
                new TokenRange(7, 7 + 1), new TokenRange(-9, -9));
        List<List<TokenRange>> parts = CopyPipe.split(ranges, 2);
        SplittableRandom rnd = new SplittableRandom(5);
        long[] probes = new long[20_000];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = i < 40 ? new long[] {100, 101, 5000, 5001, 2550, 2551, Long.MAX_VALUE, Long.MIN_VALUE,
                    Long.MIN_VALUE + 10, Long.MIN_VALUE + 11, Long.MAX_VALUE - 10, 8, 7, -9, -8, -10}[i % 16] : rnd.nextLong();
        }
        for (long h : probes) {
            int inRanges = 0;
            for (TokenRange r : ranges) {
                inRanges += r.contains(h) ? 1 : 0;
            }
            int inParts = 0;
            for (List<TokenRange> part : parts) {
                for (TokenRange r : part) {
                    inParts += r.contains(h) ? 1 : 0;
                }
            }
            assertThat(inParts).as("hash %s", h).isEqualTo(inRanges);
        }
        assertThat(parts.get(0)).isNotEmpty();
        assertThat(parts.get(1)).isNotEmpty();
    }
}
