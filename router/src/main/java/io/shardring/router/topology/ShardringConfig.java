package io.shardring.router.topology;

/** Everything a configuration file holds: the topology and the router's settings. */
public final class ShardringConfig {
    private final Topology topology;
    private final RouterSettings router;

    public ShardringConfig(Topology topology, RouterSettings router) {
        this.topology = topology;
        this.router = router == null ? RouterSettings.DEFAULTS : router;
    }

    public Topology topology() {
        return topology;
    }

    public RouterSettings router() {
        return router;
    }
}
