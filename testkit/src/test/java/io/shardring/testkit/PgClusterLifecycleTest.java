package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The programmatic path: try-with-resources, and what close() leaves behind (nothing). */
class PgClusterLifecycleTest {

    @Test
    void closeStopsTheServerAndDeletesItsDataDirectory() throws SQLException {
        Path dataDirectory;
        int port;
        try (PgCluster cluster = PgCluster.start(1)) {
            assumeTrue(cluster.backend().equals("embedded"), "only embedded shards have a local data directory");
            PgShard shard = cluster.shard(0);
            dataDirectory = shard.dataDirectory().orElseThrow();
            port = shard.port();
            assertThat(dataDirectory).isDirectory();
            assertThat(dataDirectory.resolve("PG_VERSION")).hasContent(Integer.toString(cluster.serverMajor()));
            try (Connection c = shard.connect()) {
                assertThat(c.isValid(5)).isTrue();
            }
            assertThat(shard.startupTime()).isPositive();
            assertThatThrownBy(() -> cluster.shard(1))
                    .isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("no shard 1 in a cluster of 1");
        }
        assertThat(Files.exists(dataDirectory)).as("data directory %s after close()", dataDirectory).isFalse();
        assertThat(Files.exists(dataDirectory.getParent())).as("temp root after close()").isFalse();
        assertThatThrownBy(() -> DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + port + "/postgres?user=postgres&connectTimeout=2").close())
                .as("connecting to the stopped server on port %d", port)
                .isInstanceOf(SQLException.class);
    }

    @Test
    void badSettingsAreRejectedBeforeAnythingStarts() {
        assertThatThrownBy(() -> PgCluster.start(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was: 0");
        assertThatThrownBy(() -> PgCluster.builder().shards(1).database("Bad-Name").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Bad-Name");
        assertThatThrownBy(() -> PgCluster.builder().shards(1).serverSetting("work_mem", "64 MB").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("work_mem")
                .hasMessageContaining("64 MB");
    }
}
