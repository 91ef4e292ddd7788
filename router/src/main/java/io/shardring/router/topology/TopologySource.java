package io.shardring.router.topology;

/**
 * Where a router gets the newest topology: a YAML file, the catalog, or a fixed value. A router asks
 * again after a shard rejects a write for a key it no longer owns.
 */
@FunctionalInterface
public interface TopologySource {
    /** The newest topology; may return the same version as before. */
    Topology load();

    static TopologySource of(Topology topology) {
        return () -> topology;
    }
}
