package io.shardring.spring;

import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * {@code /actuator/shardring}: the topology version this application routes by, each node's share of the keyspace
 * and zone, and, for a router that follows the catalog, the routers in the catalog's registry with those behind this
 * one's version (their reads still go to old owners). No credentials: URLs are masked.
 */
@Endpoint(id = "shardring")
public class ShardringEndpoint {
    private final ShardedDataSource router;

    public ShardringEndpoint(ShardedDataSource router) {
        this.router = router;
    }

    @ReadOperation
    public Map<String, Object> shardring() {
        Topology t = router.topology();
        Map<String, Double> shares = t.ring().stats().shares();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("topologyVersion", t.version());
        out.put("keyType", t.ringSettings().keyType().sqlType());
        out.put("replicationFactor", t.ringSettings().replicationFactor());
        out.put("followsCatalog", router.followsCatalog());
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeConfig n : t.nodes().values()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("id", n.id());
            node.put("share", shares.getOrDefault(n.id(), 0.0));
            node.put("weight", n.weight());
            node.put("zone", n.zone());
            node.put("jdbcUrl", NodeConfig.maskUrl(n.jdbcUrl()));
            node.put("markedDown", router.isDown(n.id()));
            nodes.add(node);
        }
        out.put("nodes", nodes);
        if (router.followsCatalog()) {
            List<Map<String, Object>> routers = new ArrayList<>();
            List<String> behind = new ArrayList<>();
            for (RouterRegistry.Entry e : router.routers()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("id", e.id);
                r.put("host", e.host);
                r.put("pid", e.pid);
                r.put("topologyVersion", e.version);
                r.put("silentMillis", e.silentMillis);
                routers.add(r);
                if (e.version < t.version()) {
                    behind.add(e.id);
                }
            }
            out.put("routers", routers);
            out.put("routersBehind", behind);
        }
        return out;
    }
}
