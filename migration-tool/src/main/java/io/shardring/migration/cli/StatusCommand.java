package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.StaleEpochException;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.RouterRegistry;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Shows the catalog's topology version, each node (zone, weight, masked URL, up or down by a quick"
                    + " connection, FENCED when its server records another epoch than the topology's node: an old"
                    + " primary that came back), each node's share of the keyspace as a bar, the routers that follow the catalog"
                    + " (the version each routes by; BEHIND and SILENT flagged), and the move in flight with the"
                    + " phase and rows copied of each of its jobs and its last event (e.g. a cleanup waiting for"
                    + " routers, naming them)."},
        footerHeading = "%nExample:%n",
        footer = {"  shardring status --config shardring.yaml", "  shardring status --output json | jq .nodes"})
final class StatusCommand extends CliCommand {
    static final int BAR = 24;
    /** A router not heard from for this long is reported SILENT; the mover's default grace is the same. */
    static final java.time.Duration ROUTER_GRACE = java.time.Duration.ofSeconds(30);

    /** The nodes whose server the probe refused for its epoch. */
    private final Set<String> fenced = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    int execute() throws SQLException {
        Topology t = current();
        Map<String, Double> shares = t.ring().stats().shares();
        Map<String, CompletableFuture<String>> probes = new LinkedHashMap<>();
        for (NodeConfig n : t.nodes().values()) {
            probes.put(n.id(), CompletableFuture.supplyAsync(() -> probe(n)));
        }
        List<MoveInfo> moves = moves();
        List<RouterRegistry.Entry> routers = new RouterRegistry(catalog().dataSource()).list();
        io.shardring.migration.replica.ReplicaStatus replicas = io.shardring.migration.replica.ReplicaStatus.inspect(
                catalog(), t, pools(), env());
        List<io.shardring.migration.reference.ReferenceSync.CopyLag> referenceLag = referenceLag(t);
        List<IdRange> ranges = idRanges(t, probes);
        if (json()) {
            ObjectNode o = object("status");
            o.put("version", t.version());
            o.put("catalogNode", catalogNode());
            o.put("keyType", t.ring().keyType().sqlType());
            ArrayNode tables = o.putArray("tables");
            for (ShardedTable tb : t.tables()) {
                tables.addObject().put("table", tb.displayName()).put("keyColumn", tb.keyColumn());
            }
            ArrayNode nodes = o.putArray("nodes");
            for (NodeConfig n : t.nodes().values()) {
                String problem = probes.get(n.id()).join();
                ObjectNode j = nodeJson(n);
                j.put("up", problem == null);
                j.put("fenced", fenced.contains(n.id()));
                j.put("error", problem);
                j.put("share", shares.getOrDefault(n.id(), 0.0));
                nodes.add(j);
            }
            ArrayNode ms = o.putArray("moves");
            moves.forEach(m -> ms.add(m.json()));
            ArrayNode rs = o.putArray("routers");
            for (RouterRegistry.Entry r : routers) {
                rs.addObject().put("id", r.id).put("host", r.host).put("pid", r.pid).put("version", r.version)
                        .put("lastSeenMillisAgo", r.silentMillis).put("state", routerState(r, t.version()));
            }
            ObjectNode rj = o.putObject("replicas");
            rj.put("replicationFactor", replicas.replicationFactor);
            replicas.warnings.forEach(rj.putArray("warnings")::add);
            ArrayNode stores = rj.putArray("stores");
            replicas.stores.values().forEach(st -> stores.addObject().put("node", st.node).put("version", st.version)
                    .put("problem", st.problem));
            ArrayNode links = rj.putArray("links");
            for (io.shardring.migration.replica.ReplicaStatus.Piece p : replicas.pieces) {
                links.addObject().put("piece", p.name).put("primary", p.primary).put("secondary", p.secondary)
                        .put("state", p.state).put("share", p.share).put("lagMillis", p.lagMillis)
                        .put("lagBytes", p.lagBytes).put("problem", p.problem);
            }
            if (!t.referenceTables().isEmpty()) {
                ObjectNode ref = o.putObject("reference");
                ref.put("node", t.referenceNode());
                t.referenceTables().forEach(tb -> ref.withArray("tables").add(tb.displayName()));
                ReferenceCommand.lagJson(ref.putArray("copies"), referenceLag);
            }
            ArrayNode ids = o.putArray("idRanges");
            for (IdRange r : ranges) {
                ObjectNode j = ids.addObject().put("node", r.node).put("ordinal", r.ordinal).put("problem", r.problem);
                for (SequenceRanges.Fed f : r.sequences) {
                    j.withArray("sequences").addObject().put("sequence", f.displayName()).put("last", f.last())
                            .put("used", r.ordinal == null ? 0 : f.used(r.ordinal));
                }
            }
            if (!t.pins().isEmpty()) {
                ArrayNode pins = o.putArray("pins");
                t.pins().forEach(p -> pins.addObject().put("key", p.key().toString()).put("node", p.node()));
            }
            emit(o);
            return ShardringCli.OK;
        }
        say("topology version " + t.version() + "  (catalog on " + catalogNode() + ", key type "
                + t.ring().keyType().sqlType() + ", " + t.nodes().size() + " nodes)");
        List<String> tables = new ArrayList<>();
        t.tables().forEach(tb -> tables.add(tb.displayName() + "(" + tb.keyColumn() + ")"));
        say("sharded tables: " + (tables.isEmpty() ? "none" : String.join(", ", tables)));
        say("");
        double max = shares.values().stream().mapToDouble(Double::doubleValue).max().orElse(1);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NODE", "ZONE", "WEIGHT", "SHARE", "STATE", "URL"});
        for (NodeConfig n : t.nodes().values()) {
            double share = shares.getOrDefault(n.id(), 0.0);
            String problem = probes.get(n.id()).join();
            rows.add(new String[] {n.id(), n.zone() == null ? "-" : n.zone(), fmtWeight(n.weight()),
                bar(share, max) + String.format(Locale.ROOT, " %5.1f%%", 100 * share),
                problem == null ? "up" : fenced.contains(n.id()) ? "FENCED" : "DOWN", NodeConfig.maskUrl(n.jdbcUrl())});
        }
        table(rows);
        for (NodeConfig n : t.nodes().values()) {
            String problem = probes.get(n.id()).join();
            if (problem != null) {
                say("  " + (fenced.contains(n.id()) ? "" : n.id() + " is down: ") + problem);
            }
        }
        printIdRanges(ranges);
        say("");
        printRouters(routers, t.version());
        say("");
        printReplicas(replicas);
        ReferenceCommand.print(this, t, referenceLag);
        if (!t.pins().isEmpty()) {
            say("pinned keys: " + t.pins().size() + (t.pins().size() > t.ringSettings().maxPins()
                    ? " (more than ring.maxPins " + t.ringSettings().maxPins() + ")" : "") + ": "
                    + (t.pins().size() <= 10 ? t.pins() : t.pins().subList(0, 10) + " ..."));
        }
        if (moves.isEmpty()) {
            say("moves in flight: none");
        }
        for (MoveInfo m : moves) {
            m.print(this);
        }
        return ShardringCli.OK;
    }

