package io.shardring.router.topology;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.time.Duration;
import java.util.List;

/**
 * The configuration as written: every field of a {@code shardring.yaml}, declared once. The YAML reader binds a file
 * to these records, the writer serializes them, the catalog stores topologies through them, and the Spring starter
 * binds {@code shardring.*} to the same records; {@link ConfigValidation} turns them into a {@link ShardringConfig}.
 * A null field is one the configuration leaves out. See {@code docs/configuration.md} for every field.
 */
public record ConfigFile(Long version, Ring ring, List<Table> tables, Reference reference, List<Pin> pins,
        Router router, List<Node> nodes, Catalog catalog, Schema schema) {

    /** {@code ring:} the ring's shape. */
    public record Ring(String keyType, Integer vnodes, String placement, Integer replicationFactor, Integer maxPins) {
    }

    /** {@code tables[]:} a sharded table, as {@code table} or {@code schema.table}, and its shard-key column. */
    public record Table(String name, String keyColumn) {
    }

    /** {@code reference:} tables copied to every node, and the node that holds their writable copy. */
    public record Reference(String node, List<String> tables) {
    }

    /**
     * {@code pins[]:} a shard key placed on a node. The key is read as written, as text, and parsed by the ring's key
     * type; a number key of the runtime is written back as a number.
     */
    public record Pin(@JsonDeserialize(using = ConfigJackson.ScalarText.class) Object key, String node) {
    }

    /** {@code router:} the router's own settings. */
    public record Router(Duration downBackoff, Duration drainTimeout, Integer fanOutThreads, Duration cutoverWait,
            Duration catalogPoll, String zone, Duration replicaInterval, String user, String password) {
    }

    /**
     * {@code nodes[]:} one shard. The password is a reference, {@code ${ENV_VAR}} or {@code file:/path}; the epoch is
     * the one the node's primary records (left out: 0, not fenced by epoch).
     */
    public record Node(String id, String jdbcUrl, String user, String password, Double weight, String zone, Pool pool,
            List<String> standbys, Long epoch, List<Long> tokens) {
    }

    /** {@code nodes[].pool:} the node's HikariCP pool. */
    public record Pool(Integer maximumPoolSize, Integer minimumIdle, Duration connectionTimeout, Duration idleTimeout,
            Duration maxLifetime, Duration validationTimeout) {
    }

    /** {@code catalog:} the node whose database holds the catalog. */
    public record Catalog(String node) {
    }

    /** {@code schema:} the application's Flyway locations, for tools. */
    public record Schema(List<String> locations) {
    }
}
