package io.shardring.spring.jpa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.spring.ShardedJpaTransactionManager;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.orm.jpa.EntityManagerHolder;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The starter in a Spring Boot application on Spring Data JPA (Hibernate), started as an application starts (its
 * environment defaults included), on two embedded PostgreSQL servers.
 */
class ShardringJpaTest {
    private static PgCluster cluster;
    private static ConfigurableApplicationContext app;
    private static ShardedDataSource router;
    private static Notes notes;

    /** A Spring Boot application with JPA repositories in this package, and nothing else of its own. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Notes.class)
    static class App {
    }

    @BeforeAll
    static void start() {
        cluster = PgCluster.start(2);
        app = app().run();
        router = app.getBean(ShardedDataSource.class);
        notes = app.getBean(Notes.class);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        cluster.close();
    }

    private static SpringApplicationBuilder app(String... more) {
        List<String> p = new ArrayList<>(List.of("spring.main.banner-mode=off", "shardring.ring.key-type=bigint",
                "shardring.tables[0].name=notes", "shardring.tables[0].key-column=tenant_id",
                "spring.flyway.locations=classpath:db/jpa"));
        for (int i = 0; i < cluster.size(); i++) {
            PgShard s = cluster.shard(i);
            p.addAll(List.of("shardring.nodes[" + i + "].id=" + s.name(), "shardring.nodes[" + i + "].jdbc-url="
                    + s.jdbcUrl(), "shardring.nodes[" + i + "].user=" + s.user(),
                    "shardring.nodes[" + i + "].pool.maximum-pool-size=3"));
        }
        p.addAll(List.of(more));
        return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties(p.toArray(String[]::new));
    }

    @Test
    void startsWithNoTenantBoundAndRunsRepositoriesOnTheShardKeysShard() throws Exception {
        assertThat(app.getBean(PlatformTransactionManager.class)).isInstanceOf(ShardedJpaTransactionManager.class);
        assertThat(app.getEnvironment().getProperty("spring.jpa.open-in-view")).isEqualTo("false");
        SessionFactoryImplementor sf = app.getBean(EntityManagerFactory.class).unwrap(SessionFactoryImplementor.class);
        assertThat(sf.getJdbcServices().getDialect().getVersion().getMajor())
                .as("the dialect's version, told rather than read from a connection").isEqualTo(15);
        Counter refused = app.getBean(MeterRegistry.class).find("shardring.errors").tag("kind", "no_key_bound")
                .counter();
        assertThat(refused == null ? 0 : refused.count()).as("connections asked for with no tenant bound").isZero();

        for (long t = 0; t < 40; t++) {
            notes.write(t, 1, "note of " + t);
        }
        Map<Long, List<String>> where = tenantsByShard();
        for (long t = 0; t < 40; t++) {
            assertThat(where.get(t)).as("shards with tenant %d", t).containsExactly(router.nodeFor(t));
        }
        assertThat(where.values().stream().map(l -> l.get(0)).distinct()).hasSize(2);
        assertThat(notes.notes(7)).extracting(Note::getBody).containsExactly("note of 7");

        assertThat(notes.persistInReadOnly(7, 99)).as("the read-only transaction's connection").isEqualTo("on");
        assertThat(notes.notes(7)).as("a read-only transaction is not flushed").hasSize(1);
        assertThat(notes.flushedThenCountedByJdbc(8, 50)).as("JDBC on the JPA transaction's connection").isEqualTo(1);
        assertThat(rowsOf(8)).isEqualTo(2);
    }

    @Test
    void aTransactionWithNoTenantOrWithASecondTenantIsRefused() throws Exception {
        assertThatThrownBy(() -> notes.countOfBoundTenant(1))
                .isInstanceOfSatisfying(ShardringException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.NO_KEY_BOUND))
                .hasMessageContaining("Notes.countOfBoundTenant").hasMessageContaining("@ShardKey");
        assertThat(ShardContext.callWithKey(103L, () -> notes.countOfBoundTenant(103))).isZero();

        assertThatThrownBy(() -> notes.writeInside(101, notes, 102))
                .isInstanceOfSatisfying(ShardringException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.KEY_SWITCH_IN_TRANSACTION));
        assertThat(rowsOf(101)).as("the outer transaction rolled back").isZero();
        assertThat(rowsOf(102)).isZero();
        assertThat(ShardContext.transactionKey()).isNull();
    }

    /**
     * A move's cutover as the application meets it: the tenant's shard refuses its writes (the real guard, SQLSTATE
     * SR001) until the new owner takes it. Here the shard stops owning anything for a moment and owns its ranges
     * again, as a cutover that gives the ranges back does.
     */
    @Test
    void aRefusalAtCommitOrInsideARepositoryIsWaitedOutAndRunsAgainInAFreshPersistenceContext() throws Exception {
        long tenant = 201;
        notes.sessions().clear();
        notes.returned().set(0);
        refusedForAMoment(tenant, () -> notes.write(tenant, 1, "written during a cutover"));
        assertThat(notes.returned().get()).as("runs whose refusal came at commit, after the method returned")
                .isGreaterThanOrEqualTo(2);
        assertThat(notes.sessions()).as("each run's persistence context").hasSizeGreaterThanOrEqualTo(2)
                .doesNotHaveDuplicates();
        assertThat(rowsOf(tenant)).isEqualTo(1);

        long other = 202;
        notes.sessions().clear();
        notes.returned().set(0);
        refusedForAMoment(other, () -> notes.writeThroughRepository(other, 1, "written during a cutover"));
        assertThat(notes.sessions()).hasSizeGreaterThanOrEqualTo(2).doesNotHaveDuplicates();
        assertThat(notes.returned()).as("only the run after the cutover got past the repository's flush").hasValue(1);
        assertThat(rowsOf(other)).isEqualTo(1);
    }

