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
            "Brings the catalog's topology to the configuration file: compares the file's nodes and weights with the"
                    + " catalog, plans the FIRST needed change (additions first, then weight changes, then removals)"
                    + " and prints it; with --execute runs it. One change per run: run it again until it says"
                    + " \"balanced; nothing to move\"."},
        footerHeading = "%nExample:%n",
        footer = {"  # add pg-d to shardring.yaml, then", "  shardring rebalance              # the plan",
            "  shardring rebalance --execute    # move; repeat until balanced"})
final class RebalanceCommand extends CliCommand {
    @Option(names = "--execute", description = "Run the first change; without it only its plan is printed.")
    boolean execute;

    @Override
    int execute() {
        Topology current = current();
        Topology wanted = config().topology();
        List<TopologyChange> changes = new ArrayList<>();
        List<NodeConfig> added = new ArrayList<>();
        for (NodeConfig n : wanted.nodes().values()) {
            if (!current.nodes().containsKey(n.id())) {
                changes.add(TopologyChange.addNode(n));
                added.add(n);
            }
        }
        for (NodeConfig n : wanted.nodes().values()) {
            if (current.nodes().containsKey(n.id()) && current.node(n.id()).weight() != n.weight()) {
                changes.add(TopologyChange.setWeight(n.id(), n.weight()));
                added.add(null);
            }
        }
        for (String id : current.nodes().keySet()) {
            if (!wanted.nodes().containsKey(id)) {
                changes.add(TopologyChange.removeNode(id));
                added.add(null);
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
                    + (changes.size() == 1 ? " change:" : " changes (one per run, in this order):"));
            for (int i = 0; i < changes.size(); i++) {
                say("  " + (i + 1) + ". " + changes.get(i).describe() + (i == 0 ? "   <- this run" : ""));
            }
            say("");
        }
        TopologyChange first = changes.get(0);
        String removed = first.describe().startsWith("remove-node ") ? first.describe().substring(12) : null;
        if (removed != null) {
            ChangeCommands.checkNotCatalog(this, removed);
        }
        if (execute) {
            refuseWhileRunning("rebalance");
        }
        Plan plan = ChangeCommands.plan(this, current, first, added.get(0));
        int code = ChangeCommands.printAndMaybeExecute(this, plan, execute);
        if (code == ShardringCli.OK && changes.size() > 1) {
            if (json()) {
                emit(object("rebalance-remaining").put("remaining", changes.size() - (execute ? 1 : 0)));
            } else if (execute) {
                say((changes.size() - 1) + " more " + (changes.size() == 2 ? "change remains" : "changes remain")
                        + "; run `shardring rebalance --execute` again");
            }
        }
        return code;
    }
}
