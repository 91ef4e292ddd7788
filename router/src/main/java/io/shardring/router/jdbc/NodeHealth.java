package io.shardring.router.jdbc;

import java.util.Map;

/**
 * One primary's answer to {@link ShardedDataSource#checkNodes}.
 *
 * @param node the node id
 * @param up whether a direct connection and {@code SELECT 1} succeeded within the timeout
 * @param problem why not, without credentials; null when up
 * @param millis how long the check took when up; -1 otherwise
 * @param copyLagMillis each copy of the node's rows (secondary store link or standby) and its lag in ms as last
 *     sampled, -1 while it cannot be used; empty without replicas
 */
public record NodeHealth(String node, boolean up, String problem, long millis, Map<String, Long> copyLagMillis) {
}
