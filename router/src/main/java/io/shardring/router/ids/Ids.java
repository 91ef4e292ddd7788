package io.shardring.router.ids;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Globally unique, time-ordered ids for rows that move between shards, where per-shard sequences would
 * collide: UUIDv7 (RFC 9562), 48 bits of Unix milliseconds then 74 random bits. The same layout is
 * available in SQL on every shard as {@code shardring.uuid_v7()}, for column defaults.
 */
public final class Ids {
    private static final SecureRandom SEEDS = new SecureRandom();
    /** A per-thread generator seeded from SecureRandom: fast, and independent across threads and processes. */
    private static final ThreadLocal<SplittableRandom> RANDOM =
            ThreadLocal.withInitial(() -> new SplittableRandom(SEEDS.nextLong()));

    private Ids() {
    }

    /** A new UUIDv7 for the current time. */
    public static UUID uuidV7() {
        return uuidV7(System.currentTimeMillis());
    }

    /** A new UUIDv7 for the given Unix time in milliseconds. */
    public static UUID uuidV7(long unixMillis) {
        SplittableRandom r = RANDOM.get();
        long msb = (unixMillis << 16) | 0x7000L | (r.nextInt() & 0x0fffL);
        long lsb = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }

    /** The Unix milliseconds of a UUIDv7. */
    public static long timestampOf(UUID uuidV7) {
        if (uuidV7.version() != 7) {
            throw new IllegalArgumentException("not a UUIDv7: " + uuidV7 + " (version " + uuidV7.version() + ")");
        }
        return uuidV7.getMostSignificantBits() >>> 16;
    }
}
