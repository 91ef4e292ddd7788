package io.shardring.spring;

import io.shardring.router.topology.ConfigFile;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code shardring.*} in application.yaml: either {@code shardring.config} naming a {@code shardring.yaml}, or the
 * same fields as that file inline ({@code shardring.ring}, {@code shardring.nodes}, ...), never both. The inline
 * fields bind to the records of {@link ConfigFile}, the model a file is read into, and go through the same validation
 * (docs/configuration.md); the starter's own settings are {@code enabled}, {@code config}, {@code
 * start-without-catalog}, {@code flyway}, {@code web} and {@code health}.
 *
 * @param enabled             whether the starter configures shardring at all
 * @param config              a shardring.yaml to read: classpath:shardring.yaml, file:/etc/app/shardring.yaml or a
 *                            plain file path. Its ${VAR} password references resolve from Spring's Environment (so
 *                            environment variables and system properties)
 * @param startWithoutCatalog when the configuration names a catalog that cannot be read at start-up: true starts on the
 *                            configured topology and follows the catalog once it answers; false (the default) stops
 *                            the application, naming the node and why
 * @param version             topology version of the inline configuration (the file's version field)
 * @param ring                the ring: key type, tokens, placement and copies
 * @param tables              the sharded tables: every row of such a table lives on the owner of its key column's value
 * @param reference           reference tables, copied to every node
 * @param pins                shard keys placed on a node
 * @param router              the router's own settings
 * @param nodes               one entry per shard (primary server)
 * @param catalog             the node whose database holds the catalog
 * @param schema              the application's Flyway locations, for tools
 * @param flyway              Flyway on every shard at start-up
 * @param web                 binding the tenant of a web request
 * @param health              the shardring health indicator
 */
@ConfigurationProperties(prefix = "shardring", ignoreUnknownFields = false)
public record ShardringProperties(@DefaultValue("true") boolean enabled, String config, boolean startWithoutCatalog,
        Long version, ConfigFile.Ring ring, List<ConfigFile.Table> tables, ConfigFile.Reference reference,
        List<ConfigFile.Pin> pins, ConfigFile.Router router, List<ConfigFile.Node> nodes, ConfigFile.Catalog catalog,
        ConfigFile.Schema schema, @DefaultValue Flyway flyway, @DefaultValue Web web, @DefaultValue Health health) {

    private static final ConfigFile NONE = new ConfigFile(null, null, null, null, null, null, null, null, null);

    /** The inline fields: what a shardring.yaml would hold. */
    public ConfigFile file() {
        return new ConfigFile(version, ring, tables, reference, pins, router, nodes, catalog, schema);
    }

    /** Whether any field of a shardring.yaml is set inline. */
    boolean hasInlineFields() {
        return !file().equals(NONE);
    }

    /**
     * Flyway on every shard at start-up, with spring.flyway.locations (default classpath:db/migration).
     *
     * @param enabled whether the starter migrates every shard (and secondary store) at start-up
     */
    public record Flyway(@DefaultValue("true") boolean enabled) {
    }

    /**
     * Binding the tenant of a web request (Spring MVC); off unless header or path-variable is set.
     *
     * @param header       a request header holding the shard key, e.g. X-Tenant-Id
     * @param pathVariable a path variable holding the shard key, e.g. tenantId for /tenants/{tenantId}/orders
     */
    public record Web(String header, String pathVariable) {
    }

    /**
     * The shardring health indicator.
     *
     * @param timeout how long each node's check may take; a node that does not answer within it is down
     */
    public record Health(@DefaultValue("2s") Duration timeout) {
    }
}