    /** A node's ordinal and the sequences that feed its sharded tables. */
    record IdRange(String node, Integer ordinal, List<SequenceRanges.Fed> sequences, String problem) {
    }

    /** Each reachable node's sequences, as far as they have drawn from its range. */
    private List<IdRange> idRanges(Topology t, Map<String, CompletableFuture<String>> probes) {
        Map<String, Integer> ordinals;
        try {
            ordinals = new NodeOrdinals(catalog().dataSource()).active();
        } catch (RuntimeException e) {
            return List.of(); // a catalog made before ordinals: init gives them
        }
        List<IdRange> out = new ArrayList<>();
        for (NodeConfig n : t.nodes().values()) {
            if (probes.get(n.id()).join() != null) {
                continue;
            }
            try (Connection c = pools().apply(n.id()).getConnection()) {
                out.add(new IdRange(n.id(), ordinals.get(n.id()), SequenceRanges.find(c, t.tables()), null));
            } catch (SQLException | RuntimeException e) {
                out.add(new IdRange(n.id(), ordinals.get(n.id()), List.of(), e.getMessage()));
            }
        }
        return out;
    }

    private void printIdRanges(List<IdRange> ranges) {
        if (ranges.isEmpty() || ranges.stream().allMatch(r -> r.sequences.isEmpty() && r.ordinal != null)) {
            return;
        }
        List<String> each = new ArrayList<>();
        double fullest = 0;
        String fullestName = null;
        for (IdRange r : ranges) {
            each.add(r.node + " " + (r.ordinal == null ? "-" : r.ordinal));
            for (SequenceRanges.Fed f : r.sequences) {
                double used = r.ordinal == null ? 0 : f.used(r.ordinal);
                if (fullestName == null || used > fullest) {
                    fullest = used;
                    fullestName = f.displayName() + " on " + r.node;
                }
            }
        }
        say("");
        say("id ranges (node ordinals): " + String.join(", ", each) + (fullestName == null ? ""
                : String.format(Locale.ROOT, "; fullest sequence %s at %.4f%% of its node's range", fullestName,
                        100 * fullest)));
        for (IdRange r : ranges) {
            if (r.ordinal == null) {
                say("  WARNING: " + r.node + " has no ordinal: its sequences are not kept to a range of their own;"
                        + " run `shardring init` (safe to repeat) to give every node one");
                continue;
            }
            for (SequenceRanges.Fed f : r.sequences) {
                if (f.used(r.ordinal) >= SequenceRanges.WARN_SHARE) {
                    say(String.format(Locale.ROOT, "  WARNING: %s on %s has used %.1f%% of node ordinal %d's range"
                            + " (ids %d..%d, last %d): when it is used up, inserts there fail; move the node's keys to"
                            + " a new node (add-node, then remove-node %s)", f.displayName(), r.node,
                            100 * f.used(r.ordinal), r.ordinal, SequenceRanges.low(r.ordinal),
                            SequenceRanges.high(r.ordinal), f.last(), r.node));
                }
            }
            if (!r.sequences.isEmpty() && !r.sequences.stream().allMatch(f -> f.ranged(r.ordinal))) {
                say("  WARNING: sequences on " + r.node + " are not restricted to ordinal " + r.ordinal + "'s range;"
                        + " run `shardring schema migrate` (it restricts them)");
            }
        }
    }

