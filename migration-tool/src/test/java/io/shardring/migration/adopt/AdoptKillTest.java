package io.shardring.migration.adopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.migration.cli.ShardringCli;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code adopt --execute} SIGKILLed in the middle, while the application writes to its database directly: the plan
 * then says what is done and what is left, and running it again finishes the adoption; no application write fails.
 */
@PgShards(1)
class AdoptKillTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "SIGKILL at the start of step {0}, then adopt --execute again")
    @ValueSource(strings = {"guard", "topology version 1"})
    void anAdoptionKilledMidwayIsFinishedByRunningItAgain(String step, PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(0);
        String db = "killed_" + step.replace(' ', '_');
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + db);
        }
        String url = AdoptBadInputTest.url(s, db);
        Path config = dir.resolve("shardring.yaml");
        Files.writeString(config, """
                ring:
                  keyType: bigint
                tables:
                  - name: companies
                    keyColumn: id
                  - name: campaigns
                    keyColumn: company_id
                  - name: ads
                    keyColumn: company_id
                  - name: invoices
                    keyColumn: company_id
                reference:
                  tables: [plans]
                nodes:
                  - id: legacy
                    jdbcUrl: %s
                    user: %s
                """.formatted(url, s.user()), StandardCharsets.UTF_8);
        try (LegacyApp app = new LegacyApp(url, s.user(), s.password())) {
            app.create(50);
            try (Connection c = DriverManager.getConnection(url, s.user(), s.password());
                    Statement st = c.createStatement()) {
                st.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_pkey,"
                        + " ADD CONSTRAINT invoices_pkey PRIMARY KEY (company_id, id)");
            }
            app.start(3);
            app.awaitOps(100);
            Process child = AdoptProcess.start(config, step, dir.resolve("adopt.log"));
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line = out.readLine();
                assertThat(line).as("the child's first line (log: %s)", Files.exists(dir.resolve("adopt.log"))
                        ? Files.readString(dir.resolve("adopt.log")) : "").isEqualTo("AT " + step);
            }
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            app.awaitOps(100);

            String plan = cli(config, "adopt", "--output", "text");
            assertThat(plan).contains("adoption begun and not finished; done: shardring schema, catalog, ordinal,"
                    + " owned ranges").contains("--execute does the rest").doesNotContain("REFUSED");
            String again = cli(config, "adopt", "--execute", "--output", "text");
            assertThat(again).contains("legacy adopted: topology version 1").contains("skipped  owned ranges");
            app.awaitOps(100);
            assertThat(app.errors.get()).as("%s", app.errorSamples).isZero();
            app.stop();

            try (Connection c = DriverManager.getConnection(url, s.user(), s.password());
                    Statement st = c.createStatement()) {
                assertThat(one(st, "SELECT count(*) FROM pg_trigger WHERE tgname = ANY ('{"
                        + String.join(",", OwnershipGuard.TRIGGERS) + "}')")).as("3 guard triggers on 4 tables")
                        .isEqualTo(12);
                assertThat(one(st, "SELECT max(version) FROM shardring.topology_versions")).isEqualTo(1);
                assertThat(one(st, "SELECT ordinal FROM shardring.membership")).isZero();
                assertThat(one(st, "SELECT count(*) FROM pg_sequences WHERE sequencename IN ('companies_id_seq',"
                        + " 'campaigns_id_seq', 'ads_id_seq', 'invoices_id_seq') AND max_value = "
                        + SequenceRanges.high(0))).isEqualTo(4);
                assertThat(one(st, "SELECT count(*) FROM shardring.key_allocator WHERE sequence_name ="
                        + " '\"public\".\"companies_id_seq\"'")).isEqualTo(1);
                assertThat(one(st, "SELECT count(*) FROM shardring.adoptions WHERE finished_at IS NOT NULL"))
                        .isEqualTo(1);
            }
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                // the reference tables' publication was made once; drop it with the database
                st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        + " WHERE database = '" + db + "'");
            }
        }
    }

    private static long one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String cli(Path config, String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--config";
        all[args.length + 1] = config.toString();
        int code = cl.execute(all);
        return out + "[exit " + code + "]";
    }
}
