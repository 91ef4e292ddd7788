/**
 * Real PostgreSQL shards for tests and demos.
 *
 * <p>{@link io.shardring.testkit.PgCluster} starts N independent PostgreSQL servers (embedded, in Docker via
 * Testcontainers, or external ones named by {@code SHARDRING_TEST_SHARDS}); {@link io.shardring.testkit.PgShards}
 * gives one cluster to each JUnit 5 test class. Real servers rather than mocks, because the code under test
 * (routing, logical-replication based rebalancing) is only meaningful against real PostgreSQL behaviour.
 */
package io.shardring.testkit;
