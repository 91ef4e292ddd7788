package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;

/**
 * The catalog: versioned topologies (and the mover's moves and journal) in a {@code shardring} schema of
 * one PostgreSQL database, by default the first shard's, managed by Flyway with its own history table.
 * Publishing a version is one transaction that requires the next version number and sends a
 * {@code NOTIFY} on {@value #CHANNEL}; routers also poll ({@link CatalogWatcher}), because
 * notifications are not durable.
 */
public final class Catalog implements TopologySource {
    public static final String CHANNEL = "shardring_topology";
    /** Payload prefix of a notification that changes no version, only a node's ownership. */
    public static final String OWNERSHIP_PREFIX = "ownership: ";
    static final String LOCATION = "classpath:io/shardring/router/topology/catalog";
    static final String HISTORY = "catalog_schema_history";

    private final DataSource ds;

    private Catalog(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Opens the catalog, creating or upgrading its schema. Refuses a catalog whose schema is newer than
     * this version of shardring knows, naming both versions.
     */
    public static Catalog open(DataSource ds) {
        Flyway flyway = Flyway.configure(Catalog.class.getClassLoader()).dataSource(ds).schemas("shardring")
                .createSchemas(true).table(HISTORY).locations(LOCATION)
                // the first shard's own shardring tables may already be in the schema, with their own history
                .baselineOnMigrate(true).baselineVersion("0").load();
        String newestKnown = null;
        for (MigrationInfo m : flyway.info().all()) {
            if (m.getVersion() != null && m.getState().isResolved()) {
                newestKnown = m.getVersion().getVersion();
            }
        }
        for (MigrationInfo m : flyway.info().applied()) {
            if (!m.getState().isResolved()) {
                throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "the catalog's schema is at version "
                        + m.getVersion() + ", newer than this shardring knows (" + newestKnown
                        + "); use a newer shardring release");
            }
        }
        try {
            flyway.migrate();
        } catch (FlywayException e) {
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot migrate the catalog schema: "
                    + e.getMessage(), e);
        }
        return new Catalog(ds);
    }

    /**
     * The catalog in {@code ds} as it is, without creating or migrating its schema: for routers, which read it and
     * need no rights to change it. Reads fail clearly while no catalog exists there.
     */
    public static Catalog attach(DataSource ds) {
        return new Catalog(ds);
    }

    public DataSource dataSource() {
        return ds;
    }

    /** Stores the first version if the catalog is empty; otherwise changes nothing and returns false. */
    public boolean initialize(Topology topology) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("LOCK TABLE shardring.topology_versions IN EXCLUSIVE MODE");
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM shardring.topology_versions")) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        c.rollback();
                        return false;
                    }
                }
            }
            insert(c, topology, "initial topology");
            c.commit();
            return true;
        } catch (SQLException e) {
            throw error("initialize the catalog", e);
        }
    }

    /** The newest version number, or 0 for an empty catalog. */
    public long version() {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM shardring.topology_versions")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw error("read the topology version", e);
        }
    }

    /** The newest topology. */
    @Override
    public Topology load() {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT version, document FROM shardring.topology_versions ORDER BY version DESC LIMIT 1")) {
            if (!rs.next()) {
                throw new ConfigurationException("the catalog holds no topology yet; run `shardring init` with a"
                        + " configuration file first");
            }
            return parse(rs.getString(2), "catalog version " + rs.getLong(1));
        } catch (SQLException e) {
            throw error("load the topology", e);
        }
    }

    /** One stored version. */
    public Topology load(long version) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT document FROM shardring.topology_versions WHERE version = ?")) {
            ps.setLong(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ConfigurationException("the catalog has no topology version " + version);
                }
                return parse(rs.getString(1), "catalog version " + version);
            }
        } catch (SQLException e) {
            throw error("load topology version " + version, e);
        }
    }

    /**
     * Wakes every router that follows the catalog without publishing a version: a router waiting out a cutover
     * tries the key's owner again at once. The mover sends it when a failed cutover gave fenced ranges back.
     */
    public void notifyRouters(String why) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, CHANNEL);
            ps.setString(2, OWNERSHIP_PREFIX + why);
            ps.executeQuery().close();
        } catch (SQLException e) {
            throw error("notify routers", e);
        }
    }

    /** Publishes {@code next}, which must be the newest version + 1, and notifies routers; one transaction. */
    public void publish(Topology next, String change) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                publish(c, next, change);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw error("publish topology version " + next.version(), e);
        }
    }

    /** Publishes within the caller's transaction on a catalog connection. */
    public void publish(Connection c, Topology next, String change) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LOCK TABLE shardring.topology_versions IN EXCLUSIVE MODE");
            try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM shardring.topology_versions")) {
                rs.next();
                long current = rs.getLong(1);
                if (next.version() != current + 1) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "cannot publish topology version "
                            + next.version() + ": the catalog is at version " + current + "; plan again from it");
                }
            }
        }
        insert(c, next, change);
    }

    private static void insert(Connection c, Topology t, String change) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.topology_versions (version, document, change) VALUES (?, ?, ?)")) {
            ps.setLong(1, t.version());
            ps.setString(2, ShardringYaml.write(t.withStoredTokens(), null));
            ps.setString(3, change);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, CHANNEL);
            ps.setString(2, String.valueOf(t.version()));
            ps.executeQuery().close();
        }
    }

    /** A move that runs on this catalog: its id and the topology it moves to. */
    public record RunningMove(long id, Topology target) {
    }

    /**
     * The running move, or null when none runs; for routers that open pools ahead for the nodes it brings in.
     *
     * @throws SQLException when the catalog cannot say
     * @throws ConfigurationException when the move's target topology cannot be read
     */
    public RunningMove runningMove() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT id, target_document FROM shardring.moves WHERE state = 'running'")) {
            if (!rs.next()) {
                return null;
            }
            long id = rs.getLong(1);
            return new RunningMove(id, parse(rs.getString(2), "move " + id));
        }
    }

    /**
     * The running move job whose ranges hold the key's hash, as an operator finds it in {@code shardring status}:
     * "move 7 (set-weight ...) holds it in job 2 (a -> b), phase cutover"; null when none holds it.
     */
    public String moveHolding(long hash) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT m.id, m.change, j.job, j.source, j.target, j.phase FROM shardring.move_jobs j"
                        + " JOIN shardring.moves m ON m.id = j.move_id, json_array_elements(j.ranges::json) r"
                        + " WHERE m.state = 'running' AND j.phase NOT IN ('done', 'aborted') AND CASE"
                        + " WHEN (r->>0)::numeric < (r->>1)::numeric THEN ? > (r->>0)::numeric AND ? <= (r->>1)::numeric"
                        + " ELSE ? > (r->>0)::numeric OR ? <= (r->>1)::numeric END LIMIT 1")) {
            for (int i = 1; i <= 4; i++) {
                ps.setLong(i, hash);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return "move " + rs.getLong(1) + " (" + rs.getString(2) + ") holds it in job " + (rs.getInt(3) + 1)
                        + " (" + rs.getString(4) + " -> " + rs.getString(5) + "), phase " + rs.getString(6);
            }
        }
    }

    static Topology parse(String yaml, String source) {
        return ShardringYaml.parse(yaml, source).topology();
    }

    static ShardringException error(String what, SQLException e) {
        return new ShardringException(ErrorCode.SHARD_ERROR, "cannot " + what + " in the catalog: " + e.getMessage(),
                e);
    }
}
