package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;

/** The ring's shape: key type, vnodes, token placement, replication factor. */
public final class RingSettings {
    private final KeyType keyType;
    private final int vnodes;
    private final TokenPlacement placement;
    private final int replicationFactor;
    private final int maxPins;

    /** Pins are for a few large tenants; past this many, plans warn that a directory would serve better. */
    public static final int DEFAULT_MAX_PINS = 100;

    public RingSettings(KeyType keyType, int vnodes, TokenPlacement placement, int replicationFactor) {
        this(keyType, vnodes, placement, replicationFactor, DEFAULT_MAX_PINS);
    }

    /**
     * @param maxPins how many pinned keys the ring holds before plans warn (a warning, not a limit); at least 0
     */
    public RingSettings(KeyType keyType, int vnodes, TokenPlacement placement, int replicationFactor, int maxPins) {
        if (keyType == null) {
            throw new ConfigurationException("ring.keyType is missing; use one of bigint, integer, text, uuid");
        }
        if (vnodes < 1 || vnodes > 65536) {
            throw new ConfigurationException("ring.vnodes " + vnodes + " is invalid; use 1 to 65536 (64 is usual)");
        }
        if (placement == null) {
            throw new ConfigurationException("ring.placement is missing; use allocated, sha256, fnv1a, murmur3 or xxh3");
        }
        if (replicationFactor < 1) {
            throw new ConfigurationException("ring.replicationFactor " + replicationFactor + " is below 1");
        }
        this.keyType = keyType;
        this.vnodes = vnodes;
        this.placement = placement;
        if (maxPins < 0) {
            throw new ConfigurationException("ring.maxPins " + maxPins + " is below 0; use 0 or more (default "
                    + DEFAULT_MAX_PINS + ")");
        }
        this.replicationFactor = replicationFactor;
        this.maxPins = maxPins;
    }

    public static RingSettings of(KeyType keyType) {
        return new RingSettings(keyType, HashRing.DEFAULT_VNODES, TokenPlacement.ALLOCATED, 1);
    }

    public KeyType keyType() {
        return keyType;
    }

    public int vnodes() {
        return vnodes;
    }

    public TokenPlacement placement() {
        return placement;
    }

    public int replicationFactor() {
        return replicationFactor;
    }

    /** The number of pinned keys past which plans warn. */
    public int maxPins() {
        return maxPins;
    }

    @Override
    public String toString() {
        return "ring(keyType=" + keyType + ", vnodes=" + vnodes + ", placement=" + placement + ", replicationFactor="
                + replicationFactor + (maxPins == DEFAULT_MAX_PINS ? "" : ", maxPins=" + maxPins) + ")";
    }
}
