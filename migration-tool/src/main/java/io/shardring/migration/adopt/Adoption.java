package io.shardring.migration.adopt;

import io.shardring.migration.move.NodePools;
import io.shardring.migration.plan.TableRules;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.schema.Membership;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Inspects an application's existing database for {@code shardring adopt}: the server's prerequisites first (a
 * setting that needs a restart is named with how to change it), whether it already belongs to a ring, every table
 * ({@link TableRules}), the sequences and the range they keep, the clients that do not come through a router,
 * Flyway's state, and the nodes to come. Only reads.
 */
public final class Adoption {
    /** How long clients are watched for writes. */
    static final Duration CLIENT_SAMPLE = Duration.ofMillis(500);

    private Adoption() {
    }

    /**
     * The topology the adoption records as version 1: the configuration's ring settings, tables and reference tables,
     * with the adopted node alone owning the whole ring.
     */
    public static Topology firstVersion(ShardringConfig config, String nodeId) {
        Topology all = config.topology();
        RingSettings r = all.ringSettings();
        Topology.Builder b = Topology.builder().version(1).ring(r).node(all.node(nodeId));
        all.tables().forEach(b::table);
        b.referenceOf(all);
        if (!all.referenceTables().isEmpty()) {
            b.referenceNode(nodeId);
        }
        return b.build().withStoredTokens();
    }

    /**
     * Inspects the database of {@code nodeId} (the configuration's catalog node when null).
     *
     * @param baselineVersion the version to baseline the application's Flyway history at, or null
     * @throws ShardUnavailableException when the database cannot be reached
     */
    public static AdoptionPlan inspect(ShardringConfig config, String nodeId, NodePools pools,
            String baselineVersion) {
        Topology all = config.topology();
        String id = nodeId == null ? config.catalogNode() : nodeId;
        NodeConfig node = all.nodes().get(id);
        if (node == null) {
            throw new ConfigurationException("node '" + id + "' is not in the configuration; its nodes are "
                    + all.nodes().keySet() + ": name the existing database's node");
        }
        List<String> refusals = configurationRefusals(config, id);
        Map<String, CompletableFuture<AdoptionPlan.NodeToCome>> toCome = new LinkedHashMap<>();
        for (NodeConfig n : all.nodes().values()) {
            if (!n.id().equals(id)) {
                toCome.put(n.id(), CompletableFuture.supplyAsync(() -> nodeToCome(n, pools)));
            }
        }
        Connection c;
        try {
            c = pools.apply(id).getConnection();
        } catch (SQLException e) {
            throw new ShardUnavailableException(id, "cannot reach node " + id + " to adopt it: " + e.getMessage(), e);
        }
        try (c) {
            String[] server = server(c);
            int version = Integer.parseInt(server[1]);
            List<AdoptionPlan.Check> checks = prerequisites(c, version, all.nodes().size() - 1);
            Optional<Membership> member = Membership.read(c);
            long[] catalogState = catalogState(c);
            String[] adoption = adoption(c, id);
            AdoptionPlan.State state = AdoptionPlan.State.NEW;
            List<String> steps = new ArrayList<>();
            long adoptedVersion = catalogState[1];
            if (adoption != null) {
                steps.addAll(Arrays.asList(adoption[1].isEmpty() ? new String[0] : adoption[1].split(",")));
                state = adoption[0] != null ? AdoptionPlan.State.ADOPTED : AdoptionPlan.State.BEGUN;
            } else if (member.isPresent()) {
                refusals.add("the database of " + id + " is node '" + member.get().nodeId() + "' of a shardring ring"
                        + " (catalog " + member.get().catalogId() + ") already: a node of a ring cannot be adopted into"
                        + " another; adopt a database that belongs to no ring");
            } else if (catalogState[1] > 0) {
                refusals.add("the database of " + id + " holds a shardring catalog with topology version "
                        + catalogState[1] + " already (made by `shardring init`): it is a ring's catalog, not a"
                        + " database to adopt; see `shardring status`");
            } else if (shardIdentity(c) != null) {
                refusals.add("the database of " + id + " is a node of a shardring ring already (its"
                        + " shardring.shard_identity names node '" + shardIdentity(c) + "')");
            }
            Topology v1 = firstVersionOrNull(config, id, refusals);
            List<TableRules.Report> tables = v1 == null ? List.of() : TableRules.inspect(c, v1, true);
            List<SequenceRanges.Fed> sequences = v1 == null ? List.of() : SequenceRanges.find(c, v1.tables());
            if (state != AdoptionPlan.State.ADOPTED) {
                for (SequenceRanges.Fed f : sequences) {
                    if (f.pastRange(SequenceRanges.high(0))) {
                        refusals.add(String.format(Locale.ROOT, "sequence %s is at %,d, past node ordinal 0's range"
                                + " (ids 1..%,d): the ids it drew could meet another node's; give those rows ids below"
                                + " 2^%d first", f.displayName(), f.last() != null ? f.last() : f.next(),
                                SequenceRanges.high(0), SequenceRanges.BITS));
                    }
                }
            }
            String flyway = flyway(c, config, baselineVersion, refusals, state);
            List<UnroutedClients.Client> clients = UnroutedClients.list(c, CLIENT_SAMPLE);
            List<AdoptionPlan.NodeToCome> nodes = new ArrayList<>();
            toCome.values().forEach(f -> nodes.add(f.join()));
            return new AdoptionPlan(id, NodeConfig.maskUrl(node.jdbcUrl()), "PostgreSQL " + server[0], checks, tables,
                    sequences, clients, flyway, nodes, state, steps, adoptedVersion, refusals,
                    all.ringSettings().keyType().sqlType());
        } catch (SQLException e) {
            throw new ShardUnavailableException(id, "node " + id + ": inspecting the database failed: "
                    + e.getMessage(), e);
        }
    }

