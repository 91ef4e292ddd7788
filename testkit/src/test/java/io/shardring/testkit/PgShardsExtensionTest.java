package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Two real shards from {@code @PgShards}: right version and settings, and truly separate servers. */
@PgShards(2)
class PgShardsExtensionTest {

    private static PgCluster fromBeforeAll;

    @BeforeAll
    static void rememberCluster(PgCluster cluster) {
        fromBeforeAll = cluster;
    }

    @Test
    void startsTheRequestedNumberOfShardsOncePerClass(PgCluster cluster) {
        assertThat(cluster).isSameAs(fromBeforeAll);
        assertThat(cluster.size()).isEqualTo(2);
        assertThat(cluster.shards()).extracting(PgShard::name).containsExactly("shard0", "shard1");
        assertThat(cluster.backend()).isIn("embedded", "testcontainers", "external");
    }

    @Test
    void everyShardRunsPostgres17WithLogicalWal(PgCluster cluster) throws SQLException {
        for (PgShard shard : cluster.shards()) {
            assertThat(query(shard, "SHOW server_version")).as(shard.name()).startsWith("17.");
            assertThat(query(shard, "SELECT version()")).as(shard.name()).startsWith("PostgreSQL 17");
            assertThat(query(shard, "SHOW wal_level")).as(shard.name()).isEqualTo("logical");
        }
    }

    @Test
    void embeddedShardsRunWithTheTestSettings(PgCluster cluster) throws SQLException {
        if (!cluster.backend().equals("embedded")) {
            return; // containers get a shorter command line; external servers are configured by their owners
        }
        for (PgShard shard : cluster.shards()) {
            assertThat(query(shard, "SHOW max_replication_slots")).isEqualTo("20");
            assertThat(query(shard, "SHOW max_wal_senders")).isEqualTo("20");
            assertThat(query(shard, "SHOW max_logical_replication_workers")).isEqualTo("16");
            assertThat(query(shard, "SHOW max_connections")).isEqualTo("200");
            assertThat(query(shard, "SHOW fsync")).isEqualTo("off");
            assertThat(query(shard, "SHOW synchronous_commit")).as("kill() must not lose acknowledged commits")
                    .isEqualTo("on");
            assertThat(query(shard, "SHOW full_page_writes")).isEqualTo("off");
            assertThat(query(shard, "SHOW shared_buffers")).isEqualTo("128MB");
        }
    }

    @Test
    void startedShardsUseTheirOwnFreshDatabase(PgCluster cluster) throws SQLException {
        if (cluster.backend().equals("external")) {
            return; // external URLs name their database; nothing is created there
        }
        for (PgShard shard : cluster.shards()) {
            assertThat(shard.database()).isEqualTo(PgCluster.DEFAULT_DATABASE);
            assertThat(query(shard, "SELECT current_database()")).isEqualTo(PgCluster.DEFAULT_DATABASE);
            assertThat(shard.jdbcUrl()).endsWith(":" + shard.port() + "/" + PgCluster.DEFAULT_DATABASE);
        }
    }

    @Test
    void shardsAreDistinctServers(PgCluster cluster) throws SQLException {
        PgShard first = cluster.shard(0);
        PgShard second = cluster.shard(1);
        if (first.host().equals(second.host())) {
            assertThat(first.port()).isNotEqualTo(second.port());
        }

        String table = "only_on_shard0_" + ProcessHandle.current().pid();
        try (Connection c = first.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id int)");
        }
        try {
            assertThat(query(first, "SELECT to_regclass('" + table + "')::text")).isEqualTo(table);
            assertThat(query(second, "SELECT to_regclass('" + table + "')::text")).isNull();
        } finally {
            try (Connection c = first.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + table);
            }
        }
    }

    @Test
    void dataSourceAndConnectReachTheSameDatabase(PgCluster cluster) throws SQLException {
        PgShard shard = cluster.shard(1);
        try (Connection c = shard.dataSource().getConnection()) {
            String withoutParameters = shard.jdbcUrl().split("\\?")[0];
            assertThat(c.getMetaData().getURL()).startsWith(withoutParameters); // the driver adds its defaults
            assertThat(c.getMetaData().getUserName()).isEqualTo(shard.user());
        }
        assertThat(shard.jdbcUrl()).doesNotContain("password");
        assertThat(shard.toString()).contains(shard.name(), shard.jdbcUrl());
    }

    /** A nested class without its own annotation uses the enclosing class's servers. */
    @Nested
    class NestedTests {

        @Test
        void sharesTheEnclosingCluster(PgCluster cluster) {
            assertThat(cluster).isSameAs(fromBeforeAll);
        }
    }

    static String query(PgShard shard, String sql) throws SQLException {
        try (Connection c = shard.connect();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s on %s", sql, shard.name()).isTrue();
            return rs.getString(1);
        }
    }
}
