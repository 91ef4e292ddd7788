package io.shardring.benchmarks.ring;

import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What every ring benchmark shares, so that the comparisons are like for like: the node count, the node
 * ids, the vnode counts and the key arrays, generated from one fixed seed.
 */
public final class RingFixtures {
    /** Nodes in every ring and buckets of every bucket hasher. */
    public static final int NODES = 100;
    /** Allocated (and derived) tokens per node of a shardring ring. */
    public static final int VNODES = 64;
    /** Vnodes per node of the seed-style ring and partitions per node of allgood-consistent-hash. */
    public static final int CLASSIC_VNODES = 150;
    /** Keys per array; a power of two so that the round-robin cursor is a mask. */
    public static final int KEYS = 4096;
    public static final int KEY_MASK = KEYS - 1;
    /** Seed of the benchmark key arrays. */
    public static final long KEY_SEED = 0x5eed_cafe_f00dL;

    private RingFixtures() {
    }

    public static String nodeId(int i) {
        return "node-" + i;
    }

    public static List<String> nodeIds(int count) {
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(nodeId(i));
        }
        return ids;
    }

    /** A text key as a tenant id would look: {@code "tenant-" + a random long}. */
    public static String textKey(long random) {
        return "tenant-" + random;
    }

    /** {@code count} text keys from {@code seed}; {@link #longKeys} with the same seed gives their numbers. */
    public static String[] textKeys(long seed, int count) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] keys = new String[count];
        for (int i = 0; i < count; i++) {
            keys[i] = textKey(rnd.nextLong());
        }
        return keys;
    }

    public static long[] longKeys(long seed, int count) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] keys = new long[count];
        for (int i = 0; i < count; i++) {
            keys[i] = rnd.nextLong();
        }
        return keys;
    }

    /** A shardring ring of {@code nodes} equal nodes with {@link #VNODES} tokens each. */
    /** Pinned keys of the pinned-lookup benchmark: the Done-when figure of issue 13. */
    public static final int PINS = 1000;

    /**
     * {@code ring} with {@code pins} bigint keys pinned, each to a node other than its owner so that every pin cuts
     * the ring: 64 of the benchmark's own keys (so pinned lookups are among those measured) and the rest random.
     */
    public static HashRing pinned(HashRing ring, int pins) {
        long[] keys = longKeys(KEY_SEED, KEYS);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(KEY_SEED ^ 0x9e3779b97f4a7c15L);
        HashRing out = ring;
        java.util.List<io.shardring.router.ring.RingNode> nodes = ring.nodes();
        for (int i = 0; i < pins; i++) {
            long key = i < 64 ? keys[i * (KEYS / 64)] : rnd.nextLong();
            String owner = ring.route(key).id();
            String to = nodes.get(rnd.nextInt(nodes.size())).id();
            if (to.equals(owner)) {
                to = nodes.get((nodes.indexOf(ring.route(key)) + 1) % nodes.size()).id();
            }
            out = out.withPin(key, to);
        }
        return out;
    }

    public static HashRing shardring(KeyType keyType, TokenPlacement placement, int nodes) {
        HashRing.Builder b = HashRing.builder(keyType).placement(placement).vnodes(VNODES);
        for (String id : nodeIds(nodes)) {
            b.node(id);
        }
        return b.build();
    }

    /** The seed-style ring of {@code nodes} equal nodes with {@link #CLASSIC_VNODES} vnodes each. */
    public static SeedStyleRing seedStyle(int nodes) {
        SeedStyleRing ring = new SeedStyleRing(CLASSIC_VNODES);
        for (String id : nodeIds(nodes)) {
            ring.addNode(id);
        }
        return ring;
    }
}
