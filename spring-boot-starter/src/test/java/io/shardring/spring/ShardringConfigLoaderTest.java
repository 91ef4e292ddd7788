package io.shardring.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardringYaml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.mock.env.MockEnvironment;

class ShardringConfigLoaderTest {

    /** Inline settings as application.yaml gives them, password values already resolved by Spring. */
    static Map<String, String> inlineSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("shardring.ring.key-type", "uuid");
        m.put("shardring.ring.vnodes", "16");
        m.put("shardring.ring.max-pins", "5");
        m.put("shardring.reference.tables[0]", "plans");
        m.put("shardring.reference.tables[1]", "ref.currencies");
        m.put("shardring.nodes[0].id", "pg-a");
        m.put("shardring.nodes[0].jdbc-url", "jdbc:postgresql://pg-a:5432/app");
        m.put("shardring.nodes[0].user", "app");
        m.put("shardring.nodes[0].password", "resolved-by-spring");
        m.put("shardring.nodes[0].weight", "1.5");
        m.put("shardring.nodes[0].pool.connection-timeout", "1500ms");
        m.put("shardring.nodes[0].standbys[0]", "jdbc:postgresql://pg-a-standby:5432/app");
        m.put("shardring.nodes[1].id", "pg-b");
        m.put("shardring.nodes[1].jdbc-url", "jdbc:postgresql://pg-b:5432/app");
        m.put("shardring.nodes[1].user", "app");
        m.put("shardring.nodes[1].password", "file:/run/secrets/pg-b");
        m.put("shardring.router.cutover-wait", "2s");
        m.put("shardring.router.user", "web");
        m.put("shardring.router.password", "router-password");
        m.put("shardring.catalog.node", "pg-a");
        return m;
    }

    /** The properties as Spring binds them (constructor binding of the records). */
    static ShardringProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings)).bindOrCreate("shardring",
                ShardringProperties.class);
    }

    static ShardringProperties inline() {
        return bind(inlineSettings());
    }

    @Test
    void inlineFieldsBecomeTheSameConfigurationAsTheFileAndPasswordsNeverAppearInIt() {
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
        assertThat(loaded.config().router().password().resolve(loaded.environment())).isEqualTo("router-password");
        assertThat(loaded.config().catalogNode()).isEqualTo("pg-a");
        assertThat(loaded.environment().apply("OTHER")).isEqualTo("x");
        assertThat(loaded.config().topology().ringSettings().maxPins()).isEqualTo(5);
        assertThat(loaded.config().topology().referenceNode()).as("the catalog's node by default").isEqualTo("pg-a");
        assertThat(loaded.config().topology().referenceTables()).extracting(Object::toString)
                .containsExactly("public.plans", "ref.currencies");
        // written out, the configuration holds references only
        assertThat(ShardringYaml.write(loaded.config())).doesNotContain("resolved-by-spring", "router-password")
                .contains("file:/run/secrets/pg-b", "1500ms", "cutoverWait: 2s");
    }

    @Test
    void aConfigurationFileIsReadFromAPathAndItsReferencesResolveFromTheEnvironment(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("shardring.yaml");
        Files.writeString(file, "ring:\n  keyType: bigint\nnodes:\n  - id: a\n    jdbcUrl: jdbc:postgresql://a:5432/app\n"
                + "    user: app\n    password: ${A_PASSWORD}\n");
        ShardringProperties p = bind(Map.of("shardring.config", file.toString()));
        ShardringConfigLoader.Loaded loaded = ShardringConfigLoader.load(p,
                new MockEnvironment().withProperty("A_PASSWORD", "from-env"), new DefaultResourceLoader());
        assertThat(loaded.config().topology().node("a").password().resolve(loaded.environment()))
                .isEqualTo("from-env");
        p = bind(Map.of("shardring.config", "file:" + file));
        assertThat(ShardringConfigLoader.load(p, new MockEnvironment(), new DefaultResourceLoader()).config()
                .topology().nodes()).containsOnlyKeys("a");
    }

    @Test
    void aPlaceholderSpringCouldNotResolveStaysAReferenceThatNamesItsVariable() {
        Map<String, String> settings = inlineSettings();
        settings.put("shardring.nodes[0].password", "${NOPE_PW}");
        ShardringConfigLoader.Loaded loaded = ShardringConfigLoader.load(bind(settings), new MockEnvironment(),
                new DefaultResourceLoader());
        assertThatThrownBy(() -> loaded.config().topology().node("pg-a").password().resolve(loaded.environment()))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("NOPE_PW");
    }

    /** The message of loading {@code settings}, which must fail. */
    static String error(Map<String, String> settings) {
        ShardringProperties p = bind(settings);
        ConfigurationException e = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigurationException.class,
                () -> ShardringConfigLoader.load(p, new MockEnvironment(), new DefaultResourceLoader()));
        assertThat(e).as("loading should fail: %s", settings).isNotNull();
        return e.getMessage();
    }

    @Test
    void badInlineValuesAreNamedByTheirProperty() {
        Map<String, String> settings = inlineSettings();
        settings.put("shardring.nodes[1].weight", "0");
        assertThat(error(settings)).startsWith("application properties: shardring.nodes[1].weight: ")
                .doesNotContain("(line").doesNotContain("resolved-by-spring");
        settings = inlineSettings();
        settings.put("shardring.nodes[0].pool.maximum-pool-size", "2");
        settings.put("shardring.nodes[0].pool.minimum-idle", "5");
        assertThat(error(settings)).startsWith("application properties: shardring.nodes[0].pool.minimum-idle 5 exceeds");
        settings = inlineSettings();
        settings.remove("shardring.ring.key-type");
        assertThat(error(settings)).startsWith("application properties: shardring.ring.key-type is missing");
    }
}
