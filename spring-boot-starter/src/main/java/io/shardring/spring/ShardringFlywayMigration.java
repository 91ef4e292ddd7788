package io.shardring.spring;

import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.ShardMigrationResult;
import io.shardring.router.schema.ShardedFlyway;
import java.util.List;
import java.util.function.Consumer;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;

/**
 * Applies the application's migrations ({@code spring.flyway.locations}) to every shard and secondary store at
 * start-up with {@link ShardedFlyway}, logs one line per shard, and stops the application when any shard fails (the
 * error names the shards). The application's DataSource depends on this bean, so nothing uses a shard before.
 */
public final class ShardringFlywayMigration implements InitializingBean {
    private static final Logger LOG = LoggerFactory.getLogger(ShardringFlywayMigration.class);

    private final ShardedDataSource router;
    private final List<String> locations;
    private final Consumer<FluentConfiguration> customizer;
    private MigrationReport report;

    ShardringFlywayMigration(ShardedDataSource router, List<String> locations,
            Consumer<FluentConfiguration> customizer) {
        this.router = router;
        this.locations = List.copyOf(locations);
        this.customizer = customizer;
    }

    @Override
    public void afterPropertiesSet() {
        MigrationReport r = ShardedFlyway.configure(router).locations(locations.toArray(String[]::new))
                .customize(customizer).load().migrate();
        for (ShardMigrationResult s : r.results().values()) {
            if (s.isSuccess()) {
                LOG.info("shardring Flyway {}: {} migration(s) applied, schema version {}{}", s.nodeId(),
                        s.migrationsExecuted(), s.schemaVersion(), s.guardInstalled() ? ", ownership guard on" : "");
            } else {
                LOG.error("shardring Flyway {}: {}", s.nodeId(), s.error());
            }
        }
        this.report = r.orThrow();
    }

    /** The report of the start-up migration. */
    public MigrationReport report() {
        return report;
    }

    /** The locations migrated, from spring.flyway.locations. */
    public List<String> locations() {
        return locations;
    }
}
