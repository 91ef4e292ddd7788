package io.shardring.router.ring;

import com.dynatrace.hash4j.hashing.Hashing;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How vnode tokens are chosen. Derived placements hash {@code "<nodeId>#<i>"} (UTF-8) for each vnode
 * index i, so any language can recompute them; {@link #ALLOCATED} chooses tokens that split the most
 * loaded ranges, so that a few vnodes keep the ring balanced and a join moves exactly its weight share.
 * Either way the tokens are stored in the topology and never re-derived on load.
 */
public enum TokenPlacement {
    /** Tokens that split the most loaded ranges; balanced with few vnodes; moves are optimal. */
    ALLOCATED,
    /** First 8 bytes (big-endian) of SHA-256. */
    SHA256,
    /** 64-bit FNV-1a. */
    FNV1A,
    /** The first 64 bits of Murmur3 x64 128 with seed 0 (hash4j). */
    MURMUR3,
    /** XXH3 64-bit with seed 0 (hash4j). */
    XXH3;

    /** The derived token of vnode {@code index} of node {@code nodeId}. */
    long derive(String nodeId, int index) {
        byte[] input = (nodeId + "#" + index).getBytes(StandardCharsets.UTF_8);
        switch (this) {
            case SHA256:
                try {
                    return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(input)).getLong();
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException("every Java platform has SHA-256", e);
                }
            case FNV1A:
                long h = 0xcbf29ce484222325L;
                for (byte b : input) {
                    h ^= b & 0xff;
                    h *= 0x100000001b3L;
                }
                return h;
            case MURMUR3:
                return Hashing.murmur3_128().hashBytesToLong(input);
            case XXH3:
                return Hashing.xxh3_64().hashBytesToLong(input);
            default:
                throw new IllegalStateException("ALLOCATED tokens are not derived from the node id");
        }
    }

    public static TokenPlacement parse(String value) {
        if (value != null) {
            String v = value.trim().toUpperCase(java.util.Locale.ROOT).replace("-", "").replace("_", "");
            for (TokenPlacement p : values()) {
                if (p.name().replace("_", "").equals(v)) {
                    return p;
                }
            }
        }
        throw new io.shardring.router.ConfigurationException("unknown token placement '" + value
                + "'; use one of allocated, sha256, fnv1a, murmur3, xxh3");
    }
}
