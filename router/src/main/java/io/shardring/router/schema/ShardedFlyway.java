package io.shardring.router.schema;

import io.shardring.router.ConfigurationException;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.Topology;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flyway on every shard: applies the application's migrations to all shards in parallel, installs the
 * {@code shardring} schema (its own Flyway history in that schema), records each shard's owned ranges,
 * and puts the ownership guard on every sharded table. One result per shard; a failure on one shard
 * names it and leaves the others' results as they are.
 *
 * <pre>{@code
 * MigrationReport report = ShardedFlyway.configure(shards)
 *     .locations("classpath:db/migration")
 *     .customize(c -> c.baselineOnMigrate(true))
 *     .load()
 *     .migrate()
 *     .orThrow();
 * }</pre>
 */
public final class ShardedFlyway {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedFlyway.class);
    /** Where the shardring schema's own migrations live. */
    public static final String SHARDRING_LOCATION = "classpath:io/shardring/router/schema/migration";
    public static final String SHARDRING_SCHEMA = "shardring";

    private final Topology topology;
    private final Map<String, DataSource> nodes;
    private final String[] locations;
    private final Consumer<FluentConfiguration> customizer;
    private final boolean guard;
    private final Map<String, DataSource> stores;

    private ShardedFlyway(Builder b) {
        this.stores = b.stores;
        this.topology = b.topology;
        this.nodes = b.nodes;
        this.locations = b.locations;
        this.customizer = b.customizer;
        this.guard = b.guard;
    }

    /** Migrates the shards of a router's current topology, through its pools. */
    public static Builder configure(ShardedDataSource router) {
        Topology t = router.topology();
        Map<String, DataSource> nodes = new LinkedHashMap<>();
        for (String id : t.nodes().keySet()) {
            nodes.put(id, router.node(id));
        }
        return new Builder(t, nodes).secondaryStores(router.secondaryStores());
    }

    /** Migrates the given shards (node id to data source) of {@code topology}. */
    public static Builder configure(Topology topology, Map<String, DataSource> nodes) {
        return new Builder(topology, new LinkedHashMap<>(nodes));
    }

    /** What a secondary store's entry in a {@link MigrationReport} is called. */
    public static String storeName(String nodeId) {
        return nodeId + " (secondary store)";
    }

    /**
     * Applies all pending migrations on every shard in parallel and reports per shard. Secondary stores go first: a
     * column or table added there before the primary publishes it keeps logical replication running; when a store
     * fails, the primaries are left as they are (each reported as not attempted).
     */
    public MigrationReport migrate() {
        Map<String, ShardMigrationResult> results = new LinkedHashMap<>();
        if (!stores.isEmpty()) {
            Map<String, ShardMigrationResult> first = migrateAll(stores, false);
            first.forEach((id, r) -> results.put(storeName(id), new ShardMigrationResult(storeName(id), r.isSuccess(),
                    r.migrationsExecuted(), r.schemaVersion(), false, r.error(), r.cause())));
            if (first.values().stream().anyMatch(r -> !r.isSuccess())) {
                for (String id : nodes.keySet()) {
                    results.put(id, new ShardMigrationResult(id, false, 0, null, false, "node '" + id + "': not"
                            + " migrated, because a secondary store failed first; fix it and migrate again", null));
                }
                MigrationReport report = new MigrationReport(results);
                LOG.error("schema migration stopped at the secondary stores:\n{}", report);
                return report;
            }
        }
        results.putAll(migrateAll(nodes, guard));
        MigrationReport report = new MigrationReport(results);
        LOG.info("schema migration on {} databases:\n{}", results.size(), report);
        return report;
    }

    private Map<String, ShardMigrationResult> migrateAll(Map<String, DataSource> targets, boolean withGuard) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, Math.max(1, targets.size())));
        try {
            Map<String, Future<ShardMigrationResult>> futures = new LinkedHashMap<>();
            targets.forEach((id, ds) -> futures.put(id, pool.submit(() -> migrateShard(id, ds, withGuard))));
            Map<String, ShardMigrationResult> results = new LinkedHashMap<>();
            for (Map.Entry<String, Future<ShardMigrationResult>> e : futures.entrySet()) {
                try {
                    results.put(e.getKey(), e.getValue().get());
                } catch (ExecutionException ex) {
                    results.put(e.getKey(), new ShardMigrationResult(e.getKey(), false, 0, null, false,
                            "unexpected failure: " + ex.getCause(), ex.getCause()));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    results.put(e.getKey(), new ShardMigrationResult(e.getKey(), false, 0, null, false,
                            "interrupted", ex));
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private ShardMigrationResult migrateShard(String nodeId, DataSource ds, boolean guard) {
        if (!guard && stores.get(nodeId) == ds && missingDatabase(ds)) {
            return new ShardMigrationResult(nodeId, true, 0, null, false, "node '" + nodeId + "': the secondary store"
                    + " does not exist yet; `shardring replicas sync` creates and migrates it", null);
        }
        String step = "installing the shardring schema";
        int executed = 0;
        String version = null;
        try {
            shardringFlyway(ds).migrate();
            step = "applying application migrations";
            if (locations.length > 0) {
                // the reference guard lets a migration's rows in on the writable copy and skips them on the copies,
                // which get them by replication
                FluentConfiguration cfg = Flyway.configure(getClass().getClassLoader())
                        .dataSource(migrating(ds)).locations(locations);
                customizer.accept(cfg);
                if (cfg.getSchemas().length == 0 && cfg.getDefaultSchema() == null) {
                    refuseShardringAsDefaultSchema(ds);
                }
                Flyway app = cfg.load();
                MigrateResult r = app.migrate();
                executed = r.migrationsExecuted;
                MigrationInfo current = app.info().current();
                version = current == null || current.getVersion() == null ? null : current.getVersion().getVersion();
            }
            if (guard) {
                step = "installing the ownership guard";
                installGuard(nodeId, ds);
            }
            return new ShardMigrationResult(nodeId, true, executed, version, guard, null, null);
        } catch (RuntimeException | SQLException e) {
            String msg = "node '" + nodeId + "': " + step + " failed: " + e.getMessage();
            LOG.error(msg);
            return new ShardMigrationResult(nodeId, false, executed, version, false, msg, e);
        }
    }

    /**
     * The application's migrations go to the connection's current schema. For a role named like the shardring
     * schema that is the shardring schema itself ({@code "$user"} leads the default search_path), where they
     * would mix with shardring's own history and tables: refused, with the ways out.
     */
    private static void refuseShardringAsDefaultSchema(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT current_schema(), current_user")) {
            rs.next();
            if (SHARDRING_SCHEMA.equals(rs.getString(1))) {
                throw new ConfigurationException("the application's migrations would go into the " + SHARDRING_SCHEMA
                        + " schema, which is the current schema of role '" + rs.getString(2) + "' (\"$user\" in its"
                        + " search_path names it): connect as a role named otherwise, or set the role's search_path"
                        + " (ALTER ROLE " + io.shardring.router.Sql.quote(rs.getString(2)) + " SET search_path = public), or name"
                        + " the schemas with ShardedFlyway.configure(...).customize(c -> c.schemas(\"public\"))");
            }
        }
    }

    /** Whether connecting fails because the database does not exist (SQLSTATE 3D000). */
    private static boolean missingDatabase(DataSource ds) {
        try (Connection c = directOrPooled(ds)) {
            return false;
        } catch (SQLException | RuntimeException e) {
            for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
                if (t instanceof SQLException && "3D000".equals(((SQLException) t).getSQLState())) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * A connection outside the pool where the data source is a HikariCP pool: a pool asked for a database that does
     * not exist keeps trying for its whole connection timeout, a direct connection is refused at once.
     */
    private static Connection directOrPooled(DataSource ds) throws SQLException {
        if (!ds.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)) {
            return ds.getConnection();
        }
        com.zaxxer.hikari.HikariDataSource h = ds.unwrap(com.zaxxer.hikari.HikariDataSource.class);
        java.util.Properties props = new java.util.Properties();
        if (h.getUsername() != null) {
            props.setProperty("user", h.getUsername());
        }
        if (h.getPassword() != null) {
            props.setProperty("password", h.getPassword());
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("ApplicationName", "shardring migrate");
        return java.sql.DriverManager.getConnection(h.getJdbcUrl(), props);
    }

    private void installGuard(String nodeId, DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                Object[] identity = OwnershipGuard.identity(c);
                if (identity != null && !nodeId.equals(identity[0])) {
                    throw new ConfigurationException("node '" + nodeId + "' points at a database that shardring"
                            + " recorded as node '" + identity[0] + "'; check the node's jdbcUrl");
                }
                long stored = identity == null ? 0 : (Long) identity[1];
                if (stored < topology.version()) {
                    List<TokenRange> owned = new ArrayList<>(topology.ownedRanges(nodeId));
                    OwnershipGuard.setOwnedRanges(c, nodeId, topology.version(), topology.ring().keyType(), owned);
                } else if (stored > topology.version()) {
                    LOG.warn("node '{}' records topology version {}, newer than {}; its owned ranges are left as they"
                            + " are", nodeId, stored, topology.version());
                }
                OwnershipGuard.install(c, nodeId, topology.ring().keyType(), topology.tables());
                ReferenceGuard.install(c, nodeId, topology);
                // a sequence a migration created draws from the node's own id range before it hands out an id
                List<String> ranged = SequenceRanges.applyOwn(c, topology.tables(), OwnershipGuard.DEFAULT_LOCK_TIMEOUT);
                if (!ranged.isEmpty()) {
                    LOG.info("node '{}': sequences restricted to the node's id range: {}", nodeId, ranged);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * {@code ds} whose connections carry {@code shardring.migrating = on} while Flyway holds them, and lose it when
     * Flyway closes them: the router's pools are the application's too, so the setting must not stay on a pooled
     * session (a tenant's write there would pass the reference guard as a migration's).
     */
    static DataSource migrating(DataSource ds) {
        ClassLoader loader = ShardedFlyway.class.getClassLoader();
        return (DataSource) Proxy.newProxyInstance(loader, new Class<?>[] {DataSource.class}, (proxy, m, args) -> {
            Object result = invoke(m, ds, args);
            if (!m.getName().equals("getConnection")) {
                return result;
            }
            Connection c = (Connection) result;
            try (Statement st = c.createStatement()) {
                st.execute("SET shardring.migrating TO on");
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
            return Proxy.newProxyInstance(loader, new Class<?>[] {Connection.class}, (p, cm, cargs) -> {
                if (cm.getName().equals("close") && !c.isClosed()) {
                    try {
                        if (!c.getAutoCommit()) {
                            c.rollback(); // whatever Flyway left open: a RESET in an aborted transaction fails
                        }
                        try (Statement st = c.createStatement()) {
                            st.execute("RESET shardring.migrating");
                        }
                    } catch (SQLException e) {
                        // a connection that cannot be reset must not go back to the pool with the setting
                        if (ds.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)) {
                            ds.unwrap(com.zaxxer.hikari.HikariDataSource.class).evictConnection(c);
                            return null;
                        }
                        c.abort(Runnable::run);
                    }
                }
                return invoke(cm, c, cargs);
            });
        });
    }

    private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The Flyway instance of the shardring schema on one database. */
    public static Flyway shardringFlyway(DataSource ds) {
        return Flyway.configure(ShardedFlyway.class.getClassLoader()).dataSource(ds).schemas(SHARDRING_SCHEMA)
                .createSchemas(true).table("flyway_schema_history").locations(SHARDRING_LOCATION)
                // the catalog may share the schema on the first shard, with its own history table
                .baselineOnMigrate(true).baselineVersion("0").load();
    }

    public static final class Builder {
        private final Topology topology;
        private final Map<String, DataSource> nodes;
        private String[] locations = {"classpath:db/migration"};
        private Consumer<FluentConfiguration> customizer = c -> { };
        private boolean guard = true;
        private Map<String, DataSource> stores = Map.of();

        private Builder(Topology topology, Map<String, DataSource> nodes) {
            this.topology = topology;
            this.nodes = nodes;
        }

        /** The application's Flyway locations; default {@code classpath:db/migration}. None skips them. */
        public Builder locations(String... locations) {
            this.locations = locations.clone();
            return this;
        }

        /** Any further Flyway setting (placeholders, baseline, callbacks...) for the application's migrations. */
        public Builder customize(Consumer<FluentConfiguration> customizer) {
            this.customizer = customizer;
            return this;
        }

        /** Whether to install the ownership guard on the sharded tables (default true). */
        public Builder ownershipGuard(boolean install) {
            this.guard = install;
            return this;
        }

        /**
         * The nodes' secondary stores (node id to data source), migrated before the primaries, without the guard:
         * their rows arrive by replication, and nothing else writes there.
         */
        public Builder secondaryStores(Map<String, DataSource> stores) {
            this.stores = new LinkedHashMap<>(stores);
            return this;
        }

        public ShardedFlyway load() {
            return new ShardedFlyway(this);
        }
    }
}
