package io.shardring.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ErrorCode;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.JdbcTemplateAutoConfiguration;
import org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;

/**
 * The starter in a Spring context on two embedded PostgreSQL servers, with Spring Boot's DataSource, transaction,
 * JdbcTemplate and AOP auto-configuration around it as an application has them.
 */
@ExtendWith(OutputCaptureExtension.class)
class ShardringAutoConfigurationTest {
    private static PgCluster cluster;

    @BeforeAll
    static void start() {
        cluster = PgCluster.start(2);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static ApplicationContextRunner runner() {
        ApplicationContextRunner r = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ShardringAutoConfiguration.class,
                        DataSourceAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class,
                        TransactionAutoConfiguration.class, JdbcTemplateAutoConfiguration.class,
                        AopAutoConfiguration.class))
                .withUserConfiguration(Beans.class)
                .withPropertyValues("shardring.ring.key-type=bigint", "shardring.tables[0].name=accounts",
                        "shardring.tables[0].key-column=tenant_id");
        for (int i = 0; i < cluster.size(); i++) {
            PgShard s = cluster.shard(i);
            r = r.withPropertyValues("shardring.nodes[" + i + "].id=" + s.name(),
                    "shardring.nodes[" + i + "].jdbc-url=" + s.jdbcUrl(),
                    "shardring.nodes[" + i + "].user=" + s.user(),
                    // the embedded servers trust local connections, so any password does: it must never show
                    "shardring.nodes[" + i + "].password=s3cret-not-to-be-logged",
                    "shardring.nodes[" + i + "].pool.maximum-pool-size=3");
        }
        return r;
    }

    @Configuration(proxyBeanMethods = false)
    static class Beans {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }

        @Bean
        Accounts accounts(JdbcTemplate jdbc) {
            return new Accounts(jdbc);
        }
    }

    /** A deposit whose tenant travels inside it. */
    record Deposit(long tenant, long cents) {
    }

    /** An application's repository, written as if there were one database. */
    static class Accounts {
        final JdbcTemplate jdbc;

        Accounts(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        public void deposit(@ShardKey long tenant, long cents) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, ?)", tenant, cents);
        }

        @Transactional
        @ShardedBy("#deposit.tenant")
        public void depositFor(Deposit deposit) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, ?)", deposit.tenant(), deposit.cents());
        }

        @Transactional
        public long balanceOfBoundTenant(long tenant) {
            return jdbc.queryForObject("SELECT coalesce(sum(cents), 0) FROM accounts WHERE tenant_id = ?", Long.class,
                    tenant);
        }

        /** Deposits for {@code other} from inside a transaction on {@code tenant}, through the proxy. */
        @Transactional
        public void depositInside(@ShardKey long tenant, Accounts self, long other) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
            self.deposit(other, 1);
        }

        public long countWithoutTransaction() {
            return jdbc.queryForObject("SELECT count(*) FROM accounts", Long.class);
        }

        final java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        final List<Boolean> inTransaction = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Two inserts; the guard's rejection (SR001) after the first, on the first run only. */
        @Transactional
        public void depositRejectedOnce(@ShardKey long tenant) {
            inTransaction.add(org.springframework.transaction.support.TransactionSynchronizationManager
                    .isActualTransactionActive());
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
            if (attempts.incrementAndGet() == 1) {
                rejectAsNotTheOwner();
            }
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
        }

        /** Auto-commit (SUPPORTS with no transaction around it): its insert stays, so it must not run again. */
        @Transactional(propagation = org.springframework.transaction.annotation.Propagation.SUPPORTS)
        public void rejectedInAutoCommit(@ShardKey long tenant) {
            attempts.incrementAndGet();
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
            rejectAsNotTheOwner();
        }

        /** A nested transaction of its own commits, then the outer one is rejected: it must not run again. */
        @Transactional
        public void rejectedAfterANestedCommit(@ShardKey long tenant, Accounts self) {
            attempts.incrementAndGet();
            self.depositOnItsOwn(tenant);
            rejectAsNotTheOwner();
        }

        @Transactional(propagation = org.springframework.transaction.annotation.Propagation.REQUIRES_NEW)
        public void depositOnItsOwn(@ShardKey long tenant) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
        }

        /** The same tenant as an int inside a transaction bound with a long. */
        @Transactional
        public void depositWithIntKeyInside(@ShardKey long tenant, Accounts self) {
            self.depositIntKey((int) tenant);
        }

        @Transactional
        public void depositIntKey(@ShardKey int tenant) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
        }

        /** Through methods: the test holds the CGLIB proxy, whose own fields are unset. */
        public java.util.concurrent.atomic.AtomicInteger attempts() {
            return attempts;
        }

        public List<Boolean> inTransaction() {
            return inTransaction;
        }

        private void rejectAsNotTheOwner() {
            jdbc.execute("DO $$ BEGIN RAISE EXCEPTION 'not the owner (test)' USING ERRCODE = 'SR001'; END $$");
        }

        @Transactional
        public void depositNullable(@ShardKey Long tenant) {
            jdbc.update("INSERT INTO accounts (tenant_id, cents) VALUES (?, 1)", tenant);
        }
    }

    /** A repository whose @ShardKey cannot hold a bigint key. */
    static class WrongKeyType {
        @Transactional
        public void deposit(@ShardKey String tenant) {
        }
    }

    @Test
    void routesByShardKeyRefusesUnboundAndSwitchingCallsMigratesAndReportsHealthAndMeters(CapturedOutput output)
            throws Exception {
        runner().withPropertyValues("management.endpoints.web.exposure.include=health,shardring").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(PlatformTransactionManager.class)).isInstanceOf(ShardedTransactionManager.class);
            ShardedDataSource router = ctx.getBean(ShardedDataSource.class);
            assertThat(ctx.getBean(DataSource.class)).isSameAs(router.contextBound());
            Accounts accounts = ctx.getBean(Accounts.class);
            for (long t = 0; t < 40; t++) {
                accounts.deposit(t, 100);
                accounts.depositFor(new Deposit(t, 5));
            }
            Map<Long, List<String>> where = tenantsByShard();
            for (long t = 0; t < 40; t++) {
                assertThat(where.get(t)).as("shards with tenant %d", t).containsExactly(router.nodeFor(t));
            }
            assertThat(where.values().stream().map(l -> l.get(0)).distinct()).hasSize(2);
            // a key bound by code that is not a bean, for a @Transactional method without @ShardKey
            long balance = ShardContext.callWithKey(7L, () -> accounts.balanceOfBoundTenant(7));
            assertThat(balance).isEqualTo(105);

            MeterRegistry registry = ctx.getBean(MeterRegistry.class);
            assertThat(registry.get("shardring.topology.version").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("shardring.routes").counters()).isNotEmpty();

            Health health = ctx.getBean(ShardringHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(((Map<?, ?>) health.getDetails().get("nodes")).keySet()).map(Object::toString).containsExactly("shard0", "shard1");
            Map<String, Object> endpoint = ctx.getBean(ShardringEndpoint.class).shardring();
            assertThat(endpoint).containsEntry("topologyVersion", 1L).containsEntry("followsCatalog", false);
            assertThat((List<?>) endpoint.get("nodes")).hasSize(2);

            aCallWithNoTenantBoundNamesTheMethodAndHowToBind(accounts);
            aTransactionCannotSwitchShardsMidway(accounts);
            onlyAWholeTransactionRunsAgainAfterTheGuardsRejection(accounts);
        });
        assertThat(output).contains("shardring Flyway shard0", "shardring Flyway shard1")
                .doesNotContain("s3cret-not-to-be-logged");
    }

    /** One context for the checks of calls: each start migrates both shards. */
    private static void aCallWithNoTenantBoundNamesTheMethodAndHowToBind(Accounts accounts) {
        {
            assertThatThrownBy(() -> accounts.balanceOfBoundTenant(1))
                    .isInstanceOfSatisfying(ShardringException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.NO_KEY_BOUND))
                    .hasMessageContaining("Accounts.balanceOfBoundTenant")
                    .hasMessageContaining("@ShardKey").hasMessageContaining("ShardContext.runWithKey");
            assertThatThrownBy(accounts::countWithoutTransaction)
                    .isInstanceOf(ShardringException.class)
                    .hasMessageContaining("Accounts.countWithoutTransaction")
                    .hasMessageContaining("@ShardKey");
            assertThatThrownBy(() -> accounts.depositNullable(null)).isInstanceOf(InvalidKeyException.class)
                    .hasMessageContaining("Accounts.depositNullable").hasMessageContaining("null");
        }
    }

    /** What a move's cutover looks like to a transaction: the guard's SQLSTATE SR001 from its shard. */
    private static void onlyAWholeTransactionRunsAgainAfterTheGuardsRejection(Accounts accounts) throws Exception {
        long tenant = 1001;
        accounts.attempts().set(0);
        accounts.depositRejectedOnce(tenant);
        assertThat(accounts.attempts()).hasValue(2);
        assertThat(accounts.inTransaction()).as("each run in a transaction of its own").containsExactly(true, true);
        assertThat(rowsOf(tenant)).as("the rejected run's insert rolled back").isEqualTo(2);

        accounts.attempts().set(0);
        assertThatThrownBy(() -> accounts.rejectedInAutoCommit(1002))
                .satisfies(e -> assertThat(io.shardring.router.StaleTopologyException.isCause(e)).isTrue());
        assertThat(accounts.attempts()).as("auto-commit work is not run again").hasValue(1);
        assertThat(rowsOf(1002)).isEqualTo(1);

        accounts.attempts().set(0);
        assertThatThrownBy(() -> accounts.rejectedAfterANestedCommit(1003, accounts))
                .satisfies(e -> assertThat(io.shardring.router.StaleTopologyException.isCause(e)).isTrue());
        assertThat(accounts.attempts()).as("work that committed a part is not run again").hasValue(1);
        assertThat(rowsOf(1003)).isEqualTo(1);

        accounts.depositWithIntKeyInside(1004, accounts);
        assertThat(rowsOf(1004)).as("an int key inside a transaction on the same long key").isEqualTo(1);
    }

    private static long rowsOf(long tenant) throws Exception {
        long n = 0;
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); java.sql.PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM accounts WHERE tenant_id = ?")) {
                ps.setLong(1, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        }
        return n;
    }

    private static void aTransactionCannotSwitchShardsMidway(Accounts accounts) throws Exception {
        {
            long before = total();
            assertThatThrownBy(() -> accounts.depositInside(1, accounts, 2))
                    .isInstanceOfSatisfying(ShardringException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.KEY_SWITCH_IN_TRANSACTION))
                    .hasMessageContaining("cannot bind shard key 2 while a transaction on key 1 runs");
            assertThat(total()).as("the outer transaction rolled back").isEqualTo(before);
            accounts.depositInside(3, accounts, 3); // the same key nests
            assertThat(total()).isEqualTo(before + 2);
            assertThat(ShardContext.currentKey()).isNull();
            assertThat(ShardContext.transactionKey()).isNull();
        }
    }

    @Test
    void aShardKeyOfATypeTheRingDoesNotTakeStopsTheStart() {
        runner().withBean(WrongKeyType.class).run(ctx -> assertThat(ctx).getFailure()
                .rootCause().hasMessageContaining("@ShardKey parameter 0 of")
                .hasMessageContaining("WrongKeyType.deposit is a java.lang.String")
                .hasMessageContaining("bigint"));
    }

    @Test
    void configurationFileAndInlineFieldsTogetherAreRefused() {
        runner().withPropertyValues("shardring.config=classpath:shardring.yaml").run(ctx -> assertThat(ctx)
                .getFailure().rootCause().hasMessageContaining("shardring.config (classpath:shardring.yaml) and"
                        + " inline shardring.* fields are both set"));
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ShardringAutoConfiguration.class))
                .run(ctx -> assertThat(ctx).getFailure().rootCause()
                        .hasMessageContaining("shardring is on the classpath but not configured")
                        .hasMessageContaining("shardring.enabled=false"));
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ShardringAutoConfiguration.class))
                .withPropertyValues("shardring.config=classpath:missing.yaml")
                .run(ctx -> assertThat(ctx).getFailure().rootCause()
                        .hasMessageContaining("shardring.config: classpath:missing.yaml does not exist"));
        runner().withPropertyValues("shardring.nodes[0].wieght=2").run(ctx -> assertThat(ctx).getFailure()
                .hasStackTraceContaining("shardring.nodes[0].wieght"));
        runner().withPropertyValues("shardring.ring.key-type=bignum").run(ctx -> assertThat(ctx).getFailure()
                .hasStackTraceContaining("shardring.ring.key-type").hasStackTraceContaining("bignum"));
    }

    @Test
    void anUnreachableCatalogStopsTheStartUnlessAStaticTopologyIsAllowed(CapturedOutput output) {
        String[] deadCatalog = {"shardring.nodes[2].id=catalog", "shardring.nodes[2].jdbc-url="
                + "jdbc:postgresql://127.0.0.1:1/shardring", "shardring.nodes[2].user=app",
                "shardring.nodes[2].pool.connection-timeout=1s", "shardring.catalog.node=catalog"};
        runner().withPropertyValues(deadCatalog).run(ctx -> assertThat(ctx).getFailure()
                .hasStackTraceContaining("the catalog on node catalog (jdbc:postgresql://127.0.0.1:1/shardring) cannot"
                        + " be read at start-up"));
        runner().withPropertyValues(deadCatalog).withPropertyValues("shardring.start-without-catalog=true",
                "shardring.flyway.enabled=false").run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBean(ShardedDataSource.class).topology().nodes()).hasSize(3);
                });
        assertThat(output).doesNotContain("s3cret-not-to-be-logged");
    }

    @Test
    void backsOffWhenTheApplicationDefinesItsOwnDataSourceAndTransactionManager() {
        PgShard s = cluster.shard(0);
        runner().withBean("dataSource", DataSource.class, () -> new DriverManagerDataSource(s.jdbcUrl(), s.user(),
                        ""))
                .withBean("transactionManager", PlatformTransactionManager.class,
                        () -> new DataSourceTransactionManager(new DriverManagerDataSource(s.jdbcUrl(), s.user(), "")))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBean(DataSource.class)).isInstanceOf(DriverManagerDataSource.class);
                    assertThat(ctx.getBean(PlatformTransactionManager.class))
                            .isNotInstanceOf(ShardedTransactionManager.class);
                    assertThat(ctx).hasSingleBean(ShardedDataSource.class);
                });
        // the application's own router: no shardring.* configuration needed, the rest is built on it
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ShardringAutoConfiguration.class))
                .withPropertyValues("shardring.flyway.enabled=false")
                .withBean(ShardedDataSource.class, () -> ShardedDataSource.builder(io.shardring.router.topology
                        .Topology.builder().ring(io.shardring.router.topology.RingSettings.of(
                                io.shardring.router.ring.KeyType.BIGINT))
                        .node(io.shardring.router.topology.NodeConfig.builder("own").jdbcUrl(s.jdbcUrl())
                                .user(s.user()).build()).build()).probeOnStart(false).build())
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBean(DataSource.class))
                            .isSameAs(ctx.getBean(ShardedDataSource.class).contextBound());
                });
    }

    private static Map<Long, List<String>> tenantsByShard() throws Exception {
        Map<Long, List<String>> where = new java.util.HashMap<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT DISTINCT tenant_id FROM accounts")) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }

    private static long total() throws Exception {
        long n = 0;
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM accounts")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }
}
