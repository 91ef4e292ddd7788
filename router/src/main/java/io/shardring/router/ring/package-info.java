/**
 * The consistent-hash ring: PostgreSQL-compatible key hashing ({@link io.shardring.router.ring.KeyHash}),
 * vnode token placement, the immutable {@link io.shardring.router.ring.HashRing}, ring diffs and stats.
 * Nothing here touches JDBC: a ring range becomes SQL only as text ({@link io.shardring.router.ring.TokenRange#toSql}).
 */
package io.shardring.router.ring;
