package io.shardring.router.ring;

import java.util.Objects;

/**
 * One key placed on a named node, overriding the ring: the arc of exactly the key's hash belongs to {@code node}.
 * Keys whose hash equals the pinned key's (a 64-bit collision) go with it, as they would on any arc.
 *
 * @param key  the key as the ring's key type takes it (Long, Integer, String or UUID)
 * @param hash the key's ring hash, {@link KeyType#hash(Object)}
 * @param node the id of the node that owns the key
 */
public record Pin(Object key, long hash, String node) {
    public Pin {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(node, "node");
    }

    @Override
    public String toString() {
        return key + " -> " + node;
    }
}
