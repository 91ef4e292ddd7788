package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.move.Mover;
import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.Planner;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Secret;
import io.shardring.router.topology.Topology;
import io.shardring.migration.adopt.UnroutedClients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * add-node, remove-node and set-weight: print the plan and, with --execute, run it. The plan subcommands share
 * the option classes and {@link #plan}.
 */
final class ChangeCommands {
    private ChangeCommands() {
    }

    /** The nodes a change adds: one described by options, or several named from the configuration file. */
    static final class NewNodes {
        @Parameters(arity = "1..*", paramLabel = "ID", description = "The new node's id (letters, digits, '-', '_')."
                + " Several ids add several nodes in one plan, each as the configuration file describes it.")
        List<String> ids;

        @Option(names = "--jdbc-url", paramLabel = "URL", description = "jdbc:postgresql://host:port/database (no"
                + " credentials in it). For one node not in the configuration file; with --user.")
        String jdbcUrl;

        @Option(names = "--user", paramLabel = "USER", description = "The database role (with --jdbc-url).")
        String user;

        @Option(names = "--password-ref", paramLabel = "REF", description = "The password as a reference: '$${ENV_VAR}'"
                + " (quote it for the shell) or file:/path. Never the password itself.")
        String passwordRef;

        @Option(names = "--weight", paramLabel = "W",
                description = "Share of the keyspace relative to the other nodes (default 1.0; with --jdbc-url).")
        Double weight;

        @Option(names = "--zone", paramLabel = "ZONE", description = "Failure zone, e.g. eu-1a (with --jdbc-url).")
        String zone;

        List<NodeConfig> nodes(CliCommand cmd) {
            if (jdbcUrl != null || user != null || passwordRef != null || weight != null || zone != null) {
                if (ids.size() != 1) {
                    throw new Refused("--jdbc-url, --user, --password-ref, --weight and --zone describe one new node;"
                            + " describe several in " + cmd.configPath() + " and name them: add-node "
                            + String.join(" ", ids));
                }
                if (jdbcUrl == null || user == null) {
                    throw new io.shardring.router.ConfigurationException("a node given on the command line needs"
                            + " both --jdbc-url and --user; or describe node '" + ids.get(0) + "' in "
                            + cmd.configPath() + " and give only its id");
                }
                return List.of(described());
            }
            Map<String, NodeConfig> configured = cmd.config().topology().nodes();
            List<NodeConfig> out = new ArrayList<>();
            for (String id : ids) {
                NodeConfig n = configured.get(id);
                if (n == null) {
                    throw new Refused("node '" + id + "' is not in " + cmd.configPath() + " (its nodes: "
                            + configured.keySet() + "); add it there, or give one node with --jdbc-url and --user");
                }
                if (out.stream().anyMatch(o -> o.id().equals(id))) {
                    throw new Refused("node '" + id + "' is named twice");
                }
                out.add(n.toBuilder().tokens((long[]) null).build());
            }
            return out;
        }

        private NodeConfig described() {
            String id = ids.get(0);
            double w = weight == null ? 1.0 : weight;
            if (!(w > 0) || Double.isInfinite(w)) {
                throw new Refused("weight " + w + " for node '" + id + "' is invalid; use a number greater than"
                        + " 0 (1.0 is the usual share)");
            }
            NodeConfig.Builder b = NodeConfig.builder(id).jdbcUrl(jdbcUrl).user(user).weight(w).zone(zone);
            if (passwordRef != null) {
                Secret sec = Secret.of(passwordRef);
                if (sec != null && sec.isLiteral()) {
                    throw new io.shardring.router.ConfigurationException("--password-ref must be a reference,"
                            + " '${ENV_VAR}' or file:/path, never the password itself");
                }
                b.password(sec);
            }
            return b.build();
        }
    }

    static void checkWeight(String id, double weight) {
        if (!(weight > 0) || Double.isInfinite(weight) || Double.isNaN(weight)) {
            throw new Refused("weight " + weight + " for node '" + id + "' is invalid; use a number greater than 0"
                    + " (1.0 is the usual share); to take a node out, use remove-node");
        }
    }

    static void checkKnown(Topology t, String id) {
        if (!t.nodes().containsKey(id)) {
            throw new Refused("unknown node '" + id + "'; topology version " + t.version() + " has "
                    + t.nodes().keySet());
        }
    }

    static void checkNotCatalog(CliCommand cmd, String id) {
        if (id.equals(cmd.catalogNode())) {
            throw new Refused("node '" + id + "' holds the catalog (catalog.node); it cannot leave the ring while it"
                    + " does: keep it, or move the catalog to another node first");
        }
    }

    /** Plans a change on the catalog's topology; the nodes the change adds become known to the pools. */
    static Plan plan(CliCommand cmd, Topology current, TopologyChange change, List<NodeConfig> added) {
        for (NodeConfig n : added) {
            if (current.nodes().containsKey(n.id())) {
                throw new Refused("node '" + n.id() + "' is already in topology version " + current.version()
                        + "; choose another id, or use set-weight to change its weight");
            }
            cmd.pools().add(n);
            refuseOtherRing(cmd, n.id());
        }
        return Planner.plan(current, change, cmd.pools());
    }

    /** A new node's database that records another catalog is another ring's node, whatever its node id. */
    private static void refuseOtherRing(CliCommand cmd, String id) {
        java.util.UUID ours = new io.shardring.router.topology.NodeOrdinals(cmd.catalog().dataSource()).catalogId();
        try (java.sql.Connection c = cmd.pools().apply(id).getConnection()) {
            io.shardring.router.schema.Membership.read(c).filter(m -> !m.catalogId().equals(ours)).ifPresent(m -> {
                throw new Refused("new node " + id + ": its database is node '" + m.nodeId() + "' of another"
                        + " shardring ring (catalog " + m.catalogId() + ", this ring's is " + ours + "); give it an"
                        + " empty database");
            });
        } catch (java.sql.SQLException | RuntimeException unreachable) {
            if (unreachable instanceof Refused) {
                throw (Refused) unreachable;
            }
            // the plan says why it cannot reach the node
        }
    }

    /** A change to nodes already in the topology: its plan, or with {@code execute} the move (refused while one runs). */
    static int planOrRun(CliCommand cmd, Topology t, TopologyChange change, boolean execute, MoveOptions moves) {
        if (execute) {
            cmd.refuseWhileRunning("a new move");
        }
        return printAndMaybeExecute(cmd, plan(cmd, t, change, List.of()), execute, moves);
    }

    /** Prints the plan; with {@code execute} runs it with progress. */
    static int printAndMaybeExecute(CliCommand cmd, Plan plan, boolean execute, MoveOptions moves) {
        cmd.root().observer().planned(plan);
        List<String> stores = io.shardring.migration.replica.ReplicaStatus.storeProblems(plan.before(), cmd.env());
        Map<String, List<UnroutedClients.Client>> unrouted = unroutedClients(cmd, plan);
        if (cmd.json()) {
            ObjectNode o = CliCommand.object("plan");
            o.setAll(plan.toJson());
            o.put("dryRun", !execute);
            stores.forEach(o.putArray("replicaProblems")::add);
            ObjectNode u = o.putObject("unroutedClients");
            unrouted.forEach((node, clients) -> clients.forEach(c -> u.withArray(node).addObject()
                    .put("application", c.application()).put("address", c.address()).put("sessions", c.sessions())
                    .put("writing", c.writing())));
            cmd.emit(o);
        } else {
            cmd.out().print(plan.render());
            stores.forEach(p -> cmd.say("replicas: " + p));
            unrouted.forEach((node, clients) -> clients.forEach(c -> cmd.say("clients not on a router, on " + node
                    + ": " + c)));
            if (!unrouted.isEmpty()) {
                cmd.say("after the first cutover their writes to moved keys are refused (SQLSTATE SR001): switch"
                        + " them to the router first (docs/adopting.md)");
            }
            cmd.out().flush();
        }
        if (execute && !plan.jobs().isEmpty() && (moves == null || !moves.allowUnroutedClients)) {
            List<String> writers = new ArrayList<>();
            unrouted.forEach((node, clients) -> clients.stream().filter(c -> c.writing() > 0)
                    .forEach(c -> writers.add(node + ": " + c)));
            if (!writers.isEmpty()) {
                throw new Refused("clients that do not come through a router write to the ring's nodes ("
                        + String.join("; ", writers) + "): after the first cutover their writes to moved keys would"
                        + " be refused. Switch them to the router, or give --allow-unrouted-clients");
            }
        }
        if (!plan.isExecutable()) {
            throw new Refused("the plan is not executable: " + String.join("; ", plan.errors()));
        }
        if (plan.jobs().isEmpty()) {
            boolean changes = !plan.after().pins().equals(plan.before().pins());
            if (changes && execute) {
                cmd.mover(io.shardring.migration.move.MoveListener.NONE).publishWithoutMoves(plan);
                if (cmd.json()) {
                    cmd.emit(CliCommand.object("published").put("version", plan.before().version() + 1)
                            .put("change", plan.change()));
                } else {
                    cmd.say("no key changes owner; topology version " + plan.before().version() + " -> "
                            + (plan.before().version() + 1) + " published (" + plan.change() + ")");
                }
            } else if (!cmd.json()) {
                cmd.say(changes ? "no key changes owner; run the same command with --execute to record the change"
                        : "nothing to do: no key would change owner");
            }
            return ShardringCli.OK;
        }
        if (!execute) {
            if (cmd.json()) {
                cmd.emit(CliCommand.object("dry-run").put("changed", false));
            } else {
                cmd.say("");
                cmd.say("dry run: nothing changed. Run the same command with --execute to move the data.");
            }
            return ShardringCli.OK;
        }
        Map<Integer, Long> expected = new HashMap<>();
        int i = 0;
        for (MoveJob j : plan.jobs()) {
            expected.put(i++, j.rows());
        }
        Progress progress = new Progress(cmd, expected);
        Mover mover = cmd.mover(progress, moves);
        long id = mover.start(plan);
        if (cmd.json()) {
            cmd.emit(CliCommand.object("move-started").put("move", id).put("change", plan.change()));
        } else {
            cmd.say("");
            cmd.say("move " + id + " started: " + plan.change() + " (" + plan.jobs().size() + " jobs)");
        }
        try {
            mover.run(id);
        } finally {
            progress.close();
        }
        return finished(cmd, id, plan.before().version());
    }

    /**
     * On an adopted ring, the clients of the plan's sources that do not come through a router, by node: the adopted
     * database's application may still write there directly.
     */
    static Map<String, List<UnroutedClients.Client>> unroutedClients(CliCommand cmd, Plan plan) {
        Map<String, List<UnroutedClients.Client>> out = new java.util.LinkedHashMap<>();
        if (plan.jobs().isEmpty() || !adopted(cmd)) {
            return out;
        }
        for (String node : new java.util.TreeSet<>(plan.jobs().stream().map(MoveJob::source).toList())) {
            try (java.sql.Connection c = cmd.pools().apply(node).getConnection()) {
                List<UnroutedClients.Client> clients = UnroutedClients.list(c, java.time.Duration.ofMillis(500));
                if (!clients.isEmpty()) {
                    out.put(node, clients);
                }
            } catch (java.sql.SQLException e) {
                throw new io.shardring.router.ShardUnavailableException(node, "cannot list the clients of node "
                        + node + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** Whether the ring began as an adopted database. */
    static boolean adopted(CliCommand cmd) {
        try (java.sql.Connection c = cmd.catalog().dataSource().getConnection();
                java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(
                        "SELECT EXISTS (SELECT 1 FROM shardring.adoptions WHERE finished_at IS NOT NULL)")) {
            return rs.next() && rs.getBoolean(1);
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    static int finished(CliCommand cmd, long id, long fromVersion) {
        long version = cmd.catalog().version();
        Topology t = cmd.catalog().load();
        if (t.ringSettings().replicationFactor() >= 2) {
            ReplicasCommand.sync(cmd, t); // the copies follow the rebalance: only arcs that changed are copied
        }
        ReferenceCommand.sync(cmd, t); // a node that left: its slot on the reference node goes
        if (cmd.json()) {
            cmd.emit(CliCommand.object("move-done").put("move", id).put("fromVersion", fromVersion)
                    .put("version", version));
        } else {
            cmd.say("move " + id + " done: topology version " + fromVersion + " -> " + version
                    + ". Check with `shardring verify`.");
        }
        return ShardringCli.OK;
    }

    @Command(name = "add-node", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Adds one or more nodes to the ring: prints the plan (which key ranges move from which node, how many"
                        + " rows) and changes nothing, unless --execute is given; then moves the ranges online with"
                        + " progress.",
                "Several ids add several nodes in ONE plan: it moves exactly the keys whose owner changes between now"
                        + " and the end (75%% of the keys for one node split into four, where three runs would copy"
                        + " 1/2 + 1/3 + 1/4 of them), and jobs to different targets copy at the same time (--parallel).",
                "A new database needs wal_level=logical; its tables are created by the move: from schema.locations,"
                        + " or copied from the source's own definitions when the migrations cannot build them (an"
                        + " adopted database). It must be empty or hold the whole schema."},
            footerHeading = "%nExamples:%n",
            footer = {"  shardring add-node pg-d --jdbc-url jdbc:postgresql://10.0.0.4:5432/app --user app \\",
                "      --password-ref '$${PG_D_PASSWORD}' --zone eu-1c --execute",
                "  shardring add-node pg-b pg-c pg-d --execute     # nodes described in the configuration file"})
    static final class AddNode extends CliCommand {
        @picocli.CommandLine.Mixin
        NewNodes nodes;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            List<NodeConfig> added = nodes.nodes(this);
            Topology t = current();
            if (execute) {
                refuseWhileRunning("a new move");
            }
            List<TopologyChange> changes = new ArrayList<>();
            added.forEach(n -> changes.add(TopologyChange.addNode(n)));
            return printAndMaybeExecute(this, plan(this, t, TopologyChange.all(changes), added), execute, moves);
        }
    }

    @Command(name = "remove-node", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Removes a node from the ring: its key ranges move to the remaining nodes. Prints the plan and changes"
                        + " nothing unless --execute is given. The node's database is left as it is (its moved rows"
                        + " are deleted); take it out of the configuration file afterwards."},
            footerHeading = "%nExample:%n",
            footer = {"  shardring remove-node pg-b            # the plan", "  shardring remove-node pg-b --execute"})
    static final class RemoveNode extends CliCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The node to remove.")
        String id;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            Topology t = current();
            checkKnown(t, id);
            checkNotCatalog(this, id);
            return planOrRun(this, t, TopologyChange.removeNode(id), execute, moves);
        }
    }

    @Command(name = "set-weight", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Changes a node's weight, its share of the keyspace relative to the others (1.0 is the usual share;"
                        + " 2.0 takes about twice as much). Prints the plan and changes nothing unless --execute is"
                        + " given. A weight of 0 or less is refused (exit code 3): use remove-node."},
            footerHeading = "%nExample:%n",
            footer = "  shardring set-weight pg-a 2.0 --execute")
    static final class SetWeight extends CliCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The node.")
        String id;

        @Parameters(index = "1", paramLabel = "WEIGHT", description = "The new weight, greater than 0.")
        double weight;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            checkWeight(id, weight);
            Topology t = current();
            checkKnown(t, id);
            return planOrRun(this, t, TopologyChange.setWeight(id, weight), execute, moves);
        }
    }

    /** The running move that removes {@code id}, refused by name: a key pinned there would have to move again. */
    static void checkNotLeaving(CliCommand cmd, String id) {
        cmd.running().filter(r -> java.util.Arrays.asList(r.change.split("; ")).contains("remove-node " + id))
                .ifPresent(r -> {
            throw new Refused("node '" + id + "' is being removed by move " + r.id + "; pin the key to a node that"
                    + " stays");
        });
    }

    static Object key(Topology t, String text) {
        try {
            return t.ringSettings().keyType().parseKey(text);
        } catch (io.shardring.router.InvalidKeyException e) {
            throw new Refused(e.getMessage() + "; the ring's key type is " + t.ringSettings().keyType().sqlType());
        }
    }

    @Command(name = "pin", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Places one shard key on a named node, overriding the ring: for a tenant that outgrew its share."
                        + " Prints the plan (one job: the key's rows, by the key's hash) and changes nothing unless"
                        + " --execute is given; then moves the key's rows online like any range (copy, catch-up,"
                        + " fenced cutover, verify, cleanup).",
                "Later add-node, remove-node, set-weight and rebalance keep the key where it is pinned; a node with"
                        + " pinned keys cannot be removed until they are unpinned. More pins than ring.maxPins"
                        + " (default 100) make plans warn: pins are for a few large tenants."},
            footerHeading = "%nExample:%n",
            footer = {"  shardring pin 42 --node pg-e            # the plan", "  shardring pin 42 --node pg-e --execute"})
    static final class Pin extends CliCommand {
        @Parameters(index = "0", paramLabel = "KEY", description = "The shard key, as the ring's key type reads it.")
        String key;

        @Option(names = "--node", required = true, paramLabel = "ID", description = "The node that will own the key.")
        String node;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Option(names = "--execute", description = "Move the key's rows; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            Topology t = current();
            Object k = key(t, key);
            checkKnown(t, node);
            checkNotLeaving(this, node);
            io.shardring.router.ring.Pin existing = t.ring().pinOf(k);
            if (existing != null && existing.node().equals(node)) {
                say("key " + key + " is already pinned to " + node + "; nothing to do");
                return ShardringCli.OK;
            }
            return planOrRun(this, t, TopologyChange.pin(k, node), execute, moves);
        }
    }

    @Command(name = "unpin", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Gives a pinned key back to the ring: its rows move online to the owner of its arc. Prints the plan"
                        + " and changes nothing unless --execute is given."},
            footerHeading = "%nExample:%n",
            footer = "  shardring unpin 42 --execute")
    static final class Unpin extends CliCommand {
        @Parameters(index = "0", paramLabel = "KEY", description = "The pinned shard key.")
        String key;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Option(names = "--execute", description = "Move the key's rows; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            Topology t = current();
            Object k = key(t, key);
            if (t.ring().pinOf(k) == null) {
                throw new Refused("key " + key + " is not pinned" + (t.pins().isEmpty() ? ""
                        : "; pinned keys: " + (t.pins().size() <= 10 ? t.pins() : t.pins().size() + " keys")));
            }
            return planOrRun(this, t, TopologyChange.unpin(k), execute, moves);
        }
    }
}
