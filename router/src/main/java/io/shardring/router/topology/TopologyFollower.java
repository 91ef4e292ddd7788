package io.shardring.router.topology;

import java.util.Collection;
import java.util.Map;

/**
 * What a {@link CatalogWatcher} keeps on the catalog's newest topology. The router implements it privately, so that
 * these calls stay out of its public API and the watcher knows nothing of JDBC routing.
 */
public interface TopologyFollower {
    /** The topology routed by now. */
    Topology topology();

    /** Switches to a newer topology. */
    void apply(Topology next);

    /** Wakes work that waits out a cutover: the catalog notified, or the topology changed. */
    void routingMayHaveChanged();

    /**
     * Opens pools ahead for the nodes a running move brings in (none: closes those opened for a move that is over).
     *
     * @return why a node's pool could not be opened, by node id; empty when every one is ready
     */
    Map<String, String> prepareNodes(Collection<NodeConfig> upcoming);

    /** Whether the catalog answers. */
    void catalogReachable(boolean reachable);
}
