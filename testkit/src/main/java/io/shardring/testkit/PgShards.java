package io.shardring.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the annotated JUnit 5 test class one {@link PgCluster} of {@link #value()} shards, started before its first
 * test and closed after its last; declare a {@code PgCluster} parameter on a constructor, {@code @BeforeAll},
 * {@code @BeforeEach} or {@code @Test} method to get it.
 *
 * <pre>{@code
 * @PgShards(2)
 * class RoutingTest {
 *     @Test
 *     void routes(PgCluster cluster) throws SQLException {
 *         try (Connection c = cluster.shard(1).connect()) { ... }
 *     }
 * }
 * }</pre>
 *
 * One cluster per class, not per test, because starting servers costs seconds; tests in the class share the servers
 * and should use their own tables or clean up. {@code @Nested} classes share their enclosing class's cluster unless
 * annotated themselves.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(PgClusterExtension.class)
public @interface PgShards {

    /** Number of shards, at least 1. */
    int value() default PgCluster.DEFAULT_SHARDS;
}
