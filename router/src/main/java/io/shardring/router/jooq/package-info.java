/** jOOQ on shards: {@link io.shardring.router.jooq.ShardedDsl}. jOOQ is an optional dependency. */
package io.shardring.router.jooq;