    /** The copies' lag, or nothing with a note when the reference node cannot be read (status still answers). */
    private List<io.shardring.migration.reference.ReferenceSync.CopyLag> referenceLag(Topology t) {
        try {
            return new io.shardring.migration.reference.ReferenceSync(t, pools(), ReferenceCommand.SEED_TIMEOUT).lag();
        } catch (java.sql.SQLException | RuntimeException e) {
            if (!t.referenceTables().isEmpty() && !json()) {
                say("reference tables: cannot read the copies' lag on " + t.referenceNode() + ": " + e.getMessage());
            }
            return List.of();
        }
    }

    private void printReplicas(io.shardring.migration.replica.ReplicaStatus r) {
        if (r.replicationFactor < 2 && r.pieces.isEmpty()) {
            return;
        }
        say("replicas: replication factor " + r.replicationFactor + ", " + r.pieces.size() + " links");
        r.warnings.forEach(w -> say("  warning: " + w));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PRIMARY", "SECONDARY", "PIECE", "SHARE", "STATE", "LAG", "LAG BYTES"});
        for (io.shardring.migration.replica.ReplicaStatus.Piece p : r.pieces) {
            rows.add(new String[] {p.primary, p.secondary, p.name, String.format(Locale.ROOT, "%5.1f%%", 100 * p.share),
                p.problem != null ? "PROBLEM" : p.state, p.lagMillis < 0 ? "-" : p.lagMillis + " ms",
                p.lagBytes < 0 ? "-" : Long.toString(p.lagBytes)});
        }
        table(rows);
        for (io.shardring.migration.replica.ReplicaStatus.Piece p : r.pieces) {
            if (p.problem != null) {
                say("  " + p.name + " (" + p.primary + " -> " + p.secondary + "): " + p.problem);
            }
        }
        for (io.shardring.migration.replica.ReplicaStatus.Store st : r.stores.values()) {
            if (st.problem != null) {
                say("  secondary store of " + st.node + ": " + st.problem);
            }
        }
        say("");
    }

    /** ok, BEHIND (routes by an older version) or SILENT (not heard from within the grace period). */
    static String routerState(RouterRegistry.Entry r, long version) {
        if (r.silentMillis > ROUTER_GRACE.toMillis()) {
            return "SILENT";
        }
        return r.version < version ? "BEHIND" : "ok";
    }

