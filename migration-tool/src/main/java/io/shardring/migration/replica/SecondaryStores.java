package io.shardring.migration.replica;

import io.shardring.migration.move.NodePools;
import io.shardring.migration.support.PerNode;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The secondary stores of a topology's nodes ({@code <db>_secondary}): created when missing, migrated like the
 * application's databases, and stamped with the topology version they hold, which routers compare with theirs.
 */
final class SecondaryStores {
    private final Topology topology;
    private final NodePools nodes;
    private final NodePools stores;
    private final String[] appLocations;
    private final ReplicaJournal journal;
    private final Consumer<String> progress;

    SecondaryStores(Topology topology, NodePools nodes, NodePools stores, String[] appLocations,
            ReplicaJournal journal, Consumer<String> progress) {
        this.topology = topology;
        this.nodes = nodes;
        this.stores = stores;
        this.appLocations = appLocations;
        this.journal = journal;
        this.progress = progress;
    }

    /** Every node's store, in parallel: creating a database takes about a second on a busy server. */
    void ensureAll() throws SQLException {
        PerNode.run("shardring-stores", 8, topology.nodes().values(), n -> {
            ensure(n);
            return n;
        });
    }

    /** Creates the node's secondary store if it is missing, and migrates it and the primary's shardring schema. */
    private void ensure(NodeConfig n) throws SQLException {
        String db = n.secondaryStoreDatabase();
        try (Connection c = nodes.apply(n.id()).getConnection()) {
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                ps.setString(1, db);
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (!exists) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE " + Sql.quote(db));
                } catch (SQLException e) {
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot create the secondary store " + db
                            + " of node " + n.id() + ": " + e.getMessage() + "; create the database by hand (or grant"
                            + " CREATEDB to " + n.user() + ") and run `shardring replicas sync` again", e);
                }
                journal.step(null, "store", "created database " + db + " on node " + n.id());
                progress.accept("created secondary store " + db + " on " + n.id());
            }
        }
        ShardedFlyway.shardringFlyway(nodes.apply(n.id())).migrate(); // the heartbeat table on the primary
        MigrationReport report = ShardedFlyway.configure(topology, Map.of())
                .secondaryStores(Map.of(n.id(), stores.apply(n.id()))).locations(appLocations)
                .ownershipGuard(false).load().migrate();
        if (!report.isSuccess()) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "the secondary store of node " + n.id()
                    + " could not be migrated: " + report + "; fix it and run `shardring replicas sync` again");
        }
        try (Connection c = stores.apply(n.id()).getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.secondary_store (node, topology_version) VALUES (?, NULL)"
                        + " ON CONFLICT (one) DO NOTHING")) {
            ps.setString(1, n.id());
            ps.executeUpdate();
        }
    }

    /** Stamps a store with the version it holds (null: changing). */
    void stamp(String node, Long version) throws SQLException {
        try (Connection c = stores.apply(node).getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.secondary_store SET topology_version = ?, synced_at = now()"
                        + " WHERE topology_version IS DISTINCT FROM ?")) {
            ps.setObject(1, version, Types.BIGINT);
            ps.setObject(2, version, Types.BIGINT);
            ps.executeUpdate();
        }
    }
}
