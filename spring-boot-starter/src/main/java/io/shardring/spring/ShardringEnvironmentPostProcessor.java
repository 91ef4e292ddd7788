package io.shardring.spring;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;

/**
 * Defaults for Spring Boot's own single-database auto-configuration, which would otherwise call
 * {@code getConnection()} on the sharded DataSource with no tenant bound: its Flyway (the starter migrates every
 * shard instead), its {@code db} health indicator (the {@code shardring} indicator checks every node) and jOOQ's
 * dialect detection (PostgreSQL). With Spring Data JPA on Hibernate, also Hibernate's start-up, which reads the
 * database's metadata through a connection to pick its dialect and Boot's default {@code ddl-auto}, and
 * open-in-view (see {@link #JPA}). They are defaults at the lowest precedence: any value the application sets wins.
 */
public final class ShardringEnvironmentPostProcessor implements EnvironmentPostProcessor {
    static final String SOURCE = "shardringDefaults";

    /** The classes on which Spring Boot's HibernateJpaAutoConfiguration depends. */
    static final List<String> JPA_CLASSES = List.of(
            "org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean", "jakarta.persistence.EntityManager",
            "org.hibernate.engine.spi.SessionImplementor");

    /**
     * <ul>
     * <li>no JDBC metadata at start-up, and the database named instead: Hibernate would otherwise take a connection
     * from the DataSource, which has no tenant bound then, to detect the database. From the product name it picks
     * its PostgreSQL dialect (naming the dialect class instead draws Hibernate's deprecation warning HHH90000025).
     * Told no version, that dialect assumes 12, its minimum; shardring needs 15 (row filters in logical replication),
     * so the dialect may use what 15 has;
     * <li>{@code ddl-auto} none: Flyway owns every shard's schema, and without it Boot asks a connection whether the
     * database is embedded;
     * <li>open-in-view off: it keeps one EntityManager, and with Spring's Hibernate set-up the connection it took
     * last, for the whole web request. Lazy loading after a transaction would then read through the connection of
     * the request's last transaction, on that transaction's shard, whichever tenant the entity belongs to; and a
     * unit of work run again after a cutover would reuse the failed run's EntityManager (cleared), where Hibernate
     * asks for a new one after an exception.
     * {@link ShardedJpaTransactionManager} releases the held connection when a transaction begins, so transactions
     * stay on their own tenant's shard if an application turns it on anyway.
     * </ul>
     */
    static final Map<String, String> JPA = jpaDefaults();

    private static Map<String, String> jpaDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("spring.jpa.properties.hibernate.boot.allow_jdbc_metadata_access", "false");
        m.put("spring.jpa.properties.jakarta.persistence.database-product-name", "PostgreSQL");
        m.put("spring.jpa.properties.jakarta.persistence.database-major-version", "15");
        m.put("spring.jpa.hibernate.ddl-auto", "none");
        m.put("spring.jpa.open-in-view", "false");
        return Collections.unmodifiableMap(m);
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (!environment.getProperty("shardring.enabled", Boolean.class, true)) {
            return;
        }
        Map<String, Object> defaults = new LinkedHashMap<>(Map.of(
                "spring.flyway.enabled", "false",
                "management.health.db.enabled", "false",
                "spring.jooq.sql-dialect", "POSTGRES"));
        ClassLoader loader = application.getClassLoader();
        if (JPA_CLASSES.stream().allMatch(c -> ClassUtils.isPresent(c, loader))) {
            defaults.putAll(JPA);
        }
        environment.getPropertySources().addLast(new MapPropertySource(SOURCE, defaults));
    }
}
