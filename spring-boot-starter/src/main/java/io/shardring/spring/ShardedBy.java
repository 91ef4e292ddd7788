package io.shardring.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the call's shard key with a SpEL expression over the method's parameters, for keys that are not a parameter
 * of their own: {@code @ShardedBy("#order.tenantId")}, {@code @ShardedBy("#p0")}. Parameter names need the
 * compiler's {@code -parameters} flag (Spring Boot's parent POM sets it); {@code #p0}/{@code #a0} work without it.
 * The starter binds the key for the method and its transaction, as with {@link ShardKey}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ShardedBy {
    /** A SpEL expression whose value is the shard key, e.g. {@code "#tenantId"}. */
    String value();
}
