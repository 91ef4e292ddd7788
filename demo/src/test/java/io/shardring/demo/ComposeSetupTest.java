package io.shardring.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.examples.tenant.TenantDao;
import io.shardring.migration.cli.ShardringCli;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.jooq.ShardedDsl;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What docker-compose.yml gives each shard, tested without a Docker engine: four embedded PostgreSQL servers
 * started with the settings of {@code examples/compose/postgresql.conf}, the image's superuser
 * ({@code POSTGRES_USER=shardring_tool}), {@code roles.sql} and {@code privileges.sql} as {@code initdb/10-shardring.sh}
 * runs them, then the walkthrough of docs/operations.md through the CLI with {@code examples/compose/shardring.yaml}:
 * init, grants.sql, add-node shard4 --execute, replicas sync, verify, while an application configured by
 * {@code examples/compose/application.yaml} writes through the tenant DAO as the {@code app} role.
 *
 * <p>The files are read as they are; the test changes only what Docker would provide: the servers' host names and
 * ports (compose's shardN:544N become the embedded servers' localhost ports), the schema path (relative to the
 * repository root, the cli service's working directory), and the standby (the embedded binaries have no
 * pg_basebackup, so shard1-standby is not started and its URL is left out).
 */
class ComposeSetupTest {
    private static final Path ROOT = repositoryRoot();
    private static final Path COMPOSE = ROOT.resolve("examples/compose");
    private static final Map<String, String> ENV = Map.of("SHARDRING_PASSWORD", "unused-with-trust-auth",
            "SHARDRING_APP_PASSWORD", "unused-with-trust-auth");

    private static PgCluster cluster;
    private static Path config;
    private static Path appConfig;

