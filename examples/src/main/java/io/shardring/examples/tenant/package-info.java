/**
 * A tenant DAO on a sharded cluster: customers and orders keyed by tenant id, written and read through
 * {@link io.shardring.router.jooq.ShardedDsl} with jOOQ's DSL, and wired by {@link io.shardring.examples.tenant.TenantApp}.
 */
package io.shardring.examples.tenant;
