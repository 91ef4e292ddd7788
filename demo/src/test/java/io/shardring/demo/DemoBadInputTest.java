package io.shardring.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.migration.cli.ShardringCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `shardring demo` where it cannot run: one line that says why and what to do instead. */
class DemoBadInputTest {
    private static final String BINARIES = "shardring.test.pgBinaries";

    @Test
    void embeddedPostgresThatCannotStartGetsOneLineAndTheAlternatives() throws Exception {
        // a jar without PostgreSQL binaries for this machine, as on a platform zonky does not build for
        Path notBinaries = Path.of(Test.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String before = System.getProperty(BINARIES);
        System.setProperty(BINARIES, notBinaries.toString());
        try {
            String[] out = demo("--tenants", "20");
            assertThat(out[0]).isEqualTo("1");
            assertThat(out[2].strip().lines()).singleElement().asString()
                    .startsWith("shardring: embedded PostgreSQL could not start here: ")
                    .contains("holds no postgres-*.txz bundle")
                    .contains("docker compose up -d").contains("SHARDRING_TEST_SHARDS");
        } finally {
            if (before == null) {
                System.clearProperty(BINARIES);
            } else {
                System.setProperty(BINARIES, before);
            }
        }
    }

    @Test
    void optionsOutOfRangeAreRefusedBeforeAnythingStarts() {
        assertThat(demo("--nodes", "1")).satisfies(o -> {
            assertThat(o[0]).isEqualTo(String.valueOf(ShardringCli.REFUSED));
            assertThat(o[2]).contains("--nodes 1 is out of range: use 2..16");
        });
        assertThat(demo("--replication-factor", "5")[2]).contains("--replication-factor 5 needs 1..4 (--nodes)");
        assertThat(demo("--writes-per-second", "0")[2]).contains("--writes-per-second 0 is out of range");
    }

    /** Exit code, stdout, stderr. */
    private static String[] demo(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "demo";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = cl.execute(all);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }
}
