package io.shardring.router.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShardringYamlTest {

    static Path resource(String name) {
        try {
            return Path.of(ShardringYamlTest.class.getResource("/config/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The message of the ConfigurationException that parsing {@code yaml} as "config.yaml" throws. */
    static String error(String yaml) {
        ConfigurationException e = catchThrowableOfType(ConfigurationException.class,
                () -> ShardringYaml.parse(yaml, "config.yaml"));
        assertThat(e).as("parsing should fail:%n%s", yaml).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIGURATION);
        assertThat(e.getMessage()).startsWith("config.yaml: ");
        return e.getMessage();
    }

    /** A valid file with one node, whose node lines are {@code nodeLines} (indented by four spaces). */
    static String oneNode(String nodeLines) {
        return "ring:\n  keyType: bigint\nnodes:\n  - id: pg-a\n" + nodeLines;
    }

    static final String A_URL_AND_USER = "    jdbcUrl: jdbc:postgresql://a:5432/app\n    user: app\n";

    @Nested
    class Loading {

        @Test
        void fullExampleLoadsEveryField() {
            ShardringConfig config = ShardringYaml.load(resource("full.yaml"));
            Topology t = config.topology();

            assertThat(t.version()).isEqualTo(7);
            RingSettings ring = t.ringSettings();
            assertThat(ring.keyType()).isEqualTo(KeyType.BIGINT);
            assertThat(ring.vnodes()).isEqualTo(32);
            assertThat(ring.placement()).isEqualTo(TokenPlacement.ALLOCATED);
            assertThat(ring.replicationFactor()).isEqualTo(2);

            assertThat(t.tables()).containsExactly(ShardedTable.of("public", "customers", "tenant_id"),
                    ShardedTable.of("billing", "orders", "tenant_id"));

            RouterSettings router = config.router();
            assertThat(router.downBackoff()).isEqualTo(Duration.ofMillis(500));
            assertThat(router.drainTimeout()).isEqualTo(Duration.ofMinutes(2));
            assertThat(router.fanOutThreads()).isEqualTo(4);

            assertThat(t.nodes().keySet()).containsExactly("pg-a", "pg-b", "pg-c");
            NodeConfig a = t.node("pg-a");
            assertThat(a.jdbcUrl()).isEqualTo("jdbc:postgresql://pg-a.internal:5432/app");
            assertThat(a.user()).isEqualTo("app");
            assertThat(a.password()).isEqualTo(Secret.env("PG_A_PASSWORD"));
            assertThat(a.password().toString()).isEqualTo("${PG_A_PASSWORD}");
            assertThat(a.weight()).isEqualTo(1.0);
            assertThat(a.zone()).isEqualTo("eu-west-1a");
            PoolSettings pool = a.pool();
            assertThat(pool.maximumPoolSize()).isEqualTo(20);
            assertThat(pool.minimumIdle()).isEqualTo(5);
            assertThat(pool.connectionTimeout()).isEqualTo(Duration.ofSeconds(3));
            assertThat(pool.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
            assertThat(pool.maxLifetime()).isEqualTo(Duration.ofHours(1));
            assertThat(pool.validationTimeout()).isEqualTo(Duration.ofSeconds(2));
            assertThat(a.standbys()).containsExactly("jdbc:postgresql://pg-a-standby.internal:5432/app");
            assertThat(a.tokens()).containsExactly(-4611686018427387904L, 0L);

            NodeConfig b = t.node("pg-b");
            assertThat(b.jdbcUrl()).endsWith("?sslmode=require");
            assertThat(b.password()).isEqualTo(Secret.file(Path.of("/run/secrets/pg-b")));
            assertThat(b.weight()).isEqualTo(2.5);
            assertThat(b.pool().maximumPoolSize()).isEqualTo(PoolSettings.DEFAULTS.maximumPoolSize());
            assertThat(b.standbys()).isEmpty();
            assertThat(b.tokens()).containsExactly(-2305843009213693952L, 2305843009213693952L);

            NodeConfig c = t.node("pg-c");
            assertThat(c.password()).isNull();
            assertThat(c.tokens()).isNull();
            assertThat(t.ring().tokensOf("pg-c")).isNotEmpty(); // allocated on load
            assertThat(t.ring().tokensOf("pg-a")).containsExactly(-4611686018427387904L, 0L);
        }

        @Test
        void documentedExampleEqualsItsJavaEquivalent() throws Exception {
            // the YAML and Java examples of docs/configuration.md
            Path docs = Path.of(System.getProperty("user.dir")).resolveSibling("docs").resolve("configuration.md");
            if (Files.exists(docs)) {
                String md = Files.readString(docs);
                int start = md.indexOf("```yaml\n", md.indexOf("## A full example")) + "```yaml\n".length();
                assertThat(Files.readString(resource("example.yaml")))
                        .endsWith(md.substring(start, md.indexOf("```", start)));
            }
            ShardringConfig loaded = ShardringYaml.load(resource("example.yaml"));

            Topology topology = Topology.builder()
                    .version(1)
                    .ring(new RingSettings(KeyType.BIGINT, 64, TokenPlacement.ALLOCATED, 2))
                    .table("customers", "tenant_id")
                    .table("billing.orders", "tenant_id")
                    .node(NodeConfig.builder("pg-a")
                            .jdbcUrl("jdbc:postgresql://pg-a.internal:5432/app")
                            .user("app")
                            .password("${PG_A_PASSWORD}")
                            .weight(1.0)
                            .zone("eu-west-1a")
                            .pool(p -> p.maximumPoolSize(20)
                                    .minimumIdle(20)
                                    .connectionTimeout(Duration.ofSeconds(5))
                                    .idleTimeout(Duration.ofMinutes(10))
                                    .maxLifetime(Duration.ofMinutes(30))
                                    .validationTimeout(Duration.ofSeconds(5)))
                            .standby("jdbc:postgresql://pg-a-standby.internal:5432/app")
                            .tokens(-4611686018427387904L, 0L)
                            .build())
                    .node(NodeConfig.builder("pg-b")
                            .jdbcUrl("jdbc:postgresql://pg-b.internal:5432/app?sslmode=require")
                            .user("app")
                            .password("file:/run/secrets/pg-b")
                            .zone("eu-west-1b")
                            .build())
                    .build();
            RouterSettings router = new RouterSettings(Duration.ofSeconds(5), Duration.ofSeconds(30), 8,
                    Duration.ofSeconds(5), Duration.ofSeconds(1)).withZone("eu-west-1a")
                    .withReplicaInterval(Duration.ofMillis(100)).withCredentials("app", Secret.of("${APP_PASSWORD}"));
            ShardringConfig config = new ShardringConfig(topology, router, "pg-a", List.of());

            assertSameConfig(loaded, config);
            assertThat(loaded.namesCatalog()).isTrue();
            assertThat(loaded.catalogNode()).isEqualTo("pg-a");
            assertSameRouting(loaded.topology(), config.topology());
        }

        @Test
        void minimalFileGetsTheDefaults() {
            ShardringConfig config = ShardringYaml.load(resource("minimal.yaml"));
            Topology t = config.topology();
            assertThat(t.version()).isEqualTo(1);
            assertThat(t.ringSettings().keyType()).isEqualTo(KeyType.UUID);
            assertThat(t.ringSettings().vnodes()).isEqualTo(64);
            assertThat(t.ringSettings().placement()).isEqualTo(TokenPlacement.ALLOCATED);
            assertThat(t.ringSettings().replicationFactor()).isEqualTo(1);
            assertThat(t.tables()).isEmpty();
            assertThat(config.router()).isSameAs(RouterSettings.DEFAULTS);
            NodeConfig n = t.node("only");
            assertThat(n.weight()).isEqualTo(1.0);
            assertThat(n.zone()).isNull();
            assertThat(n.password()).isNull();
            assertThat(n.pool()).isSameAs(PoolSettings.DEFAULTS);
            assertThat(n.standbys()).isEmpty();
            assertThat(n.tokens()).isNull();
            assertThat(t.ring().route(UUID.randomUUID()).id()).isEqualTo("only");
        }

        @Test
        void explicitNullsMeanTheDefault() {
            ShardringConfig config = ShardringYaml.parse("version:\nring:\n  keyType: text\n  vnodes:\ntables:\n"
                    + "router:\nnodes:\n  - id: a\n    jdbcUrl: jdbc:postgresql://a/app\n    user: app\n    zone:\n"
                    + "    password:\n    pool:\n    tokens:\n", "config.yaml");
            assertThat(config.topology().version()).isEqualTo(1);
            assertThat(config.topology().ringSettings().vnodes()).isEqualTo(64);
            assertThat(config.topology().node("a").password()).isNull();
            assertThat(config.router()).isSameAs(RouterSettings.DEFAULTS);
        }

        @Test
        void passwordReferenceIsReadAsAPlainStringNotInterpolated() {
            NodeConfig n = ShardringYaml.parse(oneNode(A_URL_AND_USER + "    password: ${HOME}\n"), "x")
                    .topology().node("pg-a");
            assertThat(n.password().toString()).isEqualTo("${HOME}");
            assertThat(ShardringYaml.parse(oneNode(A_URL_AND_USER + "    password: \"${PG_A_PASSWORD}\"\n"), "x")
                    .topology().node("pg-a").password()).isEqualTo(Secret.env("PG_A_PASSWORD"));
        }

        @Test
        void minimumIdleDefaultsToMaximumPoolSize() {
            NodeConfig n = ShardringYaml.parse(oneNode(A_URL_AND_USER + "    pool:\n      maximumPoolSize: 7\n"),
                    "x").topology().node("pg-a");
            assertThat(n.pool().maximumPoolSize()).isEqualTo(7);
            assertThat(n.pool().minimumIdle()).isEqualTo(7);
        }

        @Test
        void keyTypeAndPlacementAcceptTheirOtherSpellings() {
            Topology t = ShardringYaml.parse("ring:\n  keyType: INT4\n  placement: XXH3\nnodes:\n  - id: a\n"
                    + "    jdbcUrl: jdbc:postgresql://a/app\n    user: app\n", "x").topology();
            assertThat(t.ringSettings().keyType()).isEqualTo(KeyType.INTEGER);
            assertThat(t.ringSettings().placement()).isEqualTo(TokenPlacement.XXH3);
        }

        @Test
        void loadNamesTheFileInItsMessages(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("shardring.yaml");
            Files.writeString(file, oneNode(A_URL_AND_USER + "    weight: -2\n"));
            assertThatThrownBy(() -> ShardringYaml.load(file))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageStartingWith(file + ": nodes[0].weight: ")
                    .hasMessageContaining("-2.0")
                    .hasMessageContaining("(line 7)");
        }

        @Test
        void missingOrUnreadableFilesAreConfigurationErrors(@TempDir Path dir) throws Exception {
            assertThatThrownBy(() -> ShardringYaml.load(dir.resolve("nope.yaml")))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("nope.yaml")
                    .hasMessageContaining("does not exist");
            assertThatThrownBy(() -> ShardringYaml.load(dir))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("cannot read configuration file " + dir);
            Path latin1 = dir.resolve("latin1.yaml");
            Files.write(latin1, "ring:\n  keyType: text # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThatThrownBy(() -> ShardringYaml.load(latin1))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("not valid UTF-8");
        }

        @Test
        void largeRingsLoad() {
            Topology big = Topology.builder().ring(new RingSettings(KeyType.BIGINT, 4096, TokenPlacement.XXH3, 1))
                    .node(node("a").build()).node(node("b").build()).node(node("c").build()).build()
                    .withStoredTokens();
            String yaml = ShardringYaml.write(big, null);
            Topology back = ShardringYaml.parse(yaml, "big.yaml").topology();
            assertThat(back.ring().tokens()).containsExactly(big.ring().tokens());
        }
    }

    @Nested
    class Writing {

        @Test
        void roundTripGivesTheSameTopologyAndRouting() {
            ShardringConfig original = ShardringYaml.load(resource("full.yaml"));
            String yaml = ShardringYaml.write(original.topology(), original.router());
            ShardringConfig back = ShardringYaml.parse(yaml, "written.yaml");

            assertSameConfig(back, original);
            assertSameRouting(back.topology(), original.topology());
            assertThat(yaml).contains("password: ${PG_A_PASSWORD}", "password: file:/run/secrets/pg-b",
                    "tokens: [-4611686018427387904, 0]");
            // nodes without stored tokens are written without, and placed the same way again on load
            assertThat(back.topology().node("pg-c").tokens()).isNull();
        }

        @Test
        void roundTripWithStoredTokensKeepsEveryToken() {
            Topology original = ShardringYaml.load(resource("full.yaml")).topology().withStoredTokens();
            String yaml = ShardringYaml.write(original, RouterSettings.DEFAULTS);
            Topology back = ShardringYaml.parse(yaml, "written.yaml").topology();

            assertSameTopology(back, original);
            assertThat(back.node("pg-c").tokens()).isNotEmpty().containsExactly(original.node("pg-c").tokens());
            assertThat(back.ring().tokens()).containsExactly(original.ring().tokens());
            assertSameRouting(back, original);
            // and writing it again gives the same text
            assertThat(ShardringYaml.write(back, RouterSettings.DEFAULTS)).isEqualTo(yaml);
        }

        @Test
        void roundTripOfEveryKeyTypeAndPlacement() {
            for (KeyType keyType : KeyType.values()) {
                for (TokenPlacement placement : TokenPlacement.values()) {
                    Topology original = Topology.builder().version(3)
                            .ring(new RingSettings(keyType, 16, placement, 1))
                            .node(node("n1").weight(0.75).build())
                            .node(node("n2").zone("z \"two\"").build())
                            .table("s.t", "k")
                            .build();
                    Topology back = ShardringYaml.parse(ShardringYaml.write(original, null), "x").topology();
                    assertSameTopology(back, original);
                    assertSameRouting(back, original);
                }
            }
        }

        @Test
        void writtenFileIsReadableAndOmitsDefaults() {
            Topology t = Topology.builder().ring(RingSettings.of(KeyType.BIGINT))
                    .node(node("pg-a").password("${PG_A_PASSWORD}").build()).build();
            assertThat(ShardringYaml.write(t, null)).isEqualTo(""
                    + "# shardring configuration (see docs/configuration.md).\n"
                    + "# Stored tokens place each node on the ring: they are written by tools, never edited by hand.\n"
                    + "version: 1\n"
                    + "ring:\n"
                    + "  keyType: bigint\n"
                    + "  vnodes: 64\n"
                    + "  placement: allocated\n"
                    + "  replicationFactor: 1\n"
                    + "nodes:\n"
                    + "  - id: pg-a\n"
                    + "    jdbcUrl: jdbc:postgresql://pg-a.internal:5432/app\n"
                    + "    user: app\n"
                    + "    password: ${PG_A_PASSWORD}\n");
        }

        @Test
        void anEpochIsWrittenOnlyWhenTheNodeHasOne() {
            Topology t = Topology.builder().version(5).ring(RingSettings.of(KeyType.BIGINT))
                    .node(node("pg-a").epoch(2).build()).node(node("pg-b").build()).build().withStoredTokens();
            String yaml = ShardringYaml.write(t, null);
            assertThat(yaml).contains("    user: app\n    epoch: 2\n    tokens: [").containsOnlyOnce("epoch:");
            Topology back = ShardringYaml.parse(yaml, "written.yaml").topology();
            assertSameTopology(back, t);
            assertThat(back.node("pg-a").epoch()).isEqualTo(2);
            assertThat(back.node("pg-b").epoch()).isZero();
            assertThat(back.node("pg-a").withEpoch(3).epoch()).isEqualTo(3);
            // a secondary store is a logical copy in a database of its own: not fenced by the node's epoch
            assertThat(back.node("pg-a").secondaryStore().epoch()).isZero();
        }

        @Test
        void refusesToWriteALiteralPassword() {
            Topology t = Topology.builder().ring(RingSettings.of(KeyType.BIGINT))
                    .node(node("pg-a").password("hunter2").build()).build();
            assertThatThrownBy(() -> ShardringYaml.write(t, null))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("node 'pg-a' has a literal password")
                    .hasMessageContaining("${ENV_VAR}")
                    .hasMessageNotContaining("hunter2");
        }

        @Test
        void awkwardStringsAreQuoted() {
            for (String s : List.of("true", "No", "null", "~", "123", "0x1F", "1e3", "-x", "a: b", "a #b", "x:",
                    "#c", "[x]", "{x}", "*x", "&x", "!x", "|", ">", "'q'", "\"q\"", "tab\there", "line\nbreak",
                    "caf\u00e9", "\u2028", "\uD83D\uDE00", "back\\slash", " lead", "trail ", "%x", "@x", "`x")) {
                Topology t = Topology.builder().ring(RingSettings.of(KeyType.TEXT))
                        .node(node("a").zone(s).user(s.isBlank() ? "u" + s : s).build()).build();
                NodeConfig back = ShardringYaml.parse(ShardringYaml.write(t, null), "x").topology().node("a");
                assertThat(back.zone()).as("zone %s", s).isEqualTo(s);
                assertThat(back.user()).as("user %s", s).isEqualTo(s.isBlank() ? "u" + s : s);
            }
        }

        @Test
        void durationsAreWrittenInTheirShortestExactForm() {
            assertThat(ShardringYaml.formatDuration(Duration.ZERO)).isEqualTo("0s");
            assertThat(ShardringYaml.formatDuration(Duration.ofMillis(500))).isEqualTo("500ms");
            assertThat(ShardringYaml.formatDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
            assertThat(ShardringYaml.formatDuration(Duration.ofSeconds(90))).isEqualTo("90s");
            assertThat(ShardringYaml.formatDuration(Duration.ofMinutes(10))).isEqualTo("10m");
            assertThat(ShardringYaml.formatDuration(Duration.ofHours(1))).isEqualTo("1h");
            assertThat(ShardringYaml.formatDuration(Duration.ofDays(2))).isEqualTo("2d");
            assertThat(ShardringYaml.formatDuration(Duration.ofNanos(1500))).isEqualTo("PT0.0000015S");
            for (Duration d : List.of(Duration.ofNanos(1), Duration.ofSeconds(Long.MAX_VALUE),
                    Duration.ofSeconds(-5), Duration.ofMillis(Long.MAX_VALUE))) {
                assertThat(ShardringYaml.parseDuration(ShardringYaml.formatDuration(d))).isEqualTo(d);
            }
        }

        @Test
        void saveReplacesTheFileAtomically(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("shardring.yaml");
            Topology v1 = Topology.builder().ring(RingSettings.of(KeyType.BIGINT)).node(node("a").build()).build();
            ShardringYaml.save(file, v1, null);
            assertThat(ShardringYaml.load(file).topology().version()).isEqualTo(1);
            ShardringYaml.save(file, v1.toBuilder().version(2).build(), RouterSettings.DEFAULTS);
            assertThat(ShardringYaml.load(file).topology().version()).isEqualTo(2);
            try (var files = Files.list(dir)) {
                assertThat(files).containsExactly(file); // no temporary file left behind
            }
        }
    }

    @Nested
    class Errors {

        @Test
        void unknownFieldIsNamedWithTheAllowedOnes() {
            String m = error(oneNode(A_URL_AND_USER + "    wieght: 2\n"));
            assertThat(m).startsWith("config.yaml: nodes[0].wieght: unknown field 'wieght'; did you mean 'weight'?")
                    .contains("id, jdbcUrl, user, password, weight, zone, pool, standbys, epoch, tokens")
                    .contains("(line 7)");
            assertThat(error("ring:\n  keyType: bigint\nnode:\n  - id: a\n"))
                    .contains("node: unknown field 'node'; did you mean 'nodes'?")
                    .contains("version, ring, tables, reference, pins, router, nodes");
            assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      maxPoolSize: 3\n")))
                    .contains("nodes[0].pool.maxPoolSize: unknown field 'maxPoolSize'")
                    .contains("maximumPoolSize, minimumIdle, connectionTimeout");
            assertThat(error("ring:\n  keyType: bigint\n  replication: 2\nnodes: []\n"))
                    .contains("ring.replication: unknown field 'replication'")
                    .contains("keyType, vnodes, placement, replicationFactor");
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  - name: t\n    column: k\n"))
                    .contains("tables[0].column: unknown field 'column'");
            assertThat(error("ring:\n  keyType: bigint\nrouter:\n  threads: 2\n"))
                    .contains("router.threads: unknown field 'threads'");
            assertThat(error(oneNode("    jdbcURL: jdbc:postgresql://a/app\n")))
                    .contains("nodes[0].jdbcURL: unknown field 'jdbcURL'; did you mean 'jdbcUrl'?");
        }

        @Test
        void badKeyType() {
            assertThat(error("ring:\n  keyType: numeric\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.keyType: unsupported key type 'numeric'; use one of bigint,"
                            + " integer, text, uuid (line 2)");
        }

        @Test
        void missingKeyTypeRingOrNodes() {
            assertThat(error("ring:\n  vnodes: 8\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .startsWith("config.yaml: ring.keyType is missing; use one of bigint, integer, text, uuid");
            assertThat(error("nodes:\n  - id: a\n" + A_URL_AND_USER))
                    .startsWith("config.yaml: ring is missing").contains("keyType");
            assertThat(error("ring:\n  keyType: bigint\n"))
                    .startsWith("config.yaml: nodes is missing");
            assertThat(error("ring:\n  keyType: bigint\nnodes: []\n"))
                    .startsWith("config.yaml: nodes: the list is empty");
        }

        @Test
        void emptyFile() {
            assertThat(error("")).isEqualTo("config.yaml: the file is empty; it needs at least ring.keyType and"
                    + " nodes (see docs/configuration.md)");
            assertThat(error("# nothing yet\n\n")).startsWith("config.yaml: the file is empty");
            assertThat(error("---\n~\n")).startsWith("config.yaml: the file holds no settings");
            assertThat(error("- a\n- b\n")).startsWith("config.yaml: expected a mapping").contains("got a list");
        }

        @ParameterizedTest
        @ValueSource(strings = {"0", "-1", ".nan", ".NaN", ".inf", "-.inf"})
        void badWeight(String weight) {
            String m = error(oneNode(A_URL_AND_USER + "    weight: " + weight + "\n"));
            String shown = weight.contains("nan") || weight.contains("NaN") ? "NaN"
                    : weight.startsWith("-.") ? "-Infinity" : weight.contains("inf") ? "Infinity" : Double.toString(Double.parseDouble(weight));
            assertThat(m).startsWith("config.yaml: nodes[0].weight: ")
                    .contains("weight " + shown + " is invalid")
                    .contains("(line 7)");
        }

        @Test
        void weightOfTheWrongType() {
            assertThat(error(oneNode(A_URL_AND_USER + "    weight: heavy\n")))
                    .isEqualTo("config.yaml: nodes[0].weight: expected a number, got the string 'heavy' (line 7)");
            assertThat(error(oneNode(A_URL_AND_USER + "    weight: [1]\n")))
                    .startsWith("config.yaml: nodes[0].weight: expected a number, got a list");
        }

        @Test
        void badVnodes() {
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: 0\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.vnodes 0 is invalid; use 1 to 65536 (64 is usual) (line 3)");
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: \"64\"\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.vnodes: expected a whole number, got the string '64' (line 3)");
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: 6.5\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .startsWith("config.yaml: ring.vnodes: expected a whole number, got the number 6.5");
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: 99999999999\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .startsWith("config.yaml: ring.vnodes: 99999999999 is out of range");
        }

        @Test
        void yamlSurprisesAreShownAsWritten() {
            String nodes = "nodes:\n  - id: a\n" + A_URL_AND_USER;
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: on\n" + nodes))
                    .isEqualTo("config.yaml: ring.vnodes: expected a whole number, got 'on' (a YAML boolean) (line 3)");
            assertThat(error("ring:\n  keyType: bigint\n  vnodes: 012\n" + nodes))
                    .startsWith("config.yaml: ring.vnodes: '012' has a leading zero, which YAML reads as an octal number");
            assertThat(error(oneNode(A_URL_AND_USER + "    zone: no\n")))
                    .isEqualTo("config.yaml: nodes[0].zone: expected a string, got 'no' (a YAML boolean); put it in"
                            + " quotes (line 7)");
            assertThat(ShardringYaml.parse(oneNode(A_URL_AND_USER + "    zone: \"no\"\n"), "x").topology()
                    .node("pg-a").zone()).isEqualTo("no");
        }

        @Test
        void unknownPlacement() {
            assertThat(error("ring:\n  keyType: bigint\n  placement: ketama\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.placement: unknown token placement 'ketama'; use one of allocated,"
                            + " sha256, fnv1a, murmur3, xxh3 (line 3)");
        }

        @Test
        void replicationFactorAboveTheNumberOfNodes() {
            assertThat(error("ring:\n  keyType: bigint\n  replicationFactor: 3\nnodes:\n  - id: a\n" + A_URL_AND_USER
                    + "  - id: b\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.replicationFactor 3 exceeds the number of nodes (2); add nodes or"
                            + " lower it (line 3)");
            assertThat(error("ring:\n  keyType: bigint\n  replicationFactor: 0\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: ring.replicationFactor 0 is below 1 (line 3)");
        }

        @Test
        void duplicateNodeId() {
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: pg-a\n" + A_URL_AND_USER
                    + "  - id: pg-b\n" + A_URL_AND_USER + "  - id: pg-a\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: nodes[2].id: duplicate node id 'pg-a'; each node needs its own id"
                            + " (line 10)");
        }

        @Test
        void badOrMissingNodeId() {
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - jdbcUrl: jdbc:postgresql://a/app\n    user: u\n"))
                    .startsWith("config.yaml: nodes[0]: id is missing");
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: -bad id\n" + A_URL_AND_USER))
                    .startsWith("config.yaml: nodes[0].id: invalid node id '-bad id'");
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: 7\n" + A_URL_AND_USER))
                    .isEqualTo("config.yaml: nodes[0].id: expected a string, got the number 7; put it in quotes"
                            + " (line 4)");
        }

        @Test
        void missingJdbcUrl() {
            assertThat(error(oneNode("    user: app\n")))
                    .isEqualTo("config.yaml: nodes[0]: node 'pg-a' has no jdbcUrl; give jdbc:postgresql://host:port/db"
                            + " (line 4)");
        }

        @Test
        void jdbcUrlThatIsNotPostgres() {
            assertThat(error(oneNode("    jdbcUrl: jdbc:mysql://a/app?password=hunter2\n    user: app\n")))
                    .startsWith("config.yaml: nodes[0].jdbcUrl: node 'pg-a': jdbcUrl 'jdbc:mysql://a/app?password=****'"
                            + " is not a PostgreSQL JDBC URL")
                    .doesNotContain("hunter2");
        }

        @Test
        void jdbcUrlCarryingAPasswordIsRejectedWithoutShowingIt() {
            String m = error(oneNode("    jdbcUrl: jdbc:postgresql://a:5432/app?user=app&password=hunter2\n"
                    + "    user: app\n"));
            assertThat(m).startsWith("config.yaml: nodes[0].jdbcUrl: ")
                    .contains("carries a password")
                    .contains("(line 5)")
                    .doesNotContain("hunter2");
            assertThat(error(oneNode(A_URL_AND_USER + "    standbys:\n"
                    + "      - jdbc:postgresql://s/app?sslpassword=hunter2\n")))
                    .startsWith("config.yaml: nodes[0].standbys[0]: ")
                    .contains("carries a password")
                    .doesNotContain("hunter2");
        }

        @Test
        void missingUser() {
            assertThat(error(oneNode("    jdbcUrl: jdbc:postgresql://a/app\n")))
                    .isEqualTo("config.yaml: nodes[0]: node 'pg-a' has no user; name the database role to connect as"
                            + " (line 4)");
            assertThat(error(oneNode("    jdbcUrl: jdbc:postgresql://a/app\n    user: \"  \"\n")))
                    .contains("node 'pg-a' has no user");
        }

        @Test
        void literalPasswordInAFileIsRejectedWithoutShowingIt() {
            assertThat(error(oneNode(A_URL_AND_USER + "    password: ${HUNTER-2}\n"))).contains("malformed")
                    .doesNotContain("HUNTER-2");
            for (String literal : List.of("hunter2", "$HUNTER2", "\"12345\"", "'s3cr3t'")) {
                String m = error(oneNode(A_URL_AND_USER + "    password: " + literal + "\n"));
                assertThat(m).startsWith("config.yaml: nodes[0].password: a configuration file must not hold the"
                        + " password itself")
                        .contains("${ENV_VAR}", "file:/path")
                        .doesNotContain(literal.replace("\"", "").replace("'", ""));
            }
        }

        @Test
        void passwordOfTheWrongTypeIsNotShown() {
            for (String value : List.of("12345", "1234.5", "true", "[hunter2]", "{p: hunter2}")) {
                String m = error(oneNode(A_URL_AND_USER + "    password: " + value + "\n"));
                assertThat(m).startsWith("config.yaml: nodes[0].password: expected a string")
                        .doesNotContain("12345", "1234.5", "true", "hunter2");
            }
        }

        @Test
        void malformedYamlGivesLineAndColumnButNotTheText() {
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: a\n    password: hunter2: x\n"))
                    .isEqualTo("config.yaml: line 5, column 22: malformed YAML: mapping values are not allowed here")
                    .doesNotContain("hunter2");
            assertThat(error("ring:\n  keyType: bigint\nnodes: [a, b\n"))
                    .startsWith("config.yaml: line 4, column 1: malformed YAML: ");
            assertThat(error("ring:\n\tkeyType: bigint\n"))
                    .startsWith("config.yaml: line 2, column 1: malformed YAML: ")
                    .contains("TAB");
            assertThat(error("ring:\n  keyType: bigint\n  password: \"hunter2\n"))
                    .startsWith("config.yaml: line 4, column 1: malformed YAML: found unexpected end of stream")
                    .doesNotContain("hunter2");
        }

        @Test
        void duplicateKeysAreErrors() {
            assertThat(error(oneNode(A_URL_AND_USER + "    weight: 1\n    weight: 2\n")))
                    .isEqualTo("config.yaml: nodes[0].weight is given twice (line 7 and line 8); keep one");
        }

        @Test
        void secondDocumentAndAliasesAreErrors() {
            assertThat(error(oneNode(A_URL_AND_USER) + "---\nring:\n  keyType: text\n"))
                    .startsWith("config.yaml: line 8: a second YAML document starts here");
            assertThat(error("ring:\n  keyType: &kt bigint\nnodes:\n  - id: a\n    user: *kt\n"))
                    .startsWith("config.yaml: nodes[0].user: YAML aliases (*name) are not supported");
        }

        @Test
        void badDurations() {
            String base = "ring:\n  keyType: bigint\nnodes:\n  - id: a\n" + A_URL_AND_USER;
            assertThat(error(base + "router:\n  downBackoff: 5 parsecs\n"))
                    .isEqualTo("config.yaml: router.downBackoff: '5 parsecs' is not a duration; use a whole number"
                            + " with a unit (500ms, 5s, 2m, 1h, 1d) or ISO-8601 such as PT5S (line 8)");
            assertThat(error(base + "router:\n  drainTimeout: 30\n"))
                    .isEqualTo("config.yaml: router.drainTimeout: 30 has no unit; write e.g. 30s or 30ms (line 8)");
            assertThat(error(base + "router:\n  drainTimeout: PT-1S\n"))
                    .startsWith("config.yaml: router.drainTimeout PT-1S is invalid; use 0s or more");
            assertThat(error(base + "router:\n  fanOutThreads: 0\n"))
                    .isEqualTo("config.yaml: router.fanOutThreads 0 is below 1 (line 8)");
            assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      connectionTimeout: 100ms\n")))
                    .isEqualTo("config.yaml: nodes[0].pool.connectionTimeout PT0.1S is below the minimum PT0.25S"
                            + " (line 8)");
            assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      idleTimeout: 10 minutes\n")))
                    .startsWith("config.yaml: nodes[0].pool.idleTimeout: '10 minutes' is not a duration");
        }

        @Test
        void routerCredentials() {
            String base = "ring:\n  keyType: bigint\nnodes:\n  - id: a\n" + A_URL_AND_USER;
            RouterSettings r = ShardringYaml.parse(base + "router:\n  user: app_rw\n  password: ${APP_PW}\n", "x")
                    .router();
            assertThat(r.user()).isEqualTo("app_rw");
            assertThat(r.password()).hasToString("${APP_PW}");
            NodeConfig a = ShardringYaml.parse(base, "x").topology().node("a");
            assertThat(r.connectAs(a).user()).isEqualTo("app_rw");
            assertThat(r.connectAs(a).jdbcUrl()).isEqualTo(a.jdbcUrl());
            assertThat(RouterSettings.DEFAULTS.connectAs(a)).isSameAs(a);
            assertThat(ShardringYaml.parse(ShardringYaml.write(ShardringYaml.parse(base + "router:\n  user: app_rw\n"
                    + "  password: ${APP_PW}\n", "x")), "y").router().password()).hasToString("${APP_PW}");
            assertThat(error(base + "router:\n  password: ${APP_PW}\n"))
                    .startsWith("config.yaml: router.password needs router.user");
            assertThat(error(base + "router:\n  user: app_rw\n  password: hunter2\n"))
                    .startsWith("config.yaml: router.password: a configuration file must not hold the password")
                    .doesNotContain("hunter2");
            assertThat(error(base + "router:\n  user: \" \"\n")).startsWith("config.yaml: router.user is blank");
        }

        @Test
        void badPool() {
            assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      maximumPoolSize: 0\n")))
                    .isEqualTo("config.yaml: nodes[0].pool.maximumPoolSize 0 is below 1; use 1 or more (line 8)");
            assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      maximumPoolSize: 2\n      minimumIdle: 5\n")))
                    .isEqualTo("config.yaml: nodes[0].pool.minimumIdle 5 exceeds pool.maximumPoolSize 2; lower"
                            + " minimumIdle or raise maximumPoolSize (line 9)");
            assertThat(error(oneNode(A_URL_AND_USER + "    pool: 20\n")))
                    .startsWith("config.yaml: nodes[0].pool: expected a mapping with fields maximumPoolSize");
        }

        @Test
        void badTokens() {
            assertThat(error(oneNode(A_URL_AND_USER + "    tokens: [1, 9223372036854775808]\n")))
                    .startsWith("config.yaml: nodes[0].tokens[1]: 9223372036854775808 is out of range");
            assertThat(error(oneNode(A_URL_AND_USER + "    tokens: [1, two]\n")))
                    .startsWith("config.yaml: nodes[0].tokens[1]: expected a whole number, got the string 'two'");
            assertThat(error(oneNode(A_URL_AND_USER + "    tokens: 5\n")))
                    .startsWith("config.yaml: nodes[0].tokens: expected a list");
            assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: a\n" + A_URL_AND_USER + "    tokens: [5]\n"
                    + "  - id: b\n" + A_URL_AND_USER + "    tokens: [5]\n"))
                    .startsWith("config.yaml: nodes: token 5 is stored for both 'a' and 'b'");
        }

        @Test
        void badTables() {
            String nodes = "nodes:\n  - id: a\n" + A_URL_AND_USER;
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  - name: t\n" + nodes))
                    .startsWith("config.yaml: tables[0]: keyColumn is missing");
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  - keyColumn: k\n" + nodes))
                    .startsWith("config.yaml: tables[0]: name is missing");
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  - name: t\n    keyColumn: k\n"
                    + "  - name: public.t\n    keyColumn: k\n" + nodes))
                    .isEqualTo("config.yaml: tables[1].name: sharded table 'public.t' is listed twice (line 6)");
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  - name: a.b.c\n    keyColumn: k\n" + nodes))
                    .startsWith("config.yaml: tables[0]: invalid sharded table name 'b.c'");
            assertThat(error("ring:\n  keyType: bigint\ntables:\n  name: t\n" + nodes))
                    .startsWith("config.yaml: tables: expected a list");
        }

        @Test
        void badVersion() {
            assertThat(error("version: 0\n" + oneNode(A_URL_AND_USER)))
                    .isEqualTo("config.yaml: version 0 is invalid; versions start at 1 (line 1)");
            assertThat(error("version: v2\n" + oneNode(A_URL_AND_USER)))
                    .isEqualTo("config.yaml: version: expected a whole number, got the string 'v2' (line 1)");
        }

        @Test
        void noMessageEverContainsAPassword() {
            String secret = "Sup3rS3cret";
            List<String> docs = List.of(
                    oneNode(A_URL_AND_USER + "    password: " + secret + "\n"),
                    oneNode(A_URL_AND_USER + "    password: " + secret + ": x\n"),
                    oneNode(A_URL_AND_USER + "    password: \"" + secret + "\n"),
                    oneNode(A_URL_AND_USER + "    password: [" + secret + "\n"),
                    oneNode(A_URL_AND_USER + "    passwrd: " + secret + "\n"),
                    oneNode("    jdbcUrl: jdbc:postgresql://a/app?password=" + secret + "\n    user: app\n"),
                    oneNode("    jdbcUrl: jdbc:postgresql://app:" + secret + "@a/app\n    user: [x]\n"),
                    oneNode("    jdbcUrl: jdbc:postgresql://a/app;password=" + secret + "\n    user: app\n"),
                    oneNode(A_URL_AND_USER + "    password: " + secret + "\n    password: " + secret + "\n"));
            for (String doc : docs) {
                assertThat(error(doc)).as(doc).doesNotContain(secret);
            }
        }
    }

    @Nested
    class FileSource {

        @Test
        void readsTheFileAgainOnEveryLoad(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("shardring.yaml");
            FileTopologySource source = new FileTopologySource(file);
            assertThat(source.file()).isEqualTo(file);
            assertThat(source.toString()).contains(file.toString());

            Topology v1 = Topology.builder().ring(RingSettings.of(KeyType.BIGINT)).node(node("a").build())
                    .node(node("b").build()).build().withStoredTokens();
            ShardringYaml.save(file, v1, null);
            assertThat(source.load().version()).isEqualTo(1);

            // an operator bumps the version and hands b's tokens to a
            long[] all = v1.ring().tokens();
            Topology v2 = Topology.builder().version(2).ring(v1.ringSettings())
                    .node(v1.node("a").toBuilder().tokens(all).build())
                    .node(v1.node("b").toBuilder().tokens(Long.MAX_VALUE).build()).build();
            Files.writeString(file, ShardringYaml.write(v2, RouterSettings.DEFAULTS.withFanOutThreads(3)));
            Topology loaded = source.load();
            assertThat(loaded.version()).isEqualTo(2);
            assertThat(loaded.node("b").tokens()).containsExactly(Long.MAX_VALUE);
            assertThat(source.loadConfig().router().fanOutThreads()).isEqualTo(3);
        }

        @Test
        void aMissingOrBrokenFileThrowsAndTheCallerDecides(@TempDir Path dir) throws Exception {
            Path file = dir.resolve("shardring.yaml");
            FileTopologySource source = new FileTopologySource(file);
            assertThatThrownBy(source::load).isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("does not exist");

            Files.writeString(file, oneNode(A_URL_AND_USER));
            assertThat(source.load().nodes()).containsOnlyKeys("pg-a");

            Files.writeString(file, oneNode(A_URL_AND_USER + "    weight: 0\n"));
            assertThatThrownBy(source::load).isInstanceOf(ConfigurationException.class)
                    .hasMessageStartingWith(file + ": nodes[0].weight: ");
        }

        @Test
        void aNullPathIsRejected() {
            assertThatThrownBy(() -> new FileTopologySource(null)).isInstanceOf(ConfigurationException.class);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    static NodeConfig.Builder node(String id) {
        return NodeConfig.builder(id).jdbcUrl("jdbc:postgresql://" + id + ".internal:5432/app").user("app");
    }

    static void assertSameConfig(ShardringConfig actual, ShardringConfig expected) {
        assertSameTopology(actual.topology(), expected.topology());
        assertThat(actual.router().downBackoff()).isEqualTo(expected.router().downBackoff());
        assertThat(actual.router().drainTimeout()).isEqualTo(expected.router().drainTimeout());
        assertThat(actual.router().fanOutThreads()).isEqualTo(expected.router().fanOutThreads());
        assertThat(actual.router().cutoverWait()).isEqualTo(expected.router().cutoverWait());
        assertThat(actual.router().catalogPoll()).isEqualTo(expected.router().catalogPoll());
        assertThat(actual.router().zone()).isEqualTo(expected.router().zone());
        assertThat(actual.router().replicaInterval()).isEqualTo(expected.router().replicaInterval());
        assertThat(actual.router().user()).isEqualTo(expected.router().user());
        assertThat(String.valueOf(actual.router().password())).isEqualTo(String.valueOf(expected.router().password()));
    }

    static void assertSameTopology(Topology actual, Topology expected) {
        assertThat(actual.version()).isEqualTo(expected.version());
        RingSettings r = actual.ringSettings();
        RingSettings e = expected.ringSettings();
        assertThat(r.keyType()).isEqualTo(e.keyType());
        assertThat(r.vnodes()).isEqualTo(e.vnodes());
        assertThat(r.placement()).isEqualTo(e.placement());
        assertThat(r.replicationFactor()).isEqualTo(e.replicationFactor());
        assertThat(actual.tables()).isEqualTo(expected.tables());
        assertThat(actual.nodes().keySet()).containsExactlyElementsOf(expected.nodes().keySet());
        for (NodeConfig want : expected.nodes().values()) {
            NodeConfig got = actual.node(want.id());
            assertThat(got.jdbcUrl()).isEqualTo(want.jdbcUrl());
            assertThat(got.user()).isEqualTo(want.user());
            assertThat(got.password()).isEqualTo(want.password());
            assertThat(got.weight()).isEqualTo(want.weight());
            assertThat(got.zone()).isEqualTo(want.zone());
            assertThat(got.standbys()).isEqualTo(want.standbys());
            assertThat(got.epoch()).isEqualTo(want.epoch());
            assertThat(got.tokens()).isEqualTo(want.tokens());
            PoolSettings gp = got.pool();
            PoolSettings wp = want.pool();
            assertThat(gp.maximumPoolSize()).isEqualTo(wp.maximumPoolSize());
            assertThat(gp.minimumIdle()).isEqualTo(wp.minimumIdle());
            assertThat(gp.connectionTimeout()).isEqualTo(wp.connectionTimeout());
            assertThat(gp.idleTimeout()).isEqualTo(wp.idleTimeout());
            assertThat(gp.maxLifetime()).isEqualTo(wp.maxLifetime());
            assertThat(gp.validationTimeout()).isEqualTo(wp.validationTimeout());
        }
        assertThat(actual.ring().tokens()).containsExactly(expected.ring().tokens());
    }

    /** 10,000 random keys of the ring's key type go to the same node in both. */
    static void assertSameRouting(Topology actual, Topology expected) {
        SplittableRandom random = new SplittableRandom(42);
        KeyType type = expected.ringSettings().keyType();
        for (int i = 0; i < 10_000; i++) {
            Object key;
            switch (type) {
                case BIGINT:
                    key = random.nextLong();
                    break;
                case INTEGER:
                    key = random.nextInt();
                    break;
                case TEXT:
                    key = "tenant-" + random.nextLong();
                    break;
                default:
                    key = new UUID(random.nextLong(), random.nextLong());
                    break;
            }
            assertThat(actual.ring().route(key).id()).as("key %s", key).isEqualTo(expected.ring().route(key).id());
        }
    }

    @Nested
    class PinsAndReferenceTables {
        static final String TWO_NODES = "ring:\n  keyType: bigint\nnodes:\n  - id: pg-a\n" + A_URL_AND_USER
                + "  - id: pg-b\n    jdbcUrl: jdbc:postgresql://b:5432/app\n    user: app\n";

        @Test
        void pinsAndReferenceTablesReadAndWriteBack() {
            String yaml = TWO_NODES + "reference:\n  tables: [plans, ref.currencies]\npins:\n  - key: 42\n"
                    + "    node: pg-b\n  - key: -7\n    node: pg-a\ncatalog:\n  node: pg-b\n";
            Topology t = ShardringYaml.parse(yaml, "config.yaml").topology();
            assertThat(t.pins()).extracting(p -> p.key() + "->" + p.node()).containsExactlyInAnyOrder("42->pg-b",
                    "-7->pg-a");
            assertThat(t.ring().route(42L).id()).isEqualTo("pg-b");
            assertThat(t.ring().route(-7L).id()).isEqualTo("pg-a");
            assertThat(t.referenceNode()).as("the catalog's node by default").isEqualTo("pg-b");
            assertThat(t.referenceTables()).extracting(ReferenceTable::displayName)
                    .containsExactly("public.plans", "ref.currencies");
            Topology again = ShardringYaml.parse(ShardringYaml.write(t.withStoredTokens(), null), "again").topology();
            assertThat(again.pins()).isEqualTo(t.pins());
            assertThat(again.referenceTables()).isEqualTo(t.referenceTables());
            assertThat(again.referenceNode()).isEqualTo("pg-b");
            assertThat(again.ring().route(42L).id()).isEqualTo("pg-b");
            Topology text = ShardringYaml.parse(TWO_NODES.replace("bigint", "text")
                    + "pins:\n  - key: \"123\"\n    node: pg-a\n  - key: 'tenant: \"x\"'\n    node: pg-b\n", "t")
                    .topology();
            Topology textAgain = ShardringYaml.parse(ShardringYaml.write(text, null), "t2").topology();
            assertThat(textAgain.pins()).isEqualTo(text.pins());
            assertThat(textAgain.ring().route("tenant: \"x\"").id()).isEqualTo("pg-b");
        }

        @Test
        void badPinsAndReferenceTablesAreNamed() {
            assertThat(error(TWO_NODES + "pins:\n  - key: abc\n    node: pg-a\n"))
                    .contains("pins[0].key: shard key 'abc' is not a bigint").contains("(line 11)");
            assertThat(error(TWO_NODES + "pins:\n  - key: 1\n    node: pg-x\n"))
                    .contains("pins[0].node: 'pg-x' is not one of the nodes; pin the key to one of [pg-a, pg-b]");
            assertThat(error(TWO_NODES + "pins:\n  - node: pg-a\n")).contains("pins[0]: key is missing");
            assertThat(error(TWO_NODES + "reference:\n  node: pg-q\n  tables: [plans]\n"))
                    .contains("reference.node: 'pg-q' is not one of the nodes");
            assertThat(error(TWO_NODES + "reference:\n  node: pg-a\n")).contains("reference: tables is missing");
            assertThat(error(TWO_NODES + "tables:\n  - name: plans\n    keyColumn: id\nreference:\n"
                    + "  tables: [plans]\n")).contains("'public.plans' is both sharded and a reference table");
        }
    }
}
