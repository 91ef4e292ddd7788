package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

/** Parsing of {@code SHARDRING_TEST_SHARDS}; needs no server, since the external backend starts nothing. */
class ExternalBackendTest {

    private static final String TWO = "jdbc:postgresql://db1.example:6543/one?user=alice&password=s3cret%2C1,"
            + " jdbc:postgresql://[::1]/two?user=bob&password=pw&sslmode=require&sslpassword=keypw";

    @Test
    void parsesHostsPortsDatabasesAndCredentials() {
        List<PgShard> shards = ExternalBackend.parse(TWO);

        assertThat(shards).extracting(PgShard::name).containsExactly("shard0", "shard1");
        PgShard first = shards.get(0);
        assertThat(first.host()).isEqualTo("db1.example");
        assertThat(first.port()).isEqualTo(6543);
        assertThat(first.database()).isEqualTo("one");
        assertThat(first.user()).isEqualTo("alice");
        assertThat(first.password()).isEqualTo("s3cret,1");
        assertThat(first.jdbcUrl()).isEqualTo("jdbc:postgresql://db1.example:6543/one");
        assertThat(first.dataDirectory()).isEmpty();

        PgShard second = shards.get(1);
        assertThat(second.host()).isEqualTo("::1");
        assertThat(second.port()).isEqualTo(5432);
        assertThat(second.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5432/two?sslmode=require");
    }

    @Test
    void neitherUrlNorToStringShowsSecrets() {
        for (PgShard shard : ExternalBackend.parse(TWO)) {
            assertThat(shard.jdbcUrl()).doesNotContain("s3cret", "pw", "password", "user=");
            assertThat(shard.toString()).doesNotContain("s3cret", "pw", "password");
        }
    }

    @Test
    void urlsAreOnesTheDriverAccepts() {
        PgShard shard = ExternalBackend.parse(TWO).get(1);
        Properties parsed = Driver.parseURL(shard.jdbcUrl(), new Properties());
        assertThat(parsed).isNotNull();
        assertThat(parsed.getProperty("PGDBNAME")).isEqualTo("two");
        assertThat(parsed.getProperty("sslmode")).isEqualTo("require");
    }

    @Test
    void moreShardsThanListedIsAnErrorNamingTheVariableAndCounts() {
        ClusterSettings three = new ClusterSettings(3, "shardring", Map.of(), Duration.ofSeconds(1));
        assertThatThrownBy(() -> new ExternalBackend(TWO).start(three))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("SHARDRING_TEST_SHARDS")
                .hasMessageContaining("lists 2 server(s) but 3 shards were requested");
    }

    @Test
    void usesTheFirstUrlsWhenFewerShardsAreRequested() {
        ClusterSettings one = new ClusterSettings(1, "shardring", Map.of(), Duration.ofSeconds(1));
        assertThat(new ExternalBackend(TWO).start(one).shards()).extracting(PgShard::database).containsExactly("one");
    }

    @Test
    void externalShardsCannotBeCrashed() {
        ClusterSettings one = new ClusterSettings(1, "shardring", Map.of(), Duration.ofSeconds(1));
        PgCluster cluster = new PgCluster(ExternalBackend.NAME, new ExternalBackend(TWO).start(one), List.of(16));
        assertThat(cluster.canCrashShards()).isFalse();
        assertThatThrownBy(() -> cluster.kill(0))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("kill(0) needs the embedded backend")
                .hasMessageContaining("external");
        assertThatThrownBy(() -> cluster.restart(0))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("restart(0) needs the embedded backend");
        assertThat(cluster.serverMajor()).isEqualTo(16);
    }

    @Test
    void serverMajorRefusesToPickOneWhenShardsDiffer() {
        ClusterSettings two = new ClusterSettings(2, "shardring", Map.of(), Duration.ofSeconds(1));
        PgCluster cluster = new PgCluster(ExternalBackend.NAME, new ExternalBackend(TWO).start(two), List.of(15, 17));
        assertThatThrownBy(cluster::serverMajor)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("shard0=15, shard1=17");
    }

    @Test
    void badEntriesAreNamedWithoutTheirPassword() {
        assertThatThrownBy(() -> ExternalBackend.parse("jdbc:postgresql://h/db?user=u&password=hunter2,"
                + "jdbc:mysql://h/db?user=u&password=hunter2"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shard1")
                .hasMessageContaining("does not start with jdbc:postgresql://")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ExternalBackend.parse("jdbc:postgresql://h:5432/db?password=hunter2"))
                .hasMessageContaining("no user")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ExternalBackend.parse("jdbc:postgresql://h:5432/?user=u"))
                .hasMessageContaining("no database");
        assertThatThrownBy(() -> ExternalBackend.parse(" , "))
                .hasMessageContaining("lists no JDBC URL");
    }
}