    @Test
    void aUnitOfWorkThatCommittedAPartIsNotRunAgain() throws Exception {
        long tenant = 301;
        notes.returned().set(0);
        assertThatThrownBy(() -> notes.refusedAfterANestedCommit(tenant, notes))
                .satisfies(e -> assertThat(StaleTopologyException.isCause(e)).as("%s", e).isTrue());
        assertThat(notes.returned()).hasValue(1);
        assertThat(rowsOf(tenant)).as("the nested transaction's row, once").isEqualTo(1);
    }

    /**
     * An EntityManager bound to the thread before the transactions, as open-in-view binds one for a web request: each
     * transaction still runs on its own tenant's shard.
     */
    @Test
    void anEntityManagerBoundAcrossTransactionsDoesNotCarryOneShardsConnectionToAnotherTenant() throws Exception {
        long a = firstTenantOn("shard0", 400);
        long b = firstTenantOn("shard1", 400);
        EntityManagerFactory emf = app.getBean(EntityManagerFactory.class);
        EntityManager em = emf.createEntityManager();
        TransactionSynchronizationManager.bindResource(emf, new EntityManagerHolder(em));
        try {
            notes.write(a, 1, "first tenant of the request");
            notes.write(b, 1, "second tenant of the request");
            assertThat(notes.notes(a)).hasSize(1);
            assertThat(notes.notes(b)).hasSize(1);
        } finally {
            TransactionSynchronizationManager.unbindResource(emf);
            em.close();
        }
        assertThat(tenantsByShard().get(a)).containsExactly("shard0");
        assertThat(tenantsByShard().get(b)).containsExactly("shard1");
    }

    @Test
    void theApplicationsOwnSettingsWinAndBootsCustomizersApply() {
        // as a command-line argument: SpringApplicationBuilder.properties are Boot's default properties, which come
        // after every other property source, the starter's defaults included
        try (ConfigurableApplicationContext other = app("shardring.flyway.enabled=false")
                .run("--spring.jpa.properties.jakarta.persistence.database-major-version=17",
                        "--spring.transaction.default-timeout=7s")) {
            assertThat(other.getBean(EntityManagerFactory.class).unwrap(SessionFactoryImplementor.class)
                    .getJdbcServices().getDialect().getVersion().getMajor()).isEqualTo(17);
            assertThat(other.getBean(ShardedJpaTransactionManager.class).getDefaultTimeout())
                    .as("Spring Boot's customizers, as for the transaction manager this one replaces").isEqualTo(7);
        }
    }

    private static void refusedForAMoment(long tenant, Runnable work) throws Exception {
        String node = router.nodeFor(tenant);
        List<TokenRange> owned = router.topology().ownedRanges(node);
        own(node, List.of());
        CompletableFuture<Void> call = CompletableFuture.runAsync(work);
        try {
            Thread.sleep(400);
            assertThat(call).as("waits while its shard refuses the tenant").isNotDone();
        } finally {
            own(node, owned);
        }
        call.get(10, TimeUnit.SECONDS);
    }

    private static void own(String node, List<TokenRange> ranges) throws SQLException {
        try (Connection c = cluster.shards().stream().filter(s -> s.name().equals(node)).findFirst().orElseThrow()
                .connect()) {
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, node, router.topology().version(), KeyType.BIGINT, ranges);
            c.commit();
        }
    }

    private static long firstTenantOn(String node, long from) {
        long t = from;
        while (!router.nodeFor(t).equals(node)) {
            t++;
        }
        return t;
    }

    private static Map<Long, List<String>> tenantsByShard() throws SQLException {
        Map<Long, List<String>> where = new HashMap<>();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT DISTINCT tenant_id FROM notes")) {
                while (rs.next()) {
                    where.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(s.name());
                }
            }
        }
        return where;
    }

    private static long rowsOf(long tenant) throws SQLException {
        long n = 0;
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect();
                    PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM notes WHERE tenant_id = ?")) {
                ps.setLong(1, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        }
        return n;
    }
}
