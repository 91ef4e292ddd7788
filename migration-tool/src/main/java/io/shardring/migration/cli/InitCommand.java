package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.adopt.KeyAllocatorSetup;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.schema.Membership;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.schema.ShardMigrationResult;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import picocli.CommandLine.Command;

@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Stores the configuration's topology in the catalog (if the catalog is empty; an existing catalog is never"
                    + " overwritten), then runs the schema migrations on every node: the shardring schema, the"
                    + " application's migrations from schema.locations, the owned ranges and the ownership guard on"
                    + " every sharded table.",
            "With ring.replicationFactor >= 2 it then runs `replicas sync`: each node's secondary store"
                    + " (<database>_secondary) is created, migrated first, and seeded.",
            "With reference.tables it then runs `reference sync`: the writable copy is published on reference.node"
                    + " and every other node's copy subscribed and seeded.",
            "Every node gets its ordinal, the range of 2^48 ids its sequences draw from, and the catalog records the"
                    + " sequence that ShardedDataSource.newKey() draws new keys from.",
            "The catalog lives in the database of catalog.node (default: the first node). Safe to run again."
                    + " For an application's existing database, use `shardring adopt` instead."},
        footerHeading = "%nExample:%n",
        footer = "  shardring init --config /etc/shardring/shardring.yaml")
final class InitCommand extends CliCommand {

    @Override
    int execute() {
        Topology configured = config().topology();
        boolean stored = catalog().initialize(configured.withStoredTokens());
        Topology t = current();
        boolean differs = !stored && !sameNodes(configured, t);
        join(t, !stored);
        MigrationReport report = migrate(t, this);
        String keys = report.isSuccess() ? keyAllocator(t) : null;
        if (report.isSuccess() && t.ringSettings().replicationFactor() >= 2) {
            ReplicasCommand.sync(this, t);
        }
        if (report.isSuccess()) {
            ReferenceCommand.sync(this, t);
        }
        if (json()) {
            ObjectNode o = object("init");
            o.put("catalogNode", catalogNode());
            o.put("stored", stored);
            o.put("version", t.version());
            o.put("configDiffers", differs);
            o.set("schema", reportJson(report));
            o.put("keySequence", keys);
            o.put("ok", report.isSuccess());
            emit(o);
        } else {
            if (stored) {
                say("catalog on " + catalogNode() + ": stored topology version " + t.version() + " ("
                        + t.nodes().size() + " nodes, key type " + t.ring().keyType().sqlType() + ", "
                        + t.ring().vnodes() + " vnodes per unit of weight)");
            } else {
                say("catalog on " + catalogNode() + " already holds topology version " + t.version()
                        + "; left as it is (init never overwrites the catalog)");
                if (differs) {
                    say("note: the nodes or weights in " + configPath() + " differ from the catalog; run"
                            + " `shardring rebalance` to see the changes");
                }
            }
            printReport(this, report);
            if (keys != null) {
                say("new keys (ShardedDataSource.newKey()): from " + keys);
            }
        }
        return report.isSuccess() ? ShardringCli.OK : ShardringCli.FAILED;
    }

    /**
     * Every node gets its ordinal (its sequences' id range) and records its membership, before the migrations range
     * its sequences. A node that cannot be reached is left to the migration's report.
     */
    private void join(Topology t, boolean ringExisted) {
        NodeOrdinals ordinals = new NodeOrdinals(catalog().dataSource());
        UUID catalogId = ordinals.catalogId();
        if (ringExisted) {
            // a ring made before ordinals: its nodes drew ids from 1 each; every range starts above them
            ordinals.setZeroAside();
        }
        for (String id : t.nodes().keySet()) {
            DataSource ds = pools().apply(id);
            try {
                ShardedFlyway.shardringFlyway(ds).migrate();
            } catch (RuntimeException unreachable) {
                continue;
            }
            int ordinal = ordinals.assign(id);
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                new Membership(catalogId, id, ordinal).write(c);
                c.commit();
            } catch (SQLException e) {
                throw new ShardUnavailableException(id, "node " + id + ": cannot record its membership: "
                        + e.getMessage(), e);
            }
        }
    }

    /** The sequence new keys come from, starting above every key on every node. */
    private String keyAllocator(Topology t) {
        try {
            long max = 0;
            for (String id : t.nodes().keySet()) {
                try (Connection c = pools().apply(id).getConnection()) {
                    max = Math.max(max, KeyAllocatorSetup.maxKey(c, t));
                }
            }
            return KeyAllocatorSetup.ensure(catalog().dataSource(), t, max);
        } catch (SQLException e) {
            throw new io.shardring.router.ShardringException(io.shardring.router.ErrorCode.SHARD_ERROR,
                    "cannot record the key allocator: " + e.getMessage(), e);
        }
    }

    static boolean sameNodes(Topology a, Topology b) {
        if (!a.nodes().keySet().equals(b.nodes().keySet())) {
            return false;
        }
        return a.nodes().values().stream().allMatch(n -> n.weight() == b.node(n.id()).weight());
    }

    /** ShardedFlyway on every node of {@code t} with the configuration's schema.locations. */
    static MigrationReport migrate(Topology t, CliCommand cmd) {
        Map<String, DataSource> nodes = new LinkedHashMap<>();
        for (String id : t.nodes().keySet()) {
            nodes.put(id, cmd.pools().apply(id));
        }
        Map<String, DataSource> stores = new LinkedHashMap<>();
        if (t.ringSettings().replicationFactor() >= 2) {
            for (io.shardring.router.topology.NodeConfig n : t.nodes().values()) {
                cmd.storePools().add(n.secondaryStore());
                stores.put(n.id(), cmd.storePools().apply(n.id()));
            }
        }
        // secondary stores first (those that exist: `replicas sync` creates the others)
        return ShardedFlyway.configure(t, nodes).secondaryStores(stores)
                .locations(cmd.config().schemaLocations().toArray(new String[0])).load().migrate();
    }

    static ArrayNode reportJson(MigrationReport report) {
        ArrayNode a = JSON.createArrayNode();
        for (ShardMigrationResult r : report.results().values()) {
            ObjectNode o = a.addObject();
            o.put("node", r.nodeId());
            o.put("ok", r.isSuccess());
            o.put("migrationsApplied", r.migrationsExecuted());
            o.put("schemaVersion", r.schemaVersion());
            o.put("guardInstalled", r.guardInstalled());
            o.put("error", r.error());
        }
        return a;
    }

    static void printReport(CliCommand cmd, MigrationReport report) {
        if (cmd.config().schemaLocations().isEmpty()) {
            cmd.say("schema: no schema.locations in the configuration; only the shardring schema and the guard");
        } else {
            cmd.say("schema: " + String.join(", ", cmd.config().schemaLocations()));
        }
        int w = report.results().keySet().stream().mapToInt(String::length).max().orElse(4);
        for (ShardMigrationResult r : report.results().values()) {
            String s = r.isSuccess() ? "ok      " + r.migrationsExecuted() + " applied, schema version "
                    + (r.schemaVersion() == null ? "-" : r.schemaVersion())
                    + (r.guardInstalled() ? ", guard installed" : "") : "FAILED  " + r.error();
            cmd.say(String.format("  %-" + w + "s  %s", r.nodeId(), s));
        }
        if (!report.isSuccess()) {
            cmd.say(report.failures().size() + " of " + report.results().size() + " nodes failed; fix the cause and"
                    + " run the command again (applied migrations are not repeated)");
        }
    }
}
