/**
 * Schemas on every shard: {@link io.shardring.router.schema.ShardedFlyway} runs the application's Flyway
 * migrations everywhere and installs the shardring schema; {@link io.shardring.router.schema.OwnershipGuard}
 * rejects writes for keys a shard does not own.
 */
package io.shardring.router.schema;
