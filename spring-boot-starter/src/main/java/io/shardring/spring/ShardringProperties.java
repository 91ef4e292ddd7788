package io.shardring.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code shardring.*} in application.yaml: either {@code shardring.config} naming a {@code shardring.yaml}, or the
 * same fields as that file inline ({@code shardring.ring}, {@code shardring.nodes}, ...), never both. Inline fields
 * go through the same validation as the file (docs/configuration.md); the starter's own settings are
 * {@code enabled}, {@code config}, {@code start-without-catalog}, {@code flyway}, {@code web} and {@code health}.
 */
@ConfigurationProperties(prefix = "shardring", ignoreUnknownFields = false)
public class ShardringProperties {
    /** Whether the starter configures shardring at all. */
    private boolean enabled = true;
    /**
     * A shardring.yaml to read: classpath:shardring.yaml, file:/etc/app/shardring.yaml or a plain file path. Its
     * ${VAR} password references resolve from Spring's Environment (so environment variables and system properties).
     */
    private String config;
    /**
     * When the configuration names a catalog that cannot be read at start-up: true starts on the configured topology
     * and follows the catalog once it answers; false (the default) stops the application, naming the node and why.
     */
    private boolean startWithoutCatalog;

    /** Topology version of the inline configuration (the file's version field). */
    private Long version;
    private final Ring ring = new Ring();
    /** The sharded tables: every row of such a table lives on the owner of its key column's value. */
    private List<Table> tables = new ArrayList<>();
    private final Router router = new Router();
    /** One entry per shard (primary server). */
    private List<Node> nodes = new ArrayList<>();
    private final Catalog catalog = new Catalog();
    private final Schema schema = new Schema();
    private final Reference reference = new Reference();

    private final Flyway flyway = new Flyway();
    private final Web web = new Web();
    private final Health health = new Health();

