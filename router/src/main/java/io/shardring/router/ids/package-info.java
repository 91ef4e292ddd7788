/** Globally unique ids for sharded rows (UUIDv7), in Java and as {@code shardring.uuid_v7()} in SQL. */
package io.shardring.router.ids;