    private static Topology firstVersionOrNull(ShardringConfig config, String id, List<String> refusals) {
        try {
            return firstVersion(config, id);
        } catch (ConfigurationException e) {
            refusals.add(e.getMessage());
            return null;
        }
    }

    /** What the configuration must say for this database to be adopted. */
    private static List<String> configurationRefusals(ShardringConfig config, String id) {
        List<String> out = new ArrayList<>();
        Topology all = config.topology();
        if (!id.equals(config.catalogNode())) {
            out.add("the catalog goes into the adopted database, but catalog.node is " + config.catalogNode()
                    + ": set catalog.node: " + id + " in the configuration");
        }
        if (!all.referenceTables().isEmpty() && !id.equals(all.referenceNode())) {
            out.add("reference.node is " + all.referenceNode() + ", but the adopted database holds the reference"
                    + " tables' writable copy: set reference.node: " + id);
        }
        if (all.ringSettings().replicationFactor() > 1) {
            out.add("ring.replicationFactor is " + all.ringSettings().replicationFactor() + ": a ring of one node keeps"
                    + " no copies; adopt with replicationFactor 1");
        }
        if (!all.pins().isEmpty()) {
            out.add("the configuration pins " + all.pins().size() + " keys: pin them with `shardring pin` once the"
                    + " ring has the nodes they go to");
        }
        return out;
    }