    /** Whether any field of a shardring.yaml is set inline. */
    boolean hasInlineFields() {
        return version != null || ring.isSet() || !tables.isEmpty() || router.isSet() || !nodes.isEmpty()
                || catalog.node != null || !schema.locations.isEmpty() || !reference.tables.isEmpty();
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getConfig() {
        return config;
    }

    public void setConfig(String config) {
        this.config = config;
    }

    public boolean isStartWithoutCatalog() {
        return startWithoutCatalog;
    }

    public void setStartWithoutCatalog(boolean startWithoutCatalog) {
        this.startWithoutCatalog = startWithoutCatalog;
    }

    public Long getVersion() {
        return version;
    }

    public void setVersion(Long version) {
        this.version = version;
    }

    public Ring getRing() {
        return ring;
    }

    public List<Table> getTables() {
        return tables;
    }

    public void setTables(List<Table> tables) {
        this.tables = tables;
    }

    public Router getRouter() {
        return router;
    }

    public List<Node> getNodes() {
        return nodes;
    }

    public void setNodes(List<Node> nodes) {
        this.nodes = nodes;
    }

    public Catalog getCatalog() {
        return catalog;
    }

    public Schema getSchema() {
        return schema;
    }

    public Reference getReference() {
        return reference;
    }

    public Flyway getFlyway() {
        return flyway;
    }

    public Web getWeb() {
        return web;
    }

    public Health getHealth() {
        return health;
    }

    /** The ring: key type, tokens, placement and copies. */
    public static class Ring {
        /** bigint, integer, text or uuid: the SQL type of every sharded table's key column. Required. */
        private String keyType;
        /** Tokens of a node of weight 1 (default 64). */
        private Integer vnodes;
        /** allocated (default), sha256, fnv1a, murmur3 or xxh3. */
        private String placement;
        /** Copies of every key's rows, 1 (default) or more: 2 or more keeps secondary stores. */
        private Integer replicationFactor;
        /** Pinned keys (shardring pin) past which plans warn (default 100); pins are for a few large tenants. */
        private Integer maxPins;

        boolean isSet() {
            return keyType != null || vnodes != null || placement != null || replicationFactor != null
                    || maxPins != null;
        }

        public Integer getMaxPins() {
            return maxPins;
        }

        public void setMaxPins(Integer maxPins) {
            this.maxPins = maxPins;
        }

        public String getKeyType() {
            return keyType;
        }

        public void setKeyType(String keyType) {
            this.keyType = keyType;
        }

        public Integer getVnodes() {
            return vnodes;
        }

        public void setVnodes(Integer vnodes) {
            this.vnodes = vnodes;
        }

        public String getPlacement() {
            return placement;
        }

        public void setPlacement(String placement) {
            this.placement = placement;
        }

        public Integer getReplicationFactor() {
            return replicationFactor;
        }

        public void setReplicationFactor(Integer replicationFactor) {
            this.replicationFactor = replicationFactor;
        }
    }

    /** A sharded table. */
    public static class Table {
        /** table (schema public) or schema.table, exactly as created. */
        private String name;
        /** The column that holds the shard key. */
        private String keyColumn;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public String getKeyColumn() {
            return keyColumn;
        }

        public void setKeyColumn(String keyColumn) {
            this.keyColumn = keyColumn;
        }
    }

    /** How the router behaves (docs/configuration.md#router). */
    public static class Router {
        /** How long a node whose connections failed is skipped (default 5s). */
        private Duration downBackoff;
        /** How long a removed node's pool waits for borrowed connections (default 30s). */
        private Duration drainTimeout;
        /** Threads for all-shards work (default 8). */
        private Integer fanOutThreads;
        /** How long a unit of work waits out a move's cutover before it fails (default 5s). */
        private Duration cutoverWait;
        /** How often a router that follows the catalog polls it (default 1s). */
        private Duration catalogPoll;
        /** The application's zone, for NEAREST reads. */
        private String zone;
        /** Heartbeat and staleness sampling interval with replicas (default 100ms). */
        private Duration replicaInterval;
        /** The role the application connects as on every node, whatever user the catalog's topology names. */
        private String user;
        /** The password of router.user: a value (e.g. ${APP_PASSWORD}, resolved by Spring) or file:/path. */
        private String password;

        boolean isSet() {
            return downBackoff != null || drainTimeout != null || fanOutThreads != null || cutoverWait != null
                    || catalogPoll != null || zone != null || replicaInterval != null || user != null
                    || password != null;
        }

        public Duration getDownBackoff() {
            return downBackoff;
        }

        public void setDownBackoff(Duration downBackoff) {
            this.downBackoff = downBackoff;
        }

        public Duration getDrainTimeout() {
            return drainTimeout;
        }

        public void setDrainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
        }

        public Integer getFanOutThreads() {
            return fanOutThreads;
        }

        public void setFanOutThreads(Integer fanOutThreads) {
            this.fanOutThreads = fanOutThreads;
        }

        public Duration getCutoverWait() {
            return cutoverWait;
        }

        public void setCutoverWait(Duration cutoverWait) {
            this.cutoverWait = cutoverWait;
        }

        public Duration getCatalogPoll() {
            return catalogPoll;
        }

        public void setCatalogPoll(Duration catalogPoll) {
            this.catalogPoll = catalogPoll;
        }

        public String getZone() {
            return zone;
        }

        public void setZone(String zone) {
            this.zone = zone;
        }

        public Duration getReplicaInterval() {
            return replicaInterval;
        }

        public void setReplicaInterval(Duration replicaInterval) {
            this.replicaInterval = replicaInterval;
        }

        public String getUser() {
            return user;
        }

        public void setUser(String user) {
            this.user = user;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }
    }

    /** A shard (docs/configuration.md#nodes). */
    public static class Node {
        /** The node's id; never rename a node. */
        private String id;
        /** jdbc:postgresql://host:port/database, without password=. */
        private String jdbcUrl;
        /** The role to connect as. */
        private String user;
        /** A value (e.g. ${SHARD0_PASSWORD}, resolved by Spring) or file:/path; never logged. */
        private String password;
        /** The node's share of keys relative to the others (default 1.0). */
        private Double weight;
        /** Failure domain, for zone-diverse replicas. */
        private String zone;
        private final Pool pool = new Pool();
        /** JDBC URLs of physical standbys of this node, for secondary reads. */
        private List<String> standbys = new ArrayList<>();

        public String getId() {
            return id;
        }

        public void setId(String id) {
            this.id = id;
        }

        public String getJdbcUrl() {
            return jdbcUrl;
        }

