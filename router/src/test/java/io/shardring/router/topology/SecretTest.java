package io.shardring.router.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretTest {

    private static final Map<String, String> ENV = Map.of("PG_A_PASSWORD", "s3cret-a", "OTHER", "s3cret-other");

    @Test
    void environmentReferenceResolvesThroughTheGivenLookup() {
        Secret s = Secret.of("${PG_A_PASSWORD}");
        assertThat(s.isLiteral()).isFalse();
        assertThat(s.resolve(ENV::get)).isEqualTo("s3cret-a");
        assertThat(s.toString()).isEqualTo("${PG_A_PASSWORD}");
        assertThat(s).isEqualTo(Secret.env("PG_A_PASSWORD"));
    }

    @Test
    void missingVariableIsNamedWithoutAnyValue() {
        Secret s = Secret.of("${PG_B_PASSWORD}");
        assertThatThrownBy(() -> s.resolve(ENV::get))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("PG_B_PASSWORD")
                .hasMessageContaining("is not set")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void fileReferenceReadsTheFileAndStripsOneTrailingNewline(@TempDir Path dir) throws Exception {
        Path unix = Files.writeString(dir.resolve("unix"), "p@ss word\n");
        Path windows = Files.writeString(dir.resolve("windows"), "p@ss word\r\n");
        Path bare = Files.writeString(dir.resolve("bare"), "p@ss word");
        Path twoLines = Files.writeString(dir.resolve("two"), "p@ss word\n\n");
        Path utf8 = Files.write(dir.resolve("utf8"), "m\u00f6t\u00f6rhead\n".getBytes(StandardCharsets.UTF_8));

        assertThat(Secret.of("file:" + unix).resolve()).isEqualTo("p@ss word");
        assertThat(Secret.of("file:" + windows).resolve()).isEqualTo("p@ss word");
        assertThat(Secret.of("file:" + bare).resolve()).isEqualTo("p@ss word");
        assertThat(Secret.of("file:" + twoLines).resolve()).isEqualTo("p@ss word\n");
        assertThat(Secret.file(utf8).resolve()).isEqualTo("m\u00f6t\u00f6rhead");
        assertThat(Secret.of("file:" + unix).toString()).isEqualTo("file:" + unix).doesNotContain("p@ss");
    }

    @Test
    void missingFileIsNamedWithoutAnyValue(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> Secret.of("file:" + missing).resolve())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("cannot read password file " + missing);
    }

    @Test
    void literalIsNeverShown() {
        Secret s = Secret.of("hunter2");
        assertThat(s.isLiteral()).isTrue();
        assertThat(s.resolve()).isEqualTo("hunter2");
        assertThat(s.toString()).isEqualTo("****");
        assertThat(String.valueOf(s)).doesNotContain("hunter2");
        // a malformed reference is an error, not a literal password, and the message does not echo it
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Secret.of("${NOT-A-NAME}"))
                .isInstanceOf(io.shardring.router.ConfigurationException.class)
                .hasMessageContaining("malformed").hasMessageNotContaining("NOT-A-NAME");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Secret.of("file:"))
                .isInstanceOf(io.shardring.router.ConfigurationException.class);
    }

    @Test
    void emptyMeansNoPassword() {
        assertThat(Secret.of(null)).isNull();
        assertThat(Secret.of("")).isNull();
    }

    @Test
    void invalidVariableNamesAreRejectedByEnv() {
        assertThatThrownBy(() -> Secret.env("1BAD"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("1BAD");
    }

    @Test
    void nodeToStringNeverContainsALiteralPassword() {
        NodeConfig n = NodeConfig.builder("pg-a").jdbcUrl("jdbc:postgresql://pg-a:5432/app").user("app")
                .password("hunter2").build();
        assertThat(n.toString()).contains("pg-a", "password=****").doesNotContain("hunter2");
        assertThat(n.password().toString()).doesNotContain("hunter2");
        assertThat(n.toBuilder().build().toString()).doesNotContain("hunter2");

        NodeConfig byReference = n.toBuilder().password("${PG_A_PASSWORD}").build();
        assertThat(byReference.toString()).contains("password=${PG_A_PASSWORD}");
    }

    @Test
    void topologyToStringNeverContainsALiteralPassword() {
        Topology t = Topology.builder().ring(RingSettings.of(io.shardring.router.ring.KeyType.BIGINT))
                .node(NodeConfig.builder("pg-a").jdbcUrl("jdbc:postgresql://pg-a/app").user("app")
                        .password("hunter2").build())
                .build();
        assertThat(t.toString()).doesNotContain("hunter2");
        assertThat(t.nodes().toString()).doesNotContain("hunter2");
    }
}
