package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.plan.Plan;
import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rebalance", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Brings the catalog's topology to the configuration file in ONE plan: every node the file adds, every"
                    + " weight it changes and every node it drops, applied in that order to the ring; the move takes"
                    + " exactly the keys whose owner differs between now and the end. Prints the plan; with --execute"
                    + " runs it. Run it again to check: it says \"balanced; nothing to move\"."},
        footerHeading = "%nExample:%n",
        footer = {"  # add pg-b, pg-c and pg-d to shardring.yaml, then", "  shardring rebalance              # the plan",
            "  shardring rebalance --execute    # one move"})
final class RebalanceCommand extends CliCommand {
    @Option(names = "--execute", description = "Run the move; without it only its plan is printed.")
    boolean execute;

    @picocli.CommandLine.Mixin
    MoveOptions moves;

    @Override
    int execute() {
        Topology current = current();
        Topology wanted = config().topology();
        List<TopologyChange> changes = new ArrayList<>();
        List<NodeConfig> added = new ArrayList<>();
        for (NodeConfig n : wanted.nodes().values()) {
            if (!current.nodes().containsKey(n.id())) {
                NodeConfig node = n.toBuilder().tokens((long[]) null).build();
                changes.add(TopologyChange.addNode(node));
                added.add(node);
            }
        }
        for (NodeConfig n : wanted.nodes().values()) {
            if (current.nodes().containsKey(n.id()) && current.node(n.id()).weight() != n.weight()) {
                changes.add(TopologyChange.setWeight(n.id(), n.weight()));
            }
        }
        for (String id : current.nodes().keySet()) {
            if (!wanted.nodes().containsKey(id)) {
                ChangeCommands.checkNotCatalog(this, id);
                changes.add(TopologyChange.removeNode(id));
            }
        }
        if (changes.isEmpty()) {
            if (json()) {
                emit(object("rebalance").put("version", current.version()).put("balanced", true));
            } else {
                say("topology version " + current.version() + " matches " + configPath() + ": balanced; nothing to move");
            }
            return ShardringCli.OK;
        }
        if (json()) {
            ObjectNode o = object("rebalance").put("version", current.version()).put("balanced", false);
            ArrayNode pending = o.putArray("changes");
            changes.forEach(c -> pending.add(c.describe()));
            emit(o);
        } else {
            say(configPath() + " differs from topology version " + current.version() + " in " + changes.size()
                    + (changes.size() == 1 ? " change" : " changes, planned as one move") + ":");
            for (int i = 0; i < changes.size(); i++) {
                say("  " + (i + 1) + ". " + changes.get(i).describe());
            }
            say("");
        }
        if (execute) {
            refuseWhileRunning("rebalance");
        }
        Plan plan = ChangeCommands.plan(this, current, TopologyChange.all(changes), added);
        return ChangeCommands.printAndMaybeExecute(this, plan, execute, moves);
    }
}
