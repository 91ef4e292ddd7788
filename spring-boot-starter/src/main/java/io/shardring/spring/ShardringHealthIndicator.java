package io.shardring.spring;

import io.shardring.router.jdbc.NodeHealth;
import io.shardring.router.jdbc.ShardedDataSource;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

/**
 * {@code shardring} in {@code /actuator/health}: one entry per node (up or down, and why; with replicas each copy's
 * lag in ms), the topology version. Each node is checked with its own connection, all at once, within
 * {@code shardring.health.timeout}. Down when any node is down: that node's tenants cannot be written.
 */
public final class ShardringHealthIndicator extends AbstractHealthIndicator {
    private final ShardedDataSource router;
    private final Duration timeout;

    public ShardringHealthIndicator(ShardedDataSource router, Duration timeout) {
        super("shardring health check failed");
        this.router = router;
        this.timeout = timeout;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Map<String, NodeHealth> checks = router.checkNodes(timeout);
        Map<String, Object> nodes = new LinkedHashMap<>();
        int down = 0;
        for (NodeHealth h : checks.values()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("status", h.up() ? Status.UP.getCode() : Status.DOWN.getCode());
            if (h.up()) {
                node.put("millis", h.millis());
            } else {
                node.put("problem", h.problem());
                down++;
            }
            if (!h.copyLagMillis().isEmpty()) {
                node.put("replicaLagMillis", h.copyLagMillis());
            }
            nodes.put(h.node(), node);
        }
        builder.status(down == 0 ? Status.UP : Status.DOWN)
                .withDetail("topologyVersion", router.topology().version())
                .withDetail("nodes", nodes);
        if (down > 0) {
            builder.withDetail("down", down + " of " + checks.size() + " nodes");
        }
    }
}
