package io.shardring.migration.cli;

import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "A guided tour on throw-away embedded PostgreSQL 17 servers (no installation needed): starts SHARDS + 1"
                    + " servers, writes a configuration file for the first SHARDS to a temporary directory (its path"
                    + " is printed), runs init, loads TENANTS tenants into a small 'accounts' table through the"
                    + " router, shows status, adds the last server with add-node --execute, shows status again and"
                    + " verifies.",
            "With --keep-running the servers stay up afterwards (Ctrl-C stops them): run the other commands against"
                    + " them from another shell with --config <the printed path>."},
        footerHeading = "%nExample:%n",
        footer = {"  shardring demo --shards 3 --tenants 1000 --keep-running",
            "  # in another shell:", "  shardring status --config /tmp/shardring-demo-.../shardring.yaml"})
final class DemoCommand extends CliCommand {
    static final int ACCOUNTS_PER_TENANT = 5;

    @Option(names = "--shards", defaultValue = "4", paramLabel = "N",
            description = "Nodes in the ring at the start (default ${DEFAULT-VALUE}); one more server is added.")
    int shards;

    @Option(names = "--tenants", defaultValue = "2000", paramLabel = "N",
            description = "Tenants to load, " + ACCOUNTS_PER_TENANT + " accounts each (default ${DEFAULT-VALUE}).")
    int tenants;

    @Option(names = "--keep-running", description = "Keep the servers running at the end until Ctrl-C.")
    boolean keepRunning;

    @Option(names = "--replication-factor", defaultValue = "1", paramLabel = "R",
            description = "ring.replicationFactor (default ${DEFAULT-VALUE}); 2 or more keeps secondary copies in each"
                    + " node's <database>_secondary, made by init and kept by every change.")
    int replicationFactor;

    @Override
    int execute() throws Exception {
        if (shards < 1 || shards > 16 || tenants < 1) {
            throw new Refused("use --shards 1..16 and --tenants >= 1");
        }
        if (replicationFactor < 1 || replicationFactor > shards) {
            throw new Refused("--replication-factor " + replicationFactor + " needs 1.." + shards + " (--shards)");
        }
        step("starting " + (shards + 1) + " embedded PostgreSQL servers (wal_level=logical)");
        PgCluster cluster = PgCluster.start(shards + 1);
        try {
            Path dir = Files.createTempDirectory("shardring-demo-");
            Path config = writeConfig(dir, cluster);
            if (json()) {
                emit(object("demo-config").put("config", config.toString()));
            } else {
                say("configuration: " + config);
            }
            int code = cli("init", config);
            if (code != 0) {
                return code;
            }
            step("loading " + tenants + " tenants x " + ACCOUNTS_PER_TENANT + " accounts through the router");
            long rows = load(config);
            if (!json()) {
                say(String.format("loaded %,d rows", rows));
            }
            if ((code = cli("status", config)) != 0) {
                return code;
            }
            PgShard extra = cluster.shard(shards);
            List<String> add = new ArrayList<>(List.of("add-node", extra.name(), "--jdbc-url", extra.jdbcUrl(),
                    "--user", extra.user(), "--zone", zone(shards), "--execute"));
            if ((code = cli(add, config)) != 0) {
                return code;
            }
            if ((code = cli("status", config)) != 0) {
                return code;
            }
            if ((code = cli("verify", config)) != 0) {
                return code;
            }
            if (keepRunning) {
                step("the cluster keeps running; from another shell try:");
                if (!json()) {
                    say("  ./shardring status --config " + config);
                    say("  ./shardring plan remove-node shard1 --config " + config);
                    say("  ./shardring set-weight shard1 2.0 --config " + config);
                    say("Ctrl-C stops the servers.");
                }
                new CountDownLatch(1).await();
            }
            return ShardringCli.OK;
        } finally {
            if (!keepRunning) {
                cluster.close();
            }
        }
    }

    private void step(String text) {
        if (json()) {
            emit(object("demo-step").put("step", text));
        } else {
            say("");
            say("==> " + text);
        }
    }

