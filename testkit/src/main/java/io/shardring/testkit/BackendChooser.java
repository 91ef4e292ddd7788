package io.shardring.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks where shards come from: external servers if {@value ExternalBackend#ENV} is set, else Docker if an engine
 * answers, else embedded processes. In that order because an explicit list is the user's intent, and containers
 * are closer to production than embedded binaries when available. Except that naming PostgreSQL binaries with
 * {@value PgBinariesJar#PROPERTY} skips Docker: only embedded servers can use them, and a build that asks for
 * PostgreSQL 15 that way must not quietly test the {@code postgres:17} image instead.
 *
 * <p>Testcontainers is only asked about Docker when something suggests an engine could be there (see
 * {@link #dockerHint()}): when none is, its probe costs about a second and prints a multi-line ERROR on every test
 * run, which would train people to ignore errors in test output.
 */
final class BackendChooser {

    private static final Logger LOG = LoggerFactory.getLogger(BackendChooser.class);

    /** The Docker probe can take seconds; ask once per JVM. */
    private static Boolean dockerAvailable;

    private BackendChooser() {
    }

    static ShardBackend choose() {
        String spec = System.getenv(ExternalBackend.ENV);
        String binaries = System.getProperty(PgBinariesJar.PROPERTY);
        boolean binariesNamed = binaries != null && !binaries.isBlank();
        if (spec != null && !spec.isBlank()) {
            if (binariesNamed) {
                LOG.warn("{} is set, so the shards are those external servers and {}={} is ignored",
                        ExternalBackend.ENV, PgBinariesJar.PROPERTY, binaries);
            }
            return new ExternalBackend(spec);
        }
        if (binariesNamed) {
            return new EmbeddedBackend();
        }
        return dockerAvailable() ? new ContainerBackend() : new EmbeddedBackend();
    }

    private static synchronized boolean dockerAvailable() {
        if (dockerAvailable == null) {
            String hint = dockerHint();
            if (hint == null) {
                LOG.debug("no Docker socket, DOCKER_HOST or Testcontainers config found; using embedded PostgreSQL");
                dockerAvailable = false;
            } else {
                try {
                    dockerAvailable = ContainerBackend.dockerAvailable();
                } catch (Throwable e) { // also LinkageError: Testcontainers left off the classpath is fine
                    LOG.info("Docker check failed ({}); using embedded PostgreSQL", e.toString());
                    dockerAvailable = false;
                }
                if (!dockerAvailable) {
                    LOG.info("{} but no Docker engine answers; using embedded PostgreSQL", hint);
                }
            }
        }
        return dockerAvailable;
    }

    /**
     * Why a Docker engine might be reachable (an environment variable or a file Testcontainers would use), or null
     * if nothing points to one. On Windows there is no cheap file to look at (a named pipe), so it always says yes.
     */
    static String dockerHint() {
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            return "Windows";
        }
        for (String variable : List.of("DOCKER_HOST", "DOCKER_CONTEXT", "TESTCONTAINERS_HOST_OVERRIDE",
                "TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE")) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                return variable + " is set";
            }
        }
        String home = System.getProperty("user.home", "");
        List<Path> candidates = new ArrayList<>(List.of(
                Path.of("/var/run/docker.sock"),
                Path.of(home, ".testcontainers.properties"),
                Path.of(home, ".docker", "run", "docker.sock"),         // rootless, Docker Desktop for Mac
                Path.of(home, ".docker", "desktop", "docker.sock"),     // Docker Desktop for Linux
                Path.of(home, ".docker", "contexts")));                 // colima, OrbStack, Rancher Desktop, ...
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank()) {
            candidates.add(Path.of(runtimeDir, "docker.sock"));        // rootless Docker on Linux
            candidates.add(Path.of(runtimeDir, ".docker", "run", "docker.sock"));
        }
        for (Path candidate : candidates) {
            if (Files.exists(candidate)) {
                return candidate + " exists";
            }
        }
        return null;
    }
}
