package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.nio.file.Path;

/**
 * A topology kept in a YAML file ({@link ShardringYaml}), read again on every {@link #load()}, so that a
 * router refreshing its topology picks up what an operator or the migration tool wrote there (a new version,
 * new stored tokens, a new node).
 *
 * <p>There is no caching and no fallback: when the file is missing, unreadable or invalid, {@code load()}
 * throws the {@link ConfigurationException}, and the caller decides whether to keep the topology it has. Only
 * the topology is refreshed this way; the file's {@code router:} settings are read once, by whoever builds the
 * router ({@link #loadConfig()}). Writers should replace the file atomically, as
 * {@link ShardringYaml#save(Path, Topology, RouterSettings)} does, so that a reader never sees half a file.
 */
public final class FileTopologySource implements TopologySource {
    private final Path file;

    /** @param file the YAML file; it need not exist yet, only when {@link #load()} is called */
    public FileTopologySource(Path file) {
        if (file == null) {
            throw new ConfigurationException("topology file path is null");
        }
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /**
     * Reads and validates the file now.
     *
     * @throws ConfigurationException naming the file (and the field, for a bad value) if it cannot be used
     */
    @Override
    public Topology load() {
        return ShardringYaml.load(file).topology();
    }

    /** Reads the whole file now: the topology and the router's settings. */
    public ShardringConfig loadConfig() {
        return ShardringYaml.load(file);
    }

    @Override
    public String toString() {
        return "FileTopologySource(" + file + ")";
    }
}
