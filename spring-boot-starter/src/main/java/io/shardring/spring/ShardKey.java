package io.shardring.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the parameter that holds the call's shard key (the tenant id): the starter binds it for the method and its
 * {@code @Transactional} transaction, so that the method's connections, JdbcTemplate and jOOQ go to that key's shard.
 *
 * <pre>{@code
 * @Transactional
 * public UUID placeOrder(@ShardKey long tenantId, UUID customer, long cents) { ... }
 * }</pre>
 *
 * The parameter's type must be one the ring's key type takes ({@code long}/{@code Long} for {@code bigint},
 * {@code int} for {@code integer}, {@code String} for {@code text}, {@code UUID} for {@code uuid}); the application
 * does not start otherwise. One {@code @ShardKey} per method; for a key inside an argument use {@link ShardedBy}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface ShardKey {
}
