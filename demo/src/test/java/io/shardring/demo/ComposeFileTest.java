package io.shardring.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml read as compose would read it (SnakeYAML resolves its {@code <<:} merge keys), since this
 * machine has no Docker engine to run it: every mount names a file of this repository, the shards and the standby
 * are where examples/compose/shardring.yaml says, and nothing holds a password.
 */
class ComposeFileTest {
    private static final Path ROOT = ComposeSetupTest.repositoryRoot();

    @SuppressWarnings("unchecked")
    private static Map<String, Object> compose() throws IOException {
        return new Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void shardsStandbyAndCliAreWhereTheConfigurationSaysAndMountFilesThatExist() throws IOException {
        Map<String, Object> compose = compose();
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        Set<String> namedVolumes = ((Map<String, Object>) compose.get("volumes")).keySet();
        ShardringConfig tool = ShardringYaml.load(ROOT.resolve("examples/compose/shardring.yaml"));
        Set<String> zones = new HashSet<>();
        for (int i = 1; i <= 4; i++) {
            String name = "shard" + i;
            Map<String, Object> s = services.get(name);
            assertThat(s).as(name).isNotNull();
            assertThat(s.get("image")).isEqualTo("postgres:17");
            assertThat((List<String>) s.get("command")).contains("config_file=/etc/postgresql/postgresql.conf");
            Map<String, Object> env = (Map<String, Object>) s.get("environment");
            assertThat(env.get("PGPORT")).isEqualTo(String.valueOf(5440 + i));
            assertThat(env.get("POSTGRES_USER")).isEqualTo("shardring_tool");
            assertThat(String.valueOf(env.get("POSTGRES_PASSWORD"))).startsWith("${SHARDRING_PASSWORD:?");
            assertThat((List<String>) s.get("ports")).containsExactly((5440 + i) + ":" + (5440 + i));
            assertThat(((Map<String, Object>) s.get("healthcheck")).get("test")).asString().contains("pg_isready");
            assertThat((List<String>) s.get("volumes")).contains(name + ":/var/lib/postgresql/data",
                    "./examples/compose/postgresql.conf:/etc/postgresql/postgresql.conf:ro",
                    "./examples/compose/initdb:/docker-entrypoint-initdb.d:ro");
            assertThat(namedVolumes).contains(name);
            mountsExist(s);
            String zone = String.valueOf(((Map<String, Object>) s.get("labels")).get("io.shardring.zone"));
            zones.add(zone);
            if (i <= 3) { // shard4 joins with add-node
                NodeConfig n = tool.topology().node(name);
                assertThat(n.jdbcUrl()).isEqualTo("jdbc:postgresql://" + name + ":" + (5440 + i) + "/app");
                assertThat(n.zone()).isEqualTo(zone);
                assertThat(n.user()).isEqualTo("shardring_tool");
                assertThat(String.valueOf(n.password())).isEqualTo("${SHARDRING_PASSWORD}");
            }
        }
        assertThat(zones).as("zones of the shards").hasSize(2);

        Map<String, Object> standby = services.get("shard1-standby");
        assertThat(standby.get("image")).isEqualTo("postgres:17");
        assertThat((List<String>) standby.get("entrypoint")).containsExactly("bash", "/shardring/standby.sh");
        assertThat(((Map<String, Object>) standby.get("environment")).get("PGPORT")).isEqualTo("5445");
        assertThat(namedVolumes).contains("shard1-standby");
        mountsExist(standby);
        assertThat(tool.topology().node("shard1").standbys())
                .containsExactly("jdbc:postgresql://shard1-standby:5445/app");
        assertThat(Files.readString(ROOT.resolve("examples/compose/standby.sh"))).contains("--host=shard1 --port=5441");

        Map<String, Object> cli = services.get("cli");
        assertThat((List<String>) cli.get("entrypoint")).containsExactly("java", "-jar",
                "migration-tool/target/shardring.jar");
        assertThat(((Map<String, Object>) cli.get("environment")).get("SHARDRING_CONFIG"))
                .isEqualTo("examples/compose/shardring.yaml");
        assertThat(tool.schemaLocations()).allSatisfy(l -> assertThat(ROOT.resolve(l.substring("filesystem:".length())))
                .as("schema location %s, relative to the cli service's working directory", l).isDirectory());

        assertThat(Files.readString(ROOT.resolve("docker-compose.yml"))).as("no password in the file")
                .doesNotContainPattern("PASSWORD: [^$]");
    }

    /** Every bind mount's host side ({@code ./path:container}) exists in the repository. */
    @SuppressWarnings("unchecked")
    private static void mountsExist(Map<String, Object> service) {
        for (String v : (List<String>) service.get("volumes")) {
            if (v.startsWith("./")) {
                Path host = ROOT.resolve(v.substring(2, v.indexOf(':')));
                assertThat(host).as("mount %s", v).exists();
            }
        }
    }
}
