package io.shardring.router.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Pins tokens, hashes and routes to a committed file: rings are stored by their tokens and routers in
 * different versions must agree, so any change of output is a breaking change and fails the build.
 * After a deliberate change, regenerate with {@code -Dshardring.golden.write=true} and review the diff.
 */
class GoldenVectorsTest {
    private static final String RESOURCE = "golden/ring-vectors.txt";

    static String render() {
        StringBuilder out = new StringBuilder();
        out.append("# shardring golden ring vectors; regenerate only for a deliberate, documented change\n");
        for (TokenPlacement p : TokenPlacement.values()) {
            HashRing ring = HashRing.builder(KeyType.BIGINT).placement(p).vnodes(8)
                    .node("pg-a", 1.0, "z1").node("pg-b", 2.0, "z2").node("pg-c", 1.0, "z3").build();
            ring = ring.withNode(RingNode.of("pg-d", 1.5, "z1"));
            for (RingNode n : ring.nodes()) {
                out.append("tokens ").append(p).append(' ').append(n.id());
                for (long t : ring.tokensOf(n.id())) {
                    out.append(' ').append(t);
                }
                out.append('\n');
            }
            HashRing text = HashRing.builder(KeyType.TEXT).placement(p).vnodes(8)
                    .node("pg-a").node("pg-b").node("pg-c").build();
            SplittableRandom rnd = new SplittableRandom(42);
            for (int i = 0; i < 16; i++) {
                long k = rnd.nextLong();
                String t = "tenant-" + k;
                out.append("route ").append(p).append(" bigint ").append(k).append(' ').append(ring.route(k).id())
                        .append(" text ").append(t).append(' ').append(text.route(t).id()).append('\n');
            }
        }
        SplittableRandom rnd = new SplittableRandom(4242);
        for (int i = 0; i < 16; i++) {
            long k = rnd.nextLong();
            UUID u = new UUID(rnd.nextLong(), rnd.nextLong());
            out.append("hash ").append(k).append(' ').append(KeyHash.ofLong(k)).append(' ').append((int) k).append(' ')
                    .append(KeyHash.ofInt((int) k)).append(' ').append(u).append(' ').append(KeyHash.ofUuid(u))
                    .append(" x").append(i).append("-ü€😀 ").append(KeyHash.ofText("x" + i + "-ü€😀")).append('\n');
        }
        return out.toString();
    }

    @Test
    void outputMatchesTheCommittedVectors() throws IOException {
        String actual = render();
        if (Boolean.getBoolean("shardring.golden.write")) {
            Path file = Path.of("src/test/resources", RESOURCE);
            Files.createDirectories(file.getParent());
            Files.writeString(file, actual, StandardCharsets.UTF_8);
        }
        String expected;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(RESOURCE)) {
            assertThat(in).as("committed golden vectors " + RESOURCE).isNotNull();
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(actual).isEqualTo(expected);
    }
}
