package io.shardring.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * PostgreSQL 17 in Docker containers via Testcontainers, used when a Docker engine is reachable.
 *
 * <p>This is the only class that names Testcontainers types, so a JVM that never chooses this backend (the usual
 * case on machines without Docker) loads none of them beyond the availability probe, and a classpath without
 * Testcontainers at all still works: {@link PgCluster} treats any failure of the probe as "no Docker".
 */
final class ContainerBackend implements ShardBackend {

    static final String NAME = "testcontainers";

    private static final DockerImageName IMAGE = DockerImageName.parse("postgres:17");
    private static final String USER = "shardring";

    /** Same intent as {@link EmbeddedBackend#DEFAULT_SETTINGS}: logical replication on, durability off. */
    private static final List<String> COMMAND = List.of("postgres",
            "-c", "wal_level=logical",
            "-c", "max_replication_slots=20",
            "-c", "max_wal_senders=20",
            "-c", "fsync=off");

    /** Asks Testcontainers whether a Docker engine answers; may throw if Testcontainers itself is broken. */
    static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Started start(ClusterSettings settings) {
        // random per cluster: Docker publishes the port on all interfaces, not just loopback
        String password = UUID.randomUUID().toString();
        List<Server> servers = ParallelStart.startAll(NAME, settings.shards(),
                index -> Server.start(index, settings, password), Server::stop);
        return new Started() {
            private final AtomicBoolean stopped = new AtomicBoolean();

            @Override
            public List<PgShard> shards() {
                List<PgShard> shards = new ArrayList<>();
                servers.forEach(server -> shards.add(server.shard));
                return shards;
            }

            @Override
            public void stop() {
                if (!stopped.getAndSet(true)) {
                    servers.forEach(Server::stop);
                }
            }
        };
    }

    /** One container and the shard it serves. */
    private static final class Server {

        private final PostgreSQLContainer<?> container;
        private final PgShard shard;

        private Server(PostgreSQLContainer<?> container, PgShard shard) {
            this.container = container;
            this.shard = shard;
        }

        static Server start(int index, ClusterSettings settings, String password) {
            long startNanos = System.nanoTime();
            List<String> command = new ArrayList<>(COMMAND);
            settings.serverSettings().forEach((key, value) -> {
                command.add("-c");
                command.add(key + "=" + value);
            });
            PostgreSQLContainer<?> container = new PostgreSQLContainer<>(IMAGE)
                    .withDatabaseName(settings.database()) // the image's entrypoint creates it
                    .withUsername(USER)
                    .withPassword(password)
                    .withStartupTimeout(settings.startupTimeout());
            container.setCommand(command.toArray(String[]::new));
            try {
                container.start();
            } catch (RuntimeException e) {
                container.stop();
                throw e;
            }
            Duration startup = Duration.ofNanos(System.nanoTime() - startNanos);
            PgShard shard = new PgShard("shard" + index, container.getHost(),
                    container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT), settings.database(), USER, password,
                    "", Map.of(), null, startup);
            return new Server(container, shard);
        }

        void stop() {
            container.stop(); // removes the container and its anonymous data volume
        }
    }
}
