package io.shardring.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.mock.env.MockEnvironment;

class ShardringConfigLoaderTest {
    private static ShardringProperties inline() {
        ShardringProperties p = new ShardringProperties();
        p.getRing().setKeyType("uuid");
        p.getRing().setVnodes(16);
        p.getRing().setMaxPins(5);
        p.getReference().getTables().addAll(java.util.List.of("plans", "ref.currencies"));
        ShardringProperties.Node n = new ShardringProperties.Node();
        n.setId("pg-a");
        n.setJdbcUrl("jdbc:postgresql://pg-a:5432/app");
        n.setUser("app");
        n.setPassword("resolved-by-spring");
        n.setWeight(1.5);
        n.getPool().setConnectionTimeout(Duration.ofMillis(1500));
        n.getStandbys().add("jdbc:postgresql://pg-a-standby:5432/app");
        ShardringProperties.Node m = new ShardringProperties.Node();
        m.setId("pg-b");
        m.setJdbcUrl("jdbc:postgresql://pg-b:5432/app");
        m.setUser("app");
        m.setPassword("file:/run/secrets/pg-b");
        p.getNodes().add(n);
        p.getNodes().add(m);
        p.getRouter().setCutoverWait(Duration.ofSeconds(2));
        p.getRouter().setUser("web");
        p.getRouter().setPassword("router-password");
        p.getCatalog().setNode("pg-a");
        return p;
    }

    @Test
    void inlineFieldsBecomeTheSameConfigurationAsTheFileAndPasswordsNeverAppearInIt() {
        Map<String, String> secrets = new HashMap<>();
        String yaml = ShardringConfigLoader.toYaml(inline(), secrets);
        assertThat(yaml).doesNotContain("resolved-by-spring", "router-password")
                .contains("file:/run/secrets/pg-b", "PT1.5S", "PT2S");
        assertThat(secrets).containsValues("resolved-by-spring", "router-password");

        ShardringConfigLoader.Loaded loaded = ShardringConfigLoader.load(inline(), new MockEnvironment()
                .withProperty("OTHER", "x"), new DefaultResourceLoader());
        NodeConfig a = loaded.config().topology().node("pg-a");
        assertThat(loaded.config().topology().ringSettings().keyType()).isEqualTo(KeyType.UUID);
        assertThat(a.weight()).isEqualTo(1.5);
        assertThat(a.pool().connectionTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(a.standbys()).containsExactly("jdbc:postgresql://pg-a-standby:5432/app");
        assertThat(a.password().resolve(loaded.environment())).isEqualTo("resolved-by-spring");
        assertThat(a.toString()).doesNotContain("resolved-by-spring");
        assertThat(loaded.config().router().cutoverWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(loaded.config().catalogNode()).isEqualTo("pg-a");
        assertThat(loaded.environment().apply("OTHER")).isEqualTo("x");
        assertThat(loaded.config().topology().ringSettings().maxPins()).isEqualTo(5);
        assertThat(loaded.config().topology().referenceNode()).as("the catalog's node by default").isEqualTo("pg-a");
        assertThat(loaded.config().topology().referenceTables()).extracting(Object::toString)
                .containsExactly("public.plans", "ref.currencies");
    }

    @Test
    void aConfigurationFileIsReadFromAPathAndItsReferencesResolveFromTheEnvironment(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("shardring.yaml");
        Files.writeString(file, "ring:\n  keyType: bigint\nnodes:\n  - id: a\n    jdbcUrl: jdbc:postgresql://a:5432/app\n"
                + "    user: app\n    password: ${A_PASSWORD}\n");
        ShardringProperties p = new ShardringProperties();
        p.setConfig(file.toString());
        ShardringConfigLoader.Loaded loaded = ShardringConfigLoader.load(p,
                new MockEnvironment().withProperty("A_PASSWORD", "from-env"), new DefaultResourceLoader());
        assertThat(loaded.config().topology().node("a").password().resolve(loaded.environment()))
                .isEqualTo("from-env");
        p.setConfig("file:" + file);
        assertThat(ShardringConfigLoader.load(p, new MockEnvironment(), new DefaultResourceLoader()).config()
                .topology().nodes()).containsOnlyKeys("a");
    }

    @Test
    void aPlaceholderSpringCouldNotResolveStaysAReferenceThatNamesItsVariable() {
        ShardringProperties p = inline();
        p.getNodes().get(0).setPassword("${NOPE_PW}");
        ShardringConfigLoader.Loaded loaded = ShardringConfigLoader.load(p, new MockEnvironment(),
                new DefaultResourceLoader());
        assertThatThrownBy(() -> loaded.config().topology().node("pg-a").password().resolve(loaded.environment()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("NOPE_PW");
    }

    @Test
    void badInlineValuesAreNamedByTheirField() {
        ShardringProperties p = inline();
        p.getNodes().get(1).setWeight(0.0);
        assertThatThrownBy(() -> ShardringConfigLoader.load(p, new MockEnvironment(), new DefaultResourceLoader()))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("application properties shardring.*").hasMessageContaining("nodes[1].weight")
                .hasMessageNotContaining("resolved-by-spring");
    }
}
