package io.shardring.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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
 * <p>Servers start in parallel. A JVM shutdown hook closes clusters that were never closed.
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
    private final AtomicBoolean closed = new AtomicBoolean();

    private PgCluster(String backend, ShardBackend.Started started) {
        this.backend = backend;
        this.started = started;
        this.shards = List.copyOf(started.shards());
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
     * Stops the servers this cluster started and deletes their data directories; external servers are left alone.
     * Idempotent.
     */
    @Override
    public void close() {
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
            PgCluster cluster = new PgCluster(backend.name(), started);
            try {
                for (PgShard shard : cluster.shards) {
                    LOG.info("{} ready: backend={}, port={}, {}, started in {} ms", shard.name(), backend.name(),
                            shard.port(), serverVersion(shard), shard.startupTime().toMillis());
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
        private static String serverVersion(PgShard shard) {
            try (Connection c = shard.connect();
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SHOW server_version")) {
                rs.next();
                return "PostgreSQL " + rs.getString(1);
            } catch (SQLException e) {
                throw new ServerStartException("cannot connect to " + shard + ": " + e.getMessage(), e);
            }
        }
    }
}
