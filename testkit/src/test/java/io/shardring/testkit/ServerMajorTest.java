package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * Proof that a build's test run got the PostgreSQL major it asked for: the build runs this class once per major it
 * tests on (the default run on 17, and again on 15 with {@value PgBinariesJar#PROPERTY} naming that jar) and says
 * which major to expect in {@value #EXPECT_MAJOR}.
 */
@PgShards(1)
class ServerMajorTest {

    /** System property: the major the shards must run; unset outside the Maven build. */
    static final String EXPECT_MAJOR = "shardring.test.expectMajor";

    @Test
    void shardsRunTheExpectedMajor(PgCluster cluster) throws SQLException {
        String expected = System.getProperty(EXPECT_MAJOR);
        assumeTrue(expected != null && !expected.isBlank(), EXPECT_MAJOR + " is not set");
        assumeFalse(cluster.backend().equals(ExternalBackend.NAME), "external servers run whatever major they run");
        int major = Integer.parseInt(expected.trim());

        assertThat(cluster.serverMajor()).as("serverMajor() with %s=%s", PgBinariesJar.PROPERTY,
                System.getProperty(PgBinariesJar.PROPERTY)).isEqualTo(major);
        PgShard shard = cluster.shard(0);
        assertThat(PgShardsExtensionTest.query(shard, "SHOW server_version")).startsWith(major + ".");
        if (cluster.backend().equals(EmbeddedBackend.NAME)) {
            Path dataDirectory = shard.dataDirectory().orElseThrow();
            assertThat(dataDirectory.resolve("PG_VERSION")).as("initdb's version stamp").hasContent(expected.trim());
        }
    }
}
