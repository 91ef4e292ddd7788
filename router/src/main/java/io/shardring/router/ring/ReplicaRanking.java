package io.shardring.router.ring;

import com.dynatrace.hash4j.hashing.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Each slice's order of the nodes by weighted rendezvous score, best first: score = -ln(u) / weight for a uniform
 * u drawn from the slice's number and the node's id, so that a node comes first in a share of the slices
 * proportional to its weight, and a node's arrival or departure reorders no other pair. A slice keeps only its
 * best {@value #TOP} nodes (one pass over the nodes); the rare choice that needs more ranks the whole slice.
 */
final class ReplicaRanking {
    /** Slices of the hash space that rank the nodes for secondaries: 2^14 of 2^50 hashes each. */
    static final int SLICES = 1 << 14;
    private static final int SLICE_SHIFT = 64 - 14;

    static int sliceOf(long hash) {
        return (int) ((hash ^ Long.MIN_VALUE) >>> SLICE_SHIFT);
    }

    static long sliceStart(int j) {
        return ((long) j << SLICE_SHIFT) ^ Long.MIN_VALUE;
    }

    static long sliceEnd(int j) {
        return sliceStart(j) + ((1L << SLICE_SHIFT) - 1);
    }

    /** How many of each slice's best nodes are kept. */
    static final int TOP = 8;

    private final RingNode[] nodes;
    private final long[] idHashes;
    private final int zoneCount;
    private final RingNode[][] top = new RingNode[SLICES][];

    ReplicaRanking(List<RingNode> ringNodes, int zoneCount) {
        this.nodes = ringNodes.toArray(new RingNode[0]);
        this.idHashes = new long[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            idHashes[i] = Hashing.xxh3_64()
                    .hashBytesToLong(nodes[i].id().getBytes(StandardCharsets.UTF_8));
        }
        this.zoneCount = zoneCount;
    }

    private float score(int node, int slice) {
        long h = mix(idHashes[node] ^ (slice * 0x9E3779B97F4A7C15L));
        double u = ((h >>> 11) + 0.5) * 0x1.0p-53; // in (0, 1)
        return (float) (-Math.log(u) / nodes[node].weight());
    }

    /**
     * The slice's best {@code limit} nodes, best first. Scores are positive floats, whose bits sort as they do;
     * packed above the node's index, one sort of longs ranks them and breaks ties by index.
     */
    private RingNode[] best(int slice, int limit) {
        int k = Math.min(limit, nodes.length);
        long[] kept = new long[k];
        int size = 0;
        for (int i = 0; i < nodes.length; i++) {
            long packed = ((long) Float.floatToIntBits(score(i, slice)) << 32) | i;
            if (size < k) {
                kept[size++] = packed;
                for (int j = size - 1; j > 0 && kept[j] < kept[j - 1]; j--) {
                    long t = kept[j];
                    kept[j] = kept[j - 1];
                    kept[j - 1] = t;
                }
            } else if (packed < kept[k - 1]) {
                int j = k - 1;
                for (; j > 0 && kept[j - 1] > packed; j--) {
                    kept[j] = kept[j - 1];
                }
                kept[j] = packed;
            }
        }
        RingNode[] out = new RingNode[k];
        for (int i = 0; i < k; i++) {
            out[i] = nodes[(int) kept[i]];
        }
        return out;
    }

    /** The primary, then the best-ranked other nodes: one per zone without a copy first, then any. */
    List<RingNode> nodes(int slice, RingNode primary, int replicationFactor) {
        if (replicationFactor == 1) {
            return List.of(primary);
        }
        RingNode[] ranked = top[slice];
        if (ranked == null) {
            ranked = best(slice, TOP);
            top[slice] = ranked;
        }
        List<RingNode> picked = pick(ranked, primary, replicationFactor, ranked.length == nodes.length);
        // the kept best were not enough to decide: a zone may still be found further down the ranking
        return picked != null ? picked : pick(best(slice, nodes.length), primary, replicationFactor, true);
    }

    /** The choice from {@code ranked}, or null when a ranking longer than this one could choose otherwise. */
    private List<RingNode> pick(RingNode[] ranked, RingNode primary, int replicationFactor, boolean complete) {
        List<RingNode> picked = new ArrayList<>(replicationFactor);
        picked.add(primary);
        Set<String> zones = new HashSet<>();
        zones.add(primary.zone());
        for (int k = 0; k < ranked.length && picked.size() < replicationFactor && zones.size() < zoneCount; k++) {
            if (ranked[k] != primary && zones.add(ranked[k].zone())) {
                picked.add(ranked[k]);
            }
        }
        if (!complete && picked.size() < replicationFactor && zones.size() < zoneCount) {
            return null;
        }
        for (int k = 0; k < ranked.length && picked.size() < replicationFactor; k++) {
            if (!picked.contains(ranked[k])) {
                picked.add(ranked[k]);
            }
        }
        return picked.size() == replicationFactor || complete ? List.copyOf(picked) : null;
    }

    /** SplitMix64's finalizer: a well-mixed 64-bit value from any input. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
