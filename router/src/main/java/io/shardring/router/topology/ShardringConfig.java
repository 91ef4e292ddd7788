package io.shardring.router.topology;

import java.util.List;

/**
 * Everything a configuration file holds: the topology, the router's settings, and for tools the node whose
 * database holds the catalog ({@code catalog.node}) and the application's Flyway locations
 * ({@code schema.locations}).
 */
public final class ShardringConfig {
    private final Topology topology;
    private final RouterSettings router;
    private final String catalogNode;
    private final List<String> schemaLocations;

    public ShardringConfig(Topology topology, RouterSettings router) {
        this(topology, router, null, List.of());
    }

    /**
     * @param catalogNode     the node whose database holds the catalog; null means the first node
     * @param schemaLocations the application's Flyway locations; null means none
     */
    public ShardringConfig(Topology topology, RouterSettings router, String catalogNode, List<String> schemaLocations) {
        this.topology = topology;
        this.router = router == null ? RouterSettings.DEFAULTS : router;
        this.catalogNode = catalogNode;
        this.schemaLocations = schemaLocations == null ? List.of() : List.copyOf(schemaLocations);
    }

    public Topology topology() {
        return topology;
    }

    public RouterSettings router() {
        return router;
    }

    /** The node whose database holds the catalog: {@code catalog.node}, else the first node. */
    public String catalogNode() {
        if (catalogNode != null || topology == null || topology.nodes().isEmpty()) {
            return catalogNode;
        }
        return topology.nodes().keySet().iterator().next();
    }

    /**
     * Whether the configuration names a catalog ({@code catalog.node}): a router built from it then follows the
     * catalog's newest topology instead of staying on the file's.
     */
    public boolean namesCatalog() {
        return catalogNode != null;
    }

    /** The application's Flyway locations ({@code schema.locations}); empty when not given. */
    public List<String> schemaLocations() {
        return schemaLocations;
    }
}
