/**
 * Routing: {@link io.shardring.router.jdbc.ShardedDataSource} holds one HikariCP pool per node and per
 * standby and routes each shard key through the ring to its node, with health, metrics and a retry after
 * a stale-topology rejection.
 */
package io.shardring.router.jdbc;