    @BeforeAll
    static void start() throws Exception {
        PgCluster.Builder b = PgCluster.builder().shards(4).database("app");
        serverSettings().forEach(b::serverSetting);
        cluster = b.start();
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE ROLE shardring_tool SUPERUSER LOGIN"); // what POSTGRES_USER makes
                st.execute(psql("roles.sql", Map.of("app_password", "'unused-with-trust-auth'",
                        "replication_password", "'unused-with-trust-auth'")));
            }
            for (String db : List.of("app", "template1")) {
                try (Connection c = DriverManager.getConnection(s.jdbcUrl().replace("/app", "/" + db),
                        s.user(), s.password()); Statement st = c.createStatement()) {
                    st.execute(psql("privileges.sql", Map.of("tool", "\"shardring_tool\"")));
                }
            }
        }
        Path dir = Files.createTempDirectory("shardring-compose-test-");
        config = Files.writeString(dir.resolve("shardring.yaml"), dockerless(COMPOSE.resolve("shardring.yaml")));
        appConfig = Files.writeString(dir.resolve("application.yaml"),
                dockerless(COMPOSE.resolve("application.yaml")));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theWalkthroughRunsAndTheApplicationStaysBehindTheGuard() throws Exception {
        // bad input first: a password variable that is not set is named, and nothing is touched
        Run missing = cli(Map.of(), "init");
        assertThat(missing.code).isEqualTo(ShardringCli.USAGE);
        assertThat(missing.err).contains("environment variable SHARDRING_PASSWORD is not set; set it to the password")
                .doesNotContain("unused-with-trust-auth");
        try (Connection c = superuser(0); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regnamespace('shardring') IS NULL")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("nothing was created before the password was missed").isTrue();
        }

        Run init = cli(ENV, "init");
        assertThat(init.code).as(init.out + init.err).isZero();
        try (Connection c = superuser(0); Statement st = c.createStatement()) {
            st.execute(Files.readString(COMPOSE.resolve("grants.sql")));
        }

        try (ShardedDataSource router = ShardedDataSource.builder(ShardringYaml.load(appConfig))
                .environment(ENV::get).meterRegistry(new SimpleMeterRegistry()).build()) {
            TenantDao dao = new TenantDao(ShardedDsl.of(router));
            String user = router.withConnection(1L, c -> string(c, "SELECT current_user"));
            assertThat(user).as("the application's role (router.user)").isEqualTo("app");
            Map<Long, UUID> customers = new HashMap<>();
            for (long t = 1; t <= 100; t++) {
                customers.put(t, dao.createCustomer(t, "c" + t, null));
            }
            long stranger = 1;
            while (router.nodeFor(stranger).equals("shard2")) {
                stranger++;
            }
            long other = stranger;
            assertThatThrownBy(() -> {
                try (Connection c = router.node("shard2").getConnection(); Statement st = c.createStatement()) {
                    st.execute("SET shardring.bypass_guard = on");
                    st.execute("INSERT INTO customers (tenant_id, name) VALUES (" + other + ", 'not mine')");
                }
            }).as("the app role may not write past the guard").isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("SR001"));

            // add-node under writes: nothing the application sees, nothing lost
            Map<UUID, Long> acknowledged = new ConcurrentHashMap<>();
            AtomicLong errors = new AtomicLong();
            AtomicReference<String> firstError = new AtomicReference<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                long i = 0;
                while (writing.get()) {
                    long t = 1 + (i++ % 100);
                    try {
                        acknowledged.put(dao.placeOrder(t, customers.get(t), 100 + i), t);
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                    }
                }
            });
            writer.start();
            PgShard shard4 = cluster.shard(3);
            Run add = cli(ENV, "add-node", "shard4", "--jdbc-url", shard4.jdbcUrl(), "--user", "shardring_tool",
                    "--password-ref", "${SHARDRING_PASSWORD}", "--zone", "zone-b", "--execute");
            assertThat(add.code).as(add.err).isZero();
            Thread.sleep(300);
            writing.set(false);
            writer.join();
            assertThat(errors.get()).as("application errors, the first: %s", firstError.get()).isZero();
            assertThat(acknowledged).hasSizeGreaterThan(20);

            Run sync = cli(ENV, "replicas", "sync");
            assertThat(sync.code).as(sync.err).isZero();
            assertThat(sync.out).as("add-node --execute synced the copies already")
                    .contains("\"type\":\"replicas-synced\"").contains("\"created\":0,\"narrowed\":0");
            Run verify = cli(ENV, "verify");
            assertThat(verify.code).as(verify.out + verify.err).isZero();

            // every acknowledged order once, on its tenant's owner
            Map<UUID, String> found = new LinkedHashMap<>();
            for (int i = 0; i < 4; i++) {
                try (Connection c = superuser(i); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT id FROM orders")) {
                    while (rs.next()) {
                        assertThat(found.put(rs.getObject(1, UUID.class), "shard" + (i + 1)))
                                .as("an order on two nodes").isNull();
                    }
                }
            }
            acknowledged.forEach((id, tenant) -> assertThat(found.get(id)).as("order %s of tenant %d", id, tenant)
                    .isEqualTo(router.nodeFor(tenant)));
            assertThat(router.topology().nodes()).containsKey("shard4");

            // the app role reads its copies (template1's default privileges reached the secondary stores)
            long tenant = acknowledged.values().iterator().next();
            long expected = acknowledged.values().stream().filter(t -> t == tenant).count();
            ReadPreference copy = ReadPreference.secondary().maxStaleness(Duration.ofSeconds(5));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            String[] seen;
            do {
                seen = router.read(tenant, copy, c -> new String[] {string(c, "SELECT current_user"),
                        string(c, "SELECT current_database()"),
                        string(c, "SELECT count(*) FROM orders WHERE tenant_id = " + tenant)});
            } while (Long.parseLong(seen[2]) != expected && System.nanoTime() < deadline);
            assertThat(seen).containsExactly("app", "app_secondary", String.valueOf(expected));

            // the application's router is in the catalog's registry (grants.sql) on the newest version
            Run status = cli(ENV, "status", "--output", "json");
            assertThat(status.code).as(status.err).isZero();
            JsonNode s = new ObjectMapper().readTree(status.out.lines().filter(l -> l.contains("\"status\""))
                    .findFirst().orElseThrow());
            assertThat(s.get("routers")).anySatisfy(r -> assertThat(r.get("version").asLong())
                    .isEqualTo(s.get("version").asLong()));
            assertThat(s.get("nodes")).hasSize(4);
        }
    }

    /** Runs the CLI in this JVM with {@code --config} and the given environment. */
    private static Run cli(Map<String, String> env, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(env));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(all.toArray(new String[0]));
        return new Run(code, out.toString(), err.toString());
    }

    private record Run(int code, String out, String err) {
    }

    private static Connection superuser(int shard) throws SQLException {
        return cluster.shard(shard).connect();
    }

    private static String string(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** postgresql.conf's settings, but listen_addresses (the embedded servers choose their own). */
    static Map<String, String> serverSettings() throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        Pattern line = Pattern.compile("^\\s*([a-z_.]+)\\s*=\\s*('([^']*)'|[^#\\s]+)\\s*(#.*)?$");
        for (String l : Files.readAllLines(COMPOSE.resolve("postgresql.conf"), StandardCharsets.UTF_8)) {
            if (l.isBlank() || l.strip().startsWith("#")) {
                continue;
            }
            Matcher m = line.matcher(l);
            assertThat(m.matches()).as("a setting line of postgresql.conf: %s", l).isTrue();
            if (!m.group(1).equals("listen_addresses")) {
                settings.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
            }
        }
        assertThat(settings).containsEntry("wal_level", "logical");
        return settings;
    }

    /** A psql script with its :'name' and :"name" variables replaced as psql -v would. */
    private static String psql(String file, Map<String, String> quoted) throws IOException {
        String sql = Files.readString(COMPOSE.resolve(file));
        for (Map.Entry<String, String> v : quoted.entrySet()) {
            sql = sql.replace(":'" + v.getKey() + "'", v.getValue()).replace(":\"" + v.getKey() + "\"",
                    v.getValue());
        }
        assertThat(sql).doesNotContainPattern(":['\"][a-z_]+['\"]");
        return sql;
    }

    /** The compose configuration with this test's servers for compose's host names and ports. */
    private static String dockerless(Path file) throws IOException {
        String yaml = Files.readString(file);
        for (int i = 0; i < 4; i++) { // shard1..shard3 are in the files; shard4 joins with add-node
            PgShard s = cluster.shard(i);
            String compose = "shard" + (i + 1) + ":" + (5441 + i) + "/app";
            assertThat(yaml.contains(compose)).as("%s names %s", file, compose).isEqualTo(i < 3);
            yaml = yaml.replace(compose, s.host() + ":" + s.port() + "/app");
        }
        yaml = yaml.replaceAll("(?m)^    standbys:\\n      - jdbc:postgresql://shard1-standby:5445/app\\n", "");
        assertThat(yaml).doesNotContain("standbys:");
        return yaml.replace("filesystem:examples/", "filesystem:" + ROOT.resolve("examples") + "/");
    }

    static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docker-compose.yml"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
