package io.shardring.router.ring;

import io.shardring.router.InvalidKeyException;
import java.util.UUID;

/**
 * PostgreSQL-compatible key hashes with seed 0, equal bit for bit to the server's
 * {@code hashint8extended}, {@code hashint4extended}, {@code hashtextextended} and
 * {@code uuid_hash_extended}. None of these allocate.
 */
public final class KeyHash {
    private KeyHash() {
    }

    /** {@code hashint8extended(key, 0)}. */
    public static long ofLong(long key) {
        return PgHash.hashInt8(key);
    }

    /** {@code hashint4extended(key, 0)}. */
    public static long ofInt(int key) {
        return PgHash.hashUint32(key);
    }

    /**
     * {@code hashtextextended(key, 0)} for a database in UTF-8 with a deterministic collation.
     *
     * @throws InvalidKeyException if the key is null or not valid Unicode
     */
    public static long ofText(CharSequence key) {
        if (key == null) {
            throw new InvalidKeyException("shard key is null; every row needs a non-null text key");
        }
        return KeyType.hashText(key);
    }

    /** {@code uuid_hash_extended(key, 0)}. */
    public static long ofUuid(UUID key) {
        if (key == null) {
            throw new InvalidKeyException("shard key is null; every row needs a non-null uuid key");
        }
        return PgHash.hashUuid(key.getMostSignificantBits(), key.getLeastSignificantBits());
    }

    /** {@code hash_bytes_extended(bytes, 0)}, the function under {@code hashtextextended}. */
    public static long ofBytes(byte[] bytes) {
        return PgHash.hashBytes(bytes, 0, bytes.length);
    }
}
