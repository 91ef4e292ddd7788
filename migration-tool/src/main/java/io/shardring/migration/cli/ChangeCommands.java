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

    /** The node a change adds. */
    static final class NewNode {
        @Parameters(index = "0", paramLabel = "ID", description = "The new node's id (letters, digits, '-', '_').")
        String id;

        @Option(names = "--jdbc-url", required = true, paramLabel = "URL",
                description = "jdbc:postgresql://host:port/database (no credentials in it).")
        String jdbcUrl;

        @Option(names = "--user", required = true, paramLabel = "USER", description = "The database role.")
        String user;

        @Option(names = "--password-ref", paramLabel = "REF", description = "The password as a reference: '$${ENV_VAR}'"
                + " (quote it for the shell) or file:/path. Never the password itself.")
        String passwordRef;

        @Option(names = "--weight", paramLabel = "W", defaultValue = "1.0",
                description = "Share of the keyspace relative to the other nodes (default ${DEFAULT-VALUE}).")
        double weight;

        @Option(names = "--zone", paramLabel = "ZONE", description = "Failure zone, e.g. eu-1a.")
        String zone;

        NodeConfig node() {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new Refused("weight " + weight + " for node '" + id + "' is invalid; use a number greater than"
                        + " 0 (1.0 is the usual share)");
            }
            NodeConfig.Builder b = NodeConfig.builder(id).jdbcUrl(jdbcUrl).user(user).weight(weight).zone(zone);
            if (passwordRef != null) {
                Secret s = Secret.of(passwordRef);
                if (s != null && s.isLiteral()) {
                    throw new io.shardring.router.ConfigurationException("--password-ref must be a reference,"
                            + " '${ENV_VAR}' or file:/path, never the password itself");
                }
                b.password(s);
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

    /** Plans a change on the catalog's topology; a node the change adds becomes known to the pools. */
    static Plan plan(CliCommand cmd, Topology current, TopologyChange change, NodeConfig added) {
        if (added != null) {
            if (current.nodes().containsKey(added.id())) {
                throw new Refused("node '" + added.id() + "' is already in topology version " + current.version()
                        + "; choose another id, or use set-weight to change its weight");
            }
            cmd.pools().add(added);
        }
        return Planner.plan(current, change, cmd.pools());
    }

    /** A change to nodes already in the topology: its plan, or with {@code execute} the move (refused while one runs). */
    static int planOrRun(CliCommand cmd, Topology t, TopologyChange change, boolean execute) {
        if (execute) {
            cmd.refuseWhileRunning("a new move");
        }
        return printAndMaybeExecute(cmd, plan(cmd, t, change, null), execute);
    }

    /** Prints the plan; with {@code execute} runs it with progress. */
    static int printAndMaybeExecute(CliCommand cmd, Plan plan, boolean execute) {
        cmd.root().observer().planned(plan);
        List<String> stores = io.shardring.migration.replica.ReplicaStatus.storeProblems(plan.before(), cmd.env());
        if (cmd.json()) {
            ObjectNode o = CliCommand.object("plan");
            o.setAll(plan.toJson());
            o.put("dryRun", !execute);
            stores.forEach(o.putArray("replicaProblems")::add);
            cmd.emit(o);
        } else {
            cmd.out().print(plan.render());
            stores.forEach(p -> cmd.say("replicas: " + p));
            cmd.out().flush();
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
        Mover mover = cmd.mover(progress);
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
                "Adds a node to the ring: prints the plan (which key ranges move from which node, how many rows) and"
                        + " changes nothing, unless --execute is given; then moves the ranges online with progress.",
                "The new database needs wal_level=logical reachable from the sources; its schema is created by the"
                        + " move (schema.locations)."},
            footerHeading = "%nExample:%n",
            footer = {"  shardring add-node pg-d --jdbc-url jdbc:postgresql://10.0.0.4:5432/app --user app \\",
                "      --password-ref '$${PG_D_PASSWORD}' --zone eu-1c --execute"})
    static final class AddNode extends CliCommand {
        @picocli.CommandLine.Mixin
        NewNode node;

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            NodeConfig n = node.node();
            Topology t = current();
            if (execute) {
                refuseWhileRunning("a new move");
            }
            return printAndMaybeExecute(this, plan(this, t, TopologyChange.addNode(n), n), execute);
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

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            Topology t = current();
            checkKnown(t, id);
            checkNotCatalog(this, id);
            return planOrRun(this, t, TopologyChange.removeNode(id), execute);
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

        @Option(names = "--execute", description = "Run the move; without it only the plan is printed.")
        boolean execute;

        @Override
        int execute() {
            checkWeight(id, weight);
            Topology t = current();
            checkKnown(t, id);
            return planOrRun(this, t, TopologyChange.setWeight(id, weight), execute);
        }
    }

    /** The running move that removes {@code id}, refused by name: a key pinned there would have to move again. */
    static void checkNotLeaving(CliCommand cmd, String id) {
        cmd.running().filter(r -> r.change.equals("remove-node " + id)).ifPresent(r -> {
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
            return planOrRun(this, t, TopologyChange.pin(k, node), execute);
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
            return planOrRun(this, t, TopologyChange.unpin(k), execute);
        }
    }
}