    private static String zone(int i) {
        return "zone-" + (char) ('a' + i % 3);
    }

    private Path writeConfig(Path dir, PgCluster cluster) throws IOException {
        Path sql = Files.createDirectories(dir.resolve("sql"));
        Files.writeString(sql.resolve("V1__accounts.sql"), "-- the shard key leads the primary key; ids are UUIDv7"
                + " (no sequences: rows move between shards)\n"
                + "CREATE TABLE accounts (\n    tenant_id bigint NOT NULL,\n    id uuid NOT NULL,\n"
                + "    name text NOT NULL,\n    balance numeric(12, 2) NOT NULL DEFAULT 0,\n"
                + "    PRIMARY KEY (tenant_id, id)\n);\n", StandardCharsets.UTF_8);
        StringBuilder y = new StringBuilder();
        y.append("# written by `shardring demo`\nversion: 1\nring:\n  keyType: bigint\n  vnodes: 64\n");
        if (replicationFactor > 1) {
            y.append("  replicationFactor: ").append(replicationFactor).append('\n');
        }
        y.append("tables:\n  - name: accounts\n    keyColumn: tenant_id\n");
        y.append("catalog:\n  node: shard0\n");
        y.append("schema:\n  locations:\n    - ").append("\"" + ("filesystem:" + sql).replace("\\", "\\\\").replace("\"", "\\\"") + "\"").append('\n');
        y.append("nodes:\n");
        for (int i = 0; i < shards; i++) {
            PgShard s = cluster.shard(i);
            y.append("  - id: ").append(s.name()).append('\n');
            y.append("    jdbcUrl: ").append(s.jdbcUrl()).append('\n');
            y.append("    user: ").append(s.user()).append('\n');
            if (s.password() != null && !s.password().isEmpty()) {
                throw new IllegalStateException("the demo expects password-less embedded servers");
            }
            y.append("    zone: ").append(zone(i)).append('\n');
        }
        Path file = dir.resolve("shardring.yaml");
        Files.writeString(file, y.toString(), StandardCharsets.UTF_8);
        return file;
    }

    private long load(Path config) throws Exception {
        ShardringConfig c = ShardringYaml.load(config);
        List<Long> keys = new ArrayList<>();
        for (long t = 1; t <= tenants; t++) {
            keys.add(t);
        }
        long rows = 0;
        try (ShardedDataSource router = ShardedDataSource.builder(c.topology()).environment(env()).build()) {
            for (Map.Entry<String, List<Long>> e : router.groupByShard(keys).entrySet()) {
                try (Connection conn = router.node(e.getKey()).getConnection(); PreparedStatement ps =
                        conn.prepareStatement("INSERT INTO accounts (tenant_id, id, name, balance)"
                                + " VALUES (?, shardring.uuid_v7(), ?, ?)")) {
                    conn.setAutoCommit(false);
                    for (long tenant : e.getValue()) {
                        for (int a = 0; a < ACCOUNTS_PER_TENANT; a++) {
                            ps.setLong(1, tenant);
                            ps.setString(2, "account " + a + " of tenant " + tenant);
                            ps.setBigDecimal(3, java.math.BigDecimal.valueOf((tenant * 37 + a * 11) % 10_000, 2));
                            ps.addBatch();
                            rows++;
                        }
                    }
                    ps.executeBatch();
                    conn.commit();
                }
            }
        }
        return rows;
    }

    private int cli(String command, Path config) {
        return cli(List.of(command), config);
    }

    /** Runs another command of this CLI in-process, with the same output and environment. */
    private int cli(List<String> args, Path config) {
        List<String> all = new ArrayList<>(args);
        all.add("--config");
        all.add(config.toString());
        all.add("--output");
        all.add(json() ? "json" : "text");
        if (common.verbose) {
            all.add("--verbose");
        }
        step("shardring " + String.join(" ", args));
        CommandLine cl = new CommandLine(new ShardringCli(env()));
        cl.setOut(out());
        cl.setErr(err());
        return cl.execute(all.toArray(new String[0]));
    }
}