    private static String[] server(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT current_setting('server_version'), current_setting('server_version_num')")) {
            rs.next();
            return new String[] {rs.getString(1).split(" ")[0], rs.getString(2)};
        }
    }

    /** Settings that need a restart come first: nothing else is worth doing without them. */
    private static List<AdoptionPlan.Check> prerequisites(Connection c, int version, int nodesToCome)
            throws SQLException {
        List<AdoptionPlan.Check> out = new ArrayList<>();
        out.add(new AdoptionPlan.Check("server version", version >= 150000, "PostgreSQL " + version / 10000,
                "moves need PostgreSQL 15 or later (row filters in logical replication): upgrade the server"));
        String wal = setting(c, "wal_level");
        out.add(new AdoptionPlan.Check("wal_level", "logical".equals(wal), wal, "set wal_level = logical (ALTER"
                + " SYSTEM SET wal_level = logical) and restart the server: moves copy by logical replication"));
        // each node to come takes a move's slot while it fills, and a slot for its copy of the reference tables
        int needed = Math.max(2, 2 * nodesToCome + 1);
        int slots = Integer.parseInt(setting(c, "max_replication_slots"));
        out.add(new AdoptionPlan.Check("max_replication_slots", slots >= needed, slots + " (needs " + needed + ")",
                "set max_replication_slots = " + needed + " or more and restart the server"));
        int senders = Integer.parseInt(setting(c, "max_wal_senders"));
        out.add(new AdoptionPlan.Check("max_wal_senders", senders >= needed, senders + " (needs " + needed + ")",
                "set max_wal_senders = " + needed + " or more and restart the server"));
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_user, rolsuper,"
                + " rolreplication, has_database_privilege(current_database(), 'CREATE') FROM pg_roles"
                + " WHERE rolname = current_user")) {
            rs.next();
            boolean ok = rs.getBoolean(2) || rs.getBoolean(3) && rs.getBoolean(4);
            out.add(new AdoptionPlan.Check("role " + rs.getString(1), ok, rs.getBoolean(2) ? "superuser"
                    : (rs.getBoolean(3) ? "REPLICATION" : "no REPLICATION") + (rs.getBoolean(4) ? ", CREATE on the"
                    + " database" : ", no CREATE on the database"), "the tool's role needs REPLICATION and CREATE on"
                    + " the database (or superuser): ALTER ROLE " + rs.getString(1) + " REPLICATION; GRANT CREATE ON"
                    + " DATABASE ... TO " + rs.getString(1)));
        }
        return out;
    }

    private static String setting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** {catalog identity present (1/0), newest topology version (0 when none)}. */
    private static long[] catalogState(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT"
                + " to_regclass('shardring.catalog_identity') IS NOT NULL,"
                + " to_regclass('shardring.topology_versions') IS NOT NULL")) {
            rs.next();
            long identity = rs.getBoolean(1) ? 1 : 0;
            if (!rs.getBoolean(2)) {
                return new long[] {identity, 0};
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT coalesce(max(version), 0) FROM shardring.topology_versions")) {
            rs.next();
            return new long[] {1, rs.getLong(1)};
        }
    }

    /** The node a ring made before membership was recorded named this database, or null. */
    private static String shardIdentity(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT to_regclass('shardring.shard_identity') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return null;
            }
        }
        Object[] identity = OwnershipGuard.identity(c);
        return identity == null ? null : (String) identity[0];
    }

    /** {finished_at or null, steps joined by ','} of this node's adoption, or null when none was begun. */
    private static String[] adoption(Connection c, String id) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT to_regclass('shardring.adoptions') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return null;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT finished_at::text, array_to_string(steps, ',')"
                + " FROM shardring.adoptions WHERE node_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
            }
        }
    }

    /** Flyway's state in words; a baseline that cannot be taken is a refusal. */
    private static String flyway(Connection c, ShardringConfig config, String baseline, List<String> refusals,
            AdoptionPlan.State state) throws SQLException {
        FlywayHistory h = FlywayHistory.read(c);
        boolean locations = !config.schemaLocations().isEmpty();
        if (h == null) {
            if (baseline != null) {
                return "no history; --execute baselines it at version " + baseline + ", so that Flyway applies only"
                        + " later migrations";
            }
            if (locations) {
                refusals.add("schema.locations is set but the database has no Flyway history: Flyway would run the"
                        + " first migration on tables that exist. Give --baseline-version with the version the schema"
                        + " is at now");
                return "no history";
            }
            return "not used (no schema.locations): a new node gets this database's own table definitions";
        }
        String max = h.maxVersion();
        if (baseline != null && state == AdoptionPlan.State.NEW) {
            if (max != null && FlywayHistory.compare(baseline, max) < 0) {
                refusals.add("--baseline-version " + baseline + " is lower than version " + max + ", already applied"
                        + " here; leave --baseline-version out (the history is kept as it is)");
            } else if (!baseline.equals(h.baseline())) {
                refusals.add("the database has a Flyway history already (" + h.describe() + "): leave"
                        + " --baseline-version out");
            }
        }
        return "history " + h.describe() + (locations ? "; schema.locations " + String.join(", ",
                config.schemaLocations()) : "");
    }

    private static AdoptionPlan.NodeToCome nodeToCome(NodeConfig n, NodePools pools) {
        String address = NodeConfig.maskUrl(n.jdbcUrl());
        try (Connection c = pools.apply(n.id()).getConnection()) {
            String[] server = server(c);
            String wal = setting(c, "wal_level");
            Optional<Membership> m = Membership.read(c);
            long tables;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_class r"
                    + " JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.relkind IN ('r', 'p')"
                    + " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'shardring')"
                    + " AND n.nspname NOT LIKE 'pg\\_%'")) {
                rs.next();
                tables = rs.getLong(1);
            }
            String detail = "reachable, PostgreSQL " + server[0] + ", wal_level " + wal + ", "
                    + (tables == 0 ? "empty" : tables + " tables")
                    + (m.isPresent() ? ", recorded as node '" + m.get().nodeId() + "' of catalog "
                            + m.get().catalogId() : "");
            return new AdoptionPlan.NodeToCome(n.id(), address, true, detail);
        } catch (SQLException | RuntimeException e) {
            return new AdoptionPlan.NodeToCome(n.id(), address, false, "not reachable now (" + e.getMessage()
                    + "); it need not be until it is added");
        }
    }
}