        public void setJdbcUrl(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        public String getUser() {
            return user;
        }

        public void setUser(String user) {
            this.user = user;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public Double getWeight() {
            return weight;
        }

        public void setWeight(Double weight) {
            this.weight = weight;
        }

        public String getZone() {
            return zone;
        }

        public void setZone(String zone) {
            this.zone = zone;
        }

        public Pool getPool() {
            return pool;
        }

        public List<String> getStandbys() {
            return standbys;
        }

        public void setStandbys(List<String> standbys) {
            this.standbys = standbys;
        }
    }

    /** The node's HikariCP pool (docs/configuration.md#pool). */
    public static class Pool {
        /** Connections at most (default 10). */
        private Integer maximumPoolSize;
        /** Idle connections kept (default maximumPoolSize). */
        private Integer minimumIdle;
        /** How long to wait for a connection (default 5s). */
        private Duration connectionTimeout;
        /** How long a connection may sit idle (default 10m). */
        private Duration idleTimeout;
        /** How long a connection lives (default 30m). */
        private Duration maxLifetime;
        /** How long a liveness check may take (default 5s). */
        private Duration validationTimeout;

        boolean isSet() {
            return maximumPoolSize != null || minimumIdle != null || connectionTimeout != null || idleTimeout != null
                    || maxLifetime != null || validationTimeout != null;
        }

        public Integer getMaximumPoolSize() {
            return maximumPoolSize;
        }

        public void setMaximumPoolSize(Integer maximumPoolSize) {
            this.maximumPoolSize = maximumPoolSize;
        }

        public Integer getMinimumIdle() {
            return minimumIdle;
        }

        public void setMinimumIdle(Integer minimumIdle) {
            this.minimumIdle = minimumIdle;
        }

        public Duration getConnectionTimeout() {
            return connectionTimeout;
        }

        public void setConnectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = connectionTimeout;
        }

        public Duration getIdleTimeout() {
            return idleTimeout;
        }

        public void setIdleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        public Duration getMaxLifetime() {
            return maxLifetime;
        }

        public void setMaxLifetime(Duration maxLifetime) {
            this.maxLifetime = maxLifetime;
        }

        public Duration getValidationTimeout() {
            return validationTimeout;
        }

        public void setValidationTimeout(Duration validationTimeout) {
            this.validationTimeout = validationTimeout;
        }
    }

    /** Where the catalog lives. */
    public static class Catalog {
        /** The node whose database holds the catalog; set it to make the router follow the catalog. */
        private String node;

        public String getNode() {
            return node;
        }

        public void setNode(String node) {
            this.node = node;
        }
    }

    /**
     * Reference tables: tables that are not per tenant (plans, currencies), written through
     * ShardedDataSource.reference() on one node and replicated whole to every other node.
     */
    public static class Reference {
        /** The node of the writable copy; the catalog's node when not set. */
        private String node;
        /** The reference tables, as table or schema.table. */
        private List<String> tables = new ArrayList<>();

        public String getNode() {
            return node;
        }

        public void setNode(String node) {
            this.node = node;
        }

        public List<String> getTables() {
            return tables;
        }

        public void setTables(List<String> tables) {
            this.tables = tables;
        }
    }

    /** The application's Flyway locations for the shardring CLI (init, schema migrate, new nodes). */
    public static class Schema {
        /** e.g. classpath:db/migration; the starter itself migrates with spring.flyway.locations. */
        private List<String> locations = new ArrayList<>();

        public List<String> getLocations() {
            return locations;
        }

        public void setLocations(List<String> locations) {
            this.locations = locations;
        }
    }

    /** Flyway on every shard at start-up, with spring.flyway.locations (default classpath:db/migration). */
    public static class Flyway {
        /** Whether the starter migrates every shard (and secondary store) at start-up. */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** Binding the tenant of a web request (Spring MVC); off unless header or path-variable is set. */
    public static class Web {
        /** A request header holding the shard key, e.g. X-Tenant-Id. */
        private String header;
        /** A path variable holding the shard key, e.g. tenantId for /tenants/{tenantId}/orders. */
        private String pathVariable;

        public String getHeader() {
            return header;
        }

        public void setHeader(String header) {
            this.header = header;
        }

        public String getPathVariable() {
            return pathVariable;
        }

        public void setPathVariable(String pathVariable) {
            this.pathVariable = pathVariable;
        }
    }

    /** The shardring health indicator. */
    public static class Health {
        /** How long each node's check may take; a node that does not answer within it is down. */
        private Duration timeout = Duration.ofSeconds(2);

        public Duration getTimeout() {
            return timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = timeout;
        }
    }
}
