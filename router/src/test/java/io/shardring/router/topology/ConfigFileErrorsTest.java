package io.shardring.router.topology;

import static io.shardring.router.topology.ShardringYamlTest.A_URL_AND_USER;
import static io.shardring.router.topology.ShardringYamlTest.error;
import static io.shardring.router.topology.ShardringYamlTest.oneNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardring.router.ConfigurationException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bad input that a binder would let through, or describe with the value: each is refused with the field path and the
 * line, and never with a password.
 */
class ConfigFileErrorsTest {
    private static final String BASE = "ring:\n  keyType: bigint\nnodes:\n  - id: a\n" + A_URL_AND_USER;

    @Test
    void aKeyRepeatedInOneMapping() {
        assertThat(error("ring:\n  keyType: bigint\nring:\n  keyType: text\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                .isEqualTo("config.yaml: ring is given twice (line 1 and line 3); keep one");
        assertThat(error(oneNode(A_URL_AND_USER + "    pool:\n      minimumIdle: 1\n      minimumIdle: 2\n")))
                .isEqualTo("config.yaml: nodes[0].pool.minimumIdle is given twice (line 8 and line 9); keep one");
        assertThat(error(oneNode(A_URL_AND_USER + "    password: ${A}\n    password: hunter2\n")))
                .isEqualTo("config.yaml: nodes[0].password is given twice (line 7 and line 8); keep one");
    }

    @Test
    void anAliasOrASecondDocument() {
        assertThat(error("ring:\n  keyType: bigint\nnodes:\n  - id: a\n    jdbcUrl: jdbc:postgresql://a/app\n"
                + "    user: app\n    pool: &p\n      maximumPoolSize: 3\n  - id: b\n"
                + "    jdbcUrl: jdbc:postgresql://b/app\n    user: app\n    pool: *p\n"))
                .isEqualTo("config.yaml: nodes[1].pool: YAML aliases (*name) are not supported; write the value out"
                        + " (line 12)");
        assertThat(error(BASE + "...\n---\nring:\n  keyType: text\n"))
                .startsWith("config.yaml: line 9: a second YAML document starts here");
    }

    @Test
    void aNumberWhereTextIsExpected() {
        assertThat(error(oneNode("    jdbcUrl: jdbc:postgresql://a/app\n    user: 5\n")))
                .isEqualTo("config.yaml: nodes[0].user: expected a string, got the number 5; put it in quotes"
                        + " (line 6)");
        assertThat(error(BASE + "router:\n  zone: 1.5\n"))
                .isEqualTo("config.yaml: router.zone: expected a string, got the number 1.5; put it in quotes"
                        + " (line 8)");
        assertThat(error("ring:\n  keyType: 8\nnodes:\n  - id: a\n" + A_URL_AND_USER))
                .isEqualTo("config.yaml: ring.keyType: expected a string, got the number 8; put it in quotes (line 2)");
    }

    @Test
    void anOctalLookingNumber() {
        assertThat(error(oneNode(A_URL_AND_USER + "    tokens: [1, 0755]\n")))
                .isEqualTo("config.yaml: nodes[0].tokens[1]: '0755' has a leading zero, which YAML reads as an octal"
                        + " number; remove the leading zero (line 7)");
        assertThat(error(oneNode(A_URL_AND_USER + "    weight: 01\n")))
                .startsWith("config.yaml: nodes[0].weight: '01' has a leading zero");
        assertThat(error("version: 007\n" + BASE)).startsWith("config.yaml: version: '007' has a leading zero");
    }

    @Test
    void aSecretGivenAsALiteralIsRefusedWithoutPrintingIt() {
        assertThat(error(BASE + "router:\n  user: app_rw\n  password: Sup3rS3cret\n"))
                .isEqualTo("config.yaml: router.password: a configuration file must not hold the password itself;"
                        + " reference it as ${ENV_VAR} (an environment variable; letters, digits and '_') or"
                        + " file:/path (a file holding only the password) (line 9)");
        assertThat(error(oneNode(A_URL_AND_USER + "    password: 0777\n"))).doesNotContain("0777");
        assertThat(error(oneNode(A_URL_AND_USER + "    password: {Sup3rS3cret: 1}\n")))
                .startsWith("config.yaml: nodes[0].password: expected a string, got a mapping")
                .doesNotContain("Sup3rS3cret");
        assertThat(error(oneNode(A_URL_AND_USER + "    password: yes\n")))
                .isEqualTo("config.yaml: nodes[0].password: expected a string, got a boolean; put it in quotes"
                        + " (line 7)");
    }

    @Test
    void noStackTraceCarriesASecretEither() {
        String secret = "Sup3rS3cret";
        for (String doc : List.of(oneNode(A_URL_AND_USER + "    password: {p: " + secret + "}\n"),
                oneNode(A_URL_AND_USER + "    password: " + secret + ": x\n"),
                oneNode(A_URL_AND_USER + "    password: \"" + secret + "\n"),
                oneNode(A_URL_AND_USER + "    password: " + secret + "\n"))) {
            ConfigurationException e = catchThrowableOfType(ConfigurationException.class,
                    () -> ShardringYaml.parse(doc, "config.yaml"));
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            assertThat(trace.toString()).as(doc).doesNotContain(secret);
        }
    }

    @Test
    void anEpochThatIsNotAWholeNumberFromZero() {
        assertThat(error(oneNode(A_URL_AND_USER + "    epoch: -1\n")))
                .isEqualTo("config.yaml: nodes[0].epoch: node 'pg-a': epoch -1 is invalid; use 0 (not fenced by epoch)"
                        + " or the positive epoch the node's primary records (line 7)");
        assertThat(error(oneNode(A_URL_AND_USER + "    epoch: abc\n")))
                .startsWith("config.yaml: nodes[0].epoch: ").endsWith("(line 7)");
        assertThat(error(oneNode(A_URL_AND_USER + "    epoch: 1.5\n")))
                .startsWith("config.yaml: nodes[0].epoch: ").endsWith("(line 7)");
    }

    @Test
    void anUnknownFieldInAListItemGetsTheClosestName() {
        assertThat(error("ring:\n  keyType: bigint\npins:\n  - key: 1\n    nod: a\nnodes:\n  - id: a\n"
                + A_URL_AND_USER))
                .isEqualTo("config.yaml: pins[0].nod: unknown field 'nod'; did you mean 'node'? Allowed in pins[]:"
                        + " key, node (line 5)");
    }

    @Test
    void aShardKeyThatIsNotASingleValue() {
        assertThat(error("ring:\n  keyType: bigint\npins:\n  - key: [1]\n    node: a\nnodes:\n  - id: a\n"
                + A_URL_AND_USER))
                .isEqualTo("config.yaml: pins[0].key: expected the pinned shard key, a number or text, got a list"
                        + " (line 4)");
    }
}
