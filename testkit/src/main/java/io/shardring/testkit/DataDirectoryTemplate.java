package io.shardring.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One initdb per JVM and PostgreSQL binaries: the first server's freshly initialized, cleanly stopped data directory
 * is kept aside, and every later server starts from a copy of it (zonky runs initdb only where the directory has no
 * postgresql.conf). initdb took about 3 s of each server's start on 2 cores; a copy takes a tenth of that. Nothing
 * in the directory depends on the port or the settings, which come as {@code -c} options at start.
 */
final class DataDirectoryTemplate {

    private static final Logger LOG = LoggerFactory.getLogger(DataDirectoryTemplate.class);

    /** By binaries jar (null: the class path's): the template, or empty when making one failed. */
    private static final Map<Optional<Path>, Optional<Path>> TEMPLATES = new HashMap<>();

    private DataDirectoryTemplate() {
    }

    /**
     * Copies the template for {@code binaries} into {@code dataDirectory} (which must not exist yet), making the
     * template first with {@code launch} (a start and a clean stop on a directory of its own). False when there is
     * no template: the caller's start runs initdb as before.
     */
    static boolean seed(Path dataDirectory, PgBinariesJar binaries, Function<Path, EmbeddedPostgres> launch) {
        Optional<Path> template = template(binaries, launch);
        if (template.isEmpty()) {
            return false;
        }
        try {
            copy(template.get(), dataDirectory);
            return true;
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("copying the initdb template to {} failed ({}); initdb runs there", dataDirectory, e.toString());
            TempDirs.deleteQuietly(dataDirectory);
            return false;
        }
    }

    private static synchronized Optional<Path> template(PgBinariesJar binaries, Function<Path, EmbeddedPostgres> launch) {
        Optional<Path> key = Optional.ofNullable(binaries).map(PgBinariesJar::jar);
        Optional<Path> known = TEMPLATES.get(key);
        if (known != null) {
            return known;
        }
        Optional<Path> made = Optional.empty();
        Path root = null;
        try {
            root = Files.createTempDirectory("shardring-pg-template-");
            Path dir = root.resolve("data");
            EmbeddedPostgres postgres = launch.apply(dir);
            postgres.close(); // pg_ctl stop: a clean shutdown, so a copy starts without crash recovery
            Files.deleteIfExists(dir.resolve("postmaster.pid"));
            made = Optional.of(dir);
            Path delete = root;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> TempDirs.deleteQuietly(delete),
                    "shardring-testkit-template-cleanup"));
        } catch (IOException | RuntimeException e) {
            LOG.info("no initdb template ({}); every embedded server runs its own initdb", e.toString());
            if (root != null) {
                TempDirs.deleteQuietly(root);
            }
        }
        TEMPLATES.put(key, made);
        return made;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.copy(dir, to.resolve(from.relativize(dir).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
