package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads and writes the shardring YAML configuration: the topology (ring settings, sharded tables, nodes and
 * their stored tokens) and the router's settings. See {@code docs/configuration.md} for every field.
 *
 * <pre>{@code
 * ShardringConfig config = ShardringYaml.load(Path.of("/etc/shardring/shardring.yaml"));
 * Topology topology = config.topology();
 * }</pre>
 *
 * <p>A file is bound to {@link ConfigFile}, the one model of the configuration, and validated by
 * {@link ConfigValidation}, whose messages name the file, the field path ({@code nodes[1].weight}) and the line.
 * It is strict: unknown fields, values of the wrong type, duplicate keys, YAML aliases and more than one document are
 * errors, and a password must be a reference ({@code ${ENV_VAR}} or {@code file:/path}), never the password itself.
 * Messages never contain a password. Every error is a {@link ConfigurationException}.
 */
public final class ShardringYaml {
    private static final String DEFAULT_SOURCE = "configuration";

    private ShardringYaml() {
    }

    /**
     * Reads a configuration file (UTF-8).
     *
     * @throws ConfigurationException naming the file, and for a bad value the field path and line
     */
    public static ShardringConfig load(Path file) {
        if (file == null) {
            throw new ConfigurationException("configuration file path is null");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("configuration file " + file + " does not exist", e);
        } catch (CharacterCodingException e) {
            throw new ConfigurationException("configuration file " + file + " is not valid UTF-8", e);
        } catch (IOException | RuntimeException e) {
            throw new ConfigurationException("cannot read configuration file " + file + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses configuration text.
     *
     * @param yaml       the YAML text
     * @param sourceName what to call the text in messages, usually the file name; null means "configuration"
     * @throws ConfigurationException naming the source, and for a bad value the field path and line
     */
    public static ShardringConfig parse(String yaml, String sourceName) {
        ConfigReader.Read read = bind(yaml, sourceName);
        return ConfigValidation.validate(read.file(), read.origin());
    }

    /**
     * Configuration text bound to the model as written, before {@link ConfigValidation}: for tools and tests that
     * look at fields rather than at the topology they describe.
     *
     * @throws ConfigurationException naming the source, and for a value of the wrong type the field path and line
     */
    public static ConfigFile read(String yaml, String sourceName) {
        return bind(yaml, sourceName).file();
    }

    private static ConfigReader.Read bind(String yaml, String sourceName) {
        String source = sourceName == null || sourceName.isBlank() ? DEFAULT_SOURCE : sourceName;
        if (yaml == null) {
            throw new ConfigurationException(source + ": the configuration text is null");
        }
        return ConfigReader.read(yaml, source);
    }

    /**
     * The YAML text of a topology and router settings, which {@link #parse} reads back to an equal topology:
     * the same version, ring settings, tables, nodes and, for nodes that have them, stored tokens. To store
     * every node's tokens, write {@link Topology#withStoredTokens()}. Settings at their default are left out
     * of nodes and pools; the ring's settings are always written.
     *
     * @param router the router section; null leaves it out (readers then use {@link RouterSettings#DEFAULTS})
     * @throws ConfigurationException if a node's password is a literal: files hold only references
     */
    public static String write(Topology topology, RouterSettings router) {
        return ConfigWriter.write(topology, router, null);
    }

    /**
     * {@link #write(Topology, RouterSettings)} of a whole configuration, with its {@code catalog:} and
     * {@code schema:} sections, so that a configuration written back reads as the same configuration.
     */
    public static String write(ShardringConfig config) {
        return ConfigWriter.write(config.topology(), config.router(), config);
    }

    /**
     * Writes the configuration to {@code file} atomically (a temporary file in the same directory, then a
     * rename), so that a router re-reading it never sees half a file.
     */
    public static void save(Path file, Topology topology, RouterSettings router) {
        AtomicFiles.replace(file, write(topology, router));
    }

    /**
     * Parses {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601 ({@code PT5S}); null if
     * it is neither.
     */
    static Duration parseDuration(String text) {
        return Durations.parse(text);
    }

    /** The shortest exact form that {@link #parseDuration} reads back: 5s, 10m, 250ms, or ISO-8601. */
    static String formatDuration(Duration d) {
        return Durations.format(d);
    }
}