    private void printRouters(List<RouterRegistry.Entry> routers, long version) {
        if (routers.isEmpty()) {
            say("routers following the catalog: none reported");
            return;
        }
        say("routers following the catalog: " + routers.size());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"  HOST", "PID", "VERSION", "LAST SEEN", "STATE"});
        for (RouterRegistry.Entry r : routers) {
            rows.add(new String[] {"  " + r.host, String.valueOf(r.pid), String.valueOf(r.version),
                String.format(Locale.ROOT, "%.1f s ago", r.silentMillis / 1000.0), routerState(r, version)});
        }
        table(rows);
        if (routers.stream().anyMatch(r -> !routerState(r, version).equals("ok"))) {
            say("  BEHIND: still routes by an older version (a move's cleanup waits for it); SILENT: not heard from"
                    + " for over " + ROUTER_GRACE.toSeconds() + " s (no longer waited for)");
        }
    }

    static String fmtWeight(double w) {
        return w == Math.rint(w) ? String.format(Locale.ROOT, "%.1f", w) : Double.toString(w);
    }

    static String bar(double share, double max) {
        int filled = max <= 0 ? 0 : (int) Math.round(BAR * share / max);
        return "█".repeat(filled) + "░".repeat(BAR - filled);
    }

    void table(List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(i == 0 ? "" : "  ").append(r[i]).append(" ".repeat(w[i] - r[i].length()));
            }
            say(sb.toString().stripTrailing());
        }
    }

    /**
     * Null when a connection and SELECT 1 work within 3 seconds, and the server records the node's epoch, else what went
     * wrong (never a password); a node whose server records another epoch is noted as fenced.
     */
    String probe(NodeConfig n) {
        Properties p = new Properties();
        p.setProperty("user", n.user());
        try {
            if (n.password() != null) {
                p.setProperty("password", n.password().resolve(env()));
            }
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        p.setProperty("connectTimeout", "3");
        p.setProperty("loginTimeout", "3");
        p.setProperty("socketTimeout", "5");
        p.setProperty("ApplicationName", "shardring status");
        try (Connection c = DriverManager.getConnection(n.jdbcUrl(), p);
                ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            rs.next();
            NodeEpoch.check(c, n.id(), n.id(), n.epoch());
            return null;
        } catch (StaleEpochException e) {
            fenced.add(n.id());
            return e.getMessage();
        } catch (SQLException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        }
    }

    /** A running move, or the last one when it did not finish cleanly. */
    static final class MoveInfo {
        long id;
        String change;
        String state;
        long fromVersion;
        String createdAt;
        final List<Object[]> jobs = new ArrayList<>();
        String[] lastEvent;

        ObjectNode json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", id);
            o.put("change", change);
            o.put("state", state);
            o.put("fromVersion", fromVersion);
            o.put("startedAt", createdAt);
            ArrayNode js = o.putArray("jobs");
            for (Object[] j : jobs) {
                js.addObject().put("job", (Integer) j[0]).put("source", (String) j[1]).put("target", (String) j[2])
                        .put("phase", (String) j[3]).put("rowsCopied", (Long) j[4]);
            }
            if (lastEvent != null) {
                o.putObject("lastEvent").put("job", lastEvent[0]).put("phase", lastEvent[1])
                        .put("event", lastEvent[2]).put("detail", lastEvent[3]).put("at", lastEvent[4]);
            }
            return o;
        }

        void print(CliCommand cmd) {
            cmd.say("move " + id + " " + state + ": " + change + " (from topology version " + fromVersion
                    + ", started " + createdAt + ")");
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"  JOB", "SOURCE", "", "TARGET", "PHASE", "ROWS COPIED"});
            for (Object[] j : jobs) {
                rows.add(new String[] {"  " + ((Integer) j[0] + 1), (String) j[1], "->", (String) j[2], (String) j[3],
                    String.format(Locale.ROOT, "%,d", (Long) j[4])});
            }
            ((StatusCommand) cmd).table(rows);
            if (lastEvent != null) {
                cmd.say("  last event: " + (lastEvent[0] == null ? "" : "job " + (Integer.parseInt(lastEvent[0]) + 1) + " ") + lastEvent[1]
                        + " " + lastEvent[2] + (lastEvent[3] == null ? "" : ": " + lastEvent[3]) + " (" + lastEvent[4]
                        + ")");
            }
            cmd.say("  it is not finished: `shardring resume` continues it, `shardring abort` cancels it");
        }
    }

    List<MoveInfo> moves() throws SQLException {
        List<MoveInfo> out = new ArrayList<>();
        try (Connection c = catalog().dataSource().getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, change, state, from_version,"
                    + " to_char(created_at, 'YYYY-MM-DD HH24:MI:SSOF') FROM shardring.moves WHERE state = 'running'"
                    + " ORDER BY id"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    MoveInfo m = new MoveInfo();
                    m.id = rs.getLong(1);
                    m.change = rs.getString(2);
                    m.state = rs.getString(3);
                    m.fromVersion = rs.getLong(4);
                    m.createdAt = rs.getString(5);
                    out.add(m);
                }
            }
            for (MoveInfo m : out) {
                try (PreparedStatement ps = c.prepareStatement("SELECT job, source, target, phase,"
                        + " coalesce(rows_copied, 0) FROM shardring.move_jobs WHERE move_id = ? ORDER BY job")) {
                    ps.setLong(1, m.id);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            m.jobs.add(new Object[] {rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getLong(5)});
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT job::text, phase, event, detail,"
                        + " to_char(at, 'YYYY-MM-DD HH24:MI:SSOF') FROM shardring.move_journal WHERE move_id = ?"
                        + " ORDER BY id DESC LIMIT 1")) {
                    ps.setLong(1, m.id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            m.lastEvent = new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5)};
                        }
                    }
                }
            }
        }
        return out;
    }
}
