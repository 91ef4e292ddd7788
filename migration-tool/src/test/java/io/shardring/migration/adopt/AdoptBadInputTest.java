package io.shardring.migration.adopt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardring.migration.cli.ShardringCli;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What {@code shardring adopt} refuses, each with a message that names the bad thing and says what to do, and each
 * before anything changes: a server without logical replication, a database of another ring, a key column with NULLs,
 * a sequence shared with a table that is not sharded, a sequence past ordinal 0's range, a 32-bit serial, a table in
 * neither list, a foreign key to it, a baseline below an applied version. Each case in a database of its own.
 */
@PgShards(2)
class AdoptBadInputTest {
    static final String APP = """
            CREATE TABLE plans (id bigserial PRIMARY KEY, name text NOT NULL);
            CREATE TABLE companies (id bigserial PRIMARY KEY, plan_id bigint REFERENCES plans (id));
            CREATE TABLE campaigns (company_id bigint NOT NULL REFERENCES companies (id), id bigserial,
                PRIMARY KEY (company_id, id));
            INSERT INTO plans (name) VALUES ('free');
            INSERT INTO companies (plan_id) SELECT 1 FROM generate_series(1, 20);
            INSERT INTO campaigns (company_id) SELECT id FROM companies;
            """;

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
        JsonNode plan() throws Exception {
            for (String line : out.split("\n")) {
                if (line.contains("\"adopt-plan\"")) {
                    return AdoptTest.JSON.readTree(line);
                }
            }
            throw new AssertionError("no plan in " + out + err);
        }
    }

    Result adopt(String db, PgShard server, String... args) throws Exception {
        Path config = dir.resolve(db + ".yaml");
        Files.writeString(config, """
                ring:
                  keyType: bigint
                tables:
                  - name: companies
                    keyColumn: id
                  - name: campaigns
                    keyColumn: company_id
                reference:
                  tables: [plans]
                nodes:
                  - id: legacy
                    jdbcUrl: %s
                    user: %s
                """.formatted(url(server, db), server.user()), StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("adopt", "--config", config.toString()));
        all.addAll(List.of(args));
        int code = cl.execute(all.toArray(new String[0]));
        return new Result(code, out.toString(), err.toString());
    }

    static String url(PgShard server, String db) {
        return "jdbc:postgresql://" + server.host() + ":" + server.port() + "/" + db;
    }

    /** A fresh database on the server holding the application's schema, then {@code more}. */
    static void database(PgShard server, String db, String more) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db);
        }
        try (Connection c = DriverManager.getConnection(url(server, db), server.user(), server.password());
                Statement s = c.createStatement()) {
            s.execute(APP);
            if (!more.isEmpty()) {
                s.execute(more);
            }
        }
    }

    static boolean hasShardringSchema(PgShard server, String db) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(server, db), server.user(), server.password());
                Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT count(*) FROM pg_namespace WHERE nspname = 'shardring'")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    @Test
    void aServerWithoutLogicalReplicationIsRefusedBeforeAnythingChanges() throws Exception {
        try (PgCluster replica = PgCluster.builder().shards(1).serverSetting("wal_level", "replica").start()) {
            PgShard s = replica.shard(0);
            database(s, "walreplica", "");
            Result r = adopt("walreplica", s, "--execute", "--output", "text");
            assertThat(r.code()).isEqualTo(3);
            assertThat(r.out()).contains("FAILED  wal_level: replica").contains("set wal_level = logical (ALTER SYSTEM"
                    + " SET wal_level = logical) and restart the server");
            assertThat(r.err()).contains("adoption of legacy is not executable: wal_level: replica");
            assertThat(hasShardringSchema(s, "walreplica")).as("nothing changed").isFalse();
        }
    }

    @Test
    void aDatabaseThatIsANodeOfAnotherRingIsRefusedNamingTheRing(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(0);
        database(s, "adopted_once", "");
        assertThat(adopt("adopted_once", s, "--execute").code()).isZero();
        // the same database under another name: it holds a ring's catalog already
        Path other = dir.resolve("other.yaml");
        Files.writeString(other, Files.readString(dir.resolve("adopted_once.yaml")).replace("id: legacy", "id: other"));
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute("adopt", "--config", other.toString(), "--execute", "--output", "text");
        assertThat(code).isEqualTo(3);
        assertThat(out.toString()).contains("the database of other is node 'legacy' of a shardring ring (catalog ")
                .contains("a node of a ring cannot be adopted into another");
    }

    @Test
    void aKeyColumnWithNullsIsBlockedWithTheCountAndTheDdl(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "nullkeys", "ALTER TABLE campaigns DROP CONSTRAINT campaigns_pkey;"
                + " ALTER TABLE campaigns ALTER COLUMN company_id DROP NOT NULL;"
                + " ALTER TABLE campaigns ADD PRIMARY KEY (id);"
                + " INSERT INTO campaigns (company_id) VALUES (NULL), (NULL), (NULL)");
        Result r = adopt("nullkeys", s, "--output", "json");
        assertThat(r.code()).isEqualTo(3);
        JsonNode campaigns = table(r.plan(), "public.campaigns");
        assertThat(campaigns.get("problems").toString())
                .contains("key column company_id is nullable and 3 rows have no key")
                .contains("-- first give the 3 rows whose company_id is NULL a key, or delete them")
                .contains("ALTER TABLE \\\"public\\\".\\\"campaigns\\\" ALTER COLUMN \\\"company_id\\\" SET NOT NULL;")
                .contains("primary key (id) does not include the key column company_id");
        assertThat(hasShardringSchema(s, "nullkeys")).isFalse();
    }

    @Test
    void aSequenceSharedWithATableThatIsNotShardedIsBlocked(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "sharedseq", "ALTER TABLE plans ALTER COLUMN id SET DEFAULT nextval('campaigns_id_seq')");
        JsonNode campaigns = table(adopt("sharedseq", s, "--output", "json").plan(), "public.campaigns");
        assertThat(campaigns.get("ready").asBoolean()).isFalse();
        assertThat(campaigns.get("problems").toString()).contains("sequence public.campaigns_id_seq also fills"
                + " public.plans.id, which is not sharded").contains("SET DEFAULT nextval(");
    }

    @Test
    void aSequencePastOrdinalZerosRangeIsRefusedNamingIt(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "pastrange", "SELECT setval('campaigns_id_seq', 281474976710700)");
        Result r = adopt("pastrange", s, "--output", "text");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).contains("REFUSED sequence public.campaigns_id_seq is at 281,474,976,710,700, past node"
                + " ordinal 0's range (ids 1..281,474,976,710,655)");
    }

    @Test
    void a32BitSerialIsBlockedWithTheDdlThatWidensItAndTheColumnsReferencingIt(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "narrow", "CREATE TABLE tickets (company_id bigint NOT NULL, id serial, PRIMARY KEY (company_id, id));"
                + " CREATE TABLE replies (company_id bigint NOT NULL, id bigserial, ticket_id integer NOT NULL,"
                + " PRIMARY KEY (company_id, id),"
                + " FOREIGN KEY (company_id, ticket_id) REFERENCES tickets (company_id, id))");
        Path config = dir.resolve("narrow.yaml");
        adopt("narrow", s); // writes the configuration; then it gets the two tables
        Files.writeString(config, Files.readString(config).replace("reference:", """
                  - name: tickets
                    keyColumn: company_id
                  - name: replies
                    keyColumn: company_id
                reference:"""));
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        assertThat(cl.execute("adopt", "--config", config.toString(), "--output", "text")).isEqualTo(3);
        assertThat(out.toString()).contains("blocked public.tickets: column id is integer and filled from sequence"
                + " public.tickets_id_seq")
                .contains("ALTER TABLE \"public\".\"tickets\" ALTER COLUMN \"id\" TYPE bigint;\n"
                        + "    ALTER TABLE \"public\".\"replies\" ALTER COLUMN \"ticket_id\" TYPE bigint;\n"
                        + "    ALTER SEQUENCE \"public\".\"tickets_id_seq\" AS bigint;");
    }

    @Test
    void aTableInNeitherListIsProposedAndAForeignKeyToItBlocks(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "unlisted", "CREATE TABLE regions (id bigint PRIMARY KEY, name text);"
                + " CREATE TABLE audit (company_id bigint NOT NULL, at timestamptz, PRIMARY KEY (company_id, at));"
                + " ALTER TABLE campaigns ADD COLUMN region_id bigint REFERENCES regions (id)");
        JsonNode plan = adopt("unlisted", s, "--output", "json").plan();
        assertThat(table(plan, "public.regions").get("problems").toString())
                .contains("# in the configuration: reference: { tables: [public.regions] }");
        assertThat(table(plan, "public.audit").get("keyColumn").asText()).as("proposed key").isEqualTo("company_id");
        assertThat(table(plan, "public.campaigns").get("problems").toString())
                .contains("foreign key campaigns_region_id_fkey (region_id) references public.regions, which is"
                        + " neither sharded nor a reference table");
    }

    @Test
    void aBaselineBelowAnAppliedVersionIsRefused(PgCluster cluster) throws Exception {
        PgShard s = cluster.shard(1);
        database(s, "baselined", "");
        Flyway.configure().dataSource(url(s, "baselined"), s.user(), s.password()).baselineVersion("5")
                .load().baseline();
        Result r = adopt("baselined", s, "--baseline-version", "3", "--output", "text");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).contains("REFUSED --baseline-version 3 is lower than version 5, already applied here;"
                + " leave --baseline-version out");
        // without it the history is kept, and adoption goes on
        Result kept = adopt("baselined", s, "--execute", "--output", "text");
        assertThat(kept.code()).as(kept.out() + kept.err()).isZero();
        assertThat(kept.out()).contains("flyway: history up to version 5 (1 entry, baseline 5)");
    }

    static JsonNode table(JsonNode plan, String name) {
        for (JsonNode t : plan.get("tables")) {
            if (t.get("table").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no table " + name + " in " + plan);
    }
}
