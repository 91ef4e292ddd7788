package io.shardring.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.jdbc.ShardedDataSource;
import jakarta.persistence.EntityManagerFactory;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.flyway.FlywayConfigurationCustomizer;
import org.springframework.boot.autoconfigure.transaction.TransactionManagerCustomizers;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionManager;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * shardring in a Spring Boot application: the router from {@code shardring.*} or {@code shardring.config}, the
 * application's DataSource bound to the current tenant, a transaction manager on that tenant's shard, Flyway on every
 * shard, tenant binding by {@link ShardKey}/{@link ShardedBy} (and optionally by web request), and, with Actuator, a
 * health indicator and the {@code shardring} endpoint. Each bean backs off when the application defines its own.
 * Runs before Spring Boot's DataSource, transaction, JPA, jOOQ and Flyway auto-configuration, which then use (or, for
 * Flyway, leave alone) the sharded DataSource.
 */
@AutoConfiguration(beforeName = {
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration",
        "org.springframework.boot.autoconfigure.jooq.JooqAutoConfiguration",
        "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration"})
@ConditionalOnClass(ShardedDataSource.class)
@ConditionalOnBooleanProperty(name = "shardring.enabled", matchIfMissing = true)
@EnableConfigurationProperties(ShardringProperties.class)
public class ShardringAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(ShardedDataSource.class)
    ShardringConfigLoader.Loaded shardringConfiguration(ShardringProperties properties, Environment environment,
            ResourceLoader resources) {
        return ShardringConfigLoader.load(properties, environment, resources);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ShardedDataSource shardedDataSource(ShardringConfigLoader.Loaded loaded, ShardringProperties properties,
            ObjectProvider<MeterRegistry> registry) {
        try {
            return ShardedDataSource.builder(loaded.config())
                    .environment(loaded.environment())
                    .meterRegistry(registry.getIfAvailable(() -> Metrics.globalRegistry))
                    .requireCatalog(!properties.startWithoutCatalog())
                    .build();
        } catch (ShardUnavailableException e) {
            throw new ShardUnavailableException(e.nodeId(), e.getMessage() + " (in Spring: set"
                    + " shardring.start-without-catalog=true)", e.getCause());
        }
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnClass(FluentConfiguration.class)
    @ConditionalOnBooleanProperty(name = "shardring.flyway.enabled", matchIfMissing = true)
    public ShardringFlywayMigration shardringFlywayMigration(ShardedDataSource router, Environment environment,
            ObjectProvider<FlywayConfigurationCustomizer> customizers) {
        List<String> locations = Binder.get(environment).bind("spring.flyway.locations", Bindable.listOf(String.class))
                .orElse(List.of("classpath:db/migration"));
        List<FlywayConfigurationCustomizer> all = customizers.orderedStream().toList();
        return new ShardringFlywayMigration(router, locations, c -> all.forEach(x -> x.customize(c)));
    }

    /** The application's DataSource: every connection goes to the shard of the tenant bound to the thread. */
    @Bean
    @ConditionalOnMissingBean(DataSource.class)
    public DataSource dataSource(ShardedDataSource router, ObjectProvider<ShardringFlywayMigration> migrated) {
        migrated.ifAvailable(m -> { }); // every shard is migrated before anything can use the DataSource
        return router.contextBound();
    }

    /** Without JPA. With JPA on the classpath {@link Jpa} registers the transaction manager first; this backs off. */
    @Bean
    @ConditionalOnMissingBean(TransactionManager.class)
    public ShardedTransactionManager transactionManager(ShardedDataSource router) {
        return new ShardedTransactionManager(router);
    }

    /**
     * Spring Data JPA on Hibernate: the conditions of Spring Boot's HibernateJpaAutoConfiguration, whose
     * JpaTransactionManager backs off for this one. A nested configuration is registered before the enclosing class's
     * own beans, so with JPA on the classpath its transaction manager is the one.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean",
            "jakarta.persistence.EntityManager", "org.hibernate.engine.spi.SessionImplementor"})
    static class Jpa {
        @Bean
        @ConditionalOnMissingBean(TransactionManager.class)
        PlatformTransactionManager transactionManager(ShardedDataSource router, ListableBeanFactory beans,
                ObjectProvider<TransactionManagerCustomizers> customizers) {
            // Hibernate on the classpath but no EntityManagerFactory (JPA's auto-configuration excluded, or Hibernate
            // came with another library): a JPA transaction manager would have nothing to manage
            if (beans.getBeanNamesForType(EntityManagerFactory.class, true, false).length == 0) {
                return new ShardedTransactionManager(router);
            }
            ShardedJpaTransactionManager tm = new ShardedJpaTransactionManager();
            customizers.ifAvailable(c -> c.customize(tm)); // as Spring Boot does for the one this replaces
            return tm;
        }
    }

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static ShardKeyAdvisor shardKeyAdvisor(ObjectProvider<ShardedDataSource> router) {
        return new ShardKeyAdvisor(router::getObject);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    static class Actuator {
        @Bean
        @ConditionalOnMissingBean(name = "shardringHealthIndicator")
        @org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator("shardring")
        ShardringHealthIndicator shardringHealthIndicator(ShardedDataSource router, ShardringProperties properties) {
            return new ShardringHealthIndicator(router, properties.health().timeout());
        }

        @Bean
        @ConditionalOnMissingBean
        @org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint
        ShardringEndpoint shardringEndpoint(ShardedDataSource router) {
            return new ShardringEndpoint(router);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = "org.springframework.web.servlet.HandlerInterceptor")
    @ConditionalOnExpression("'${shardring.web.header:}' != '' or '${shardring.web.path-variable:}' != ''")
    static class Web {
        @Bean
        WebMvcConfigurer shardringWebBinding(ShardedDataSource router, ShardringProperties properties) {
            ShardringProperties.Web web = properties.web();
            ShardKeyWebInterceptor interceptor = new ShardKeyWebInterceptor(router, blankToNull(web.header()),
                    blankToNull(web.pathVariable()));
            return new WebMvcConfigurer() {
                @Override
                public void addInterceptors(InterceptorRegistry registry) {
                    registry.addInterceptor(interceptor);
                }
            };
        }

        private static String blankToNull(String s) {
            return s == null || s.isBlank() ? null : s;
        }
    }
}
