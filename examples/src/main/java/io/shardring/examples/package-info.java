/**
 * Examples of shardring in use, each a runnable main (see examples/README.md): the tenant DAO's routing
 * ({@link io.shardring.examples.tenant.TenantApp}), replica reads within a staleness bound
 * ({@link io.shardring.examples.tenant.ReplicaReadsExample}) and an operator's online rebalance through the Java API
 * ({@link io.shardring.examples.operator.RebalanceExample}).
 */
package io.shardring.examples;
