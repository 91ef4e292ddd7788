package io.shardring.spring;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Defaults for Spring Boot's own single-database auto-configuration, which would otherwise call
 * {@code getConnection()} on the sharded DataSource with no tenant bound: its Flyway (the starter migrates every
 * shard instead), its {@code db} health indicator (the {@code shardring} indicator checks every node) and jOOQ's
 * dialect detection (PostgreSQL). They are defaults at the lowest precedence: any value the application sets wins.
 */
public final class ShardringEnvironmentPostProcessor implements EnvironmentPostProcessor {
    static final String SOURCE = "shardringDefaults";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (!environment.getProperty("shardring.enabled", Boolean.class, true)) {
            return;
        }
        environment.getPropertySources().addLast(new MapPropertySource(SOURCE, Map.of(
                "spring.flyway.enabled", "false",
                "management.health.db.enabled", "false",
                "spring.jooq.sql-dialect", "POSTGRES")));
    }
}
