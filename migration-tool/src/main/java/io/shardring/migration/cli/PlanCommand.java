package io.shardring.migration.cli;

import io.shardring.migration.plan.TopologyChange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {
            "Prints what a change would do, without doing it: the topology versions, the share of the keyspace that"
                    + " moves, one job per (source, target) pair with its rows and ranges, warnings and errors."
                    + " Exit code 3 when the plan is not executable."},
        subcommands = {PlanCommand.AddNode.class, PlanCommand.RemoveNode.class, PlanCommand.SetWeight.class},
        footerHeading = "%nExamples:%n",
        footer = {"  shardring plan add-node pg-d --jdbc-url jdbc:postgresql://10.0.0.4:5432/app --user app \\",
            "      --password-ref '$${PG_D_PASSWORD}' --zone eu-1c",
            "  shardring plan remove-node pg-b",
            "  shardring plan set-weight pg-a 2.0 --output json"})
final class PlanCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "name the change: add-node, remove-node or set-weight");
    }

    @Command(name = "add-node", mixinStandardHelpOptions = true, sortOptions = false,
            description = "The plan of adding a node (see `shardring add-node --help`).",
            footerHeading = "%nExample:%n",
            footer = "  shardring plan add-node pg-d --jdbc-url jdbc:postgresql://10.0.0.4:5432/app --user app")
    static final class AddNode extends CliCommand {
        @CommandLine.Mixin
        ChangeCommands.NewNodes nodes;

        @Override
        int execute() {
            java.util.List<NodeConfig> added = nodes.nodes(this);
            Topology t = current();
            return ChangeCommands.printAndMaybeExecute(this, ChangeCommands.plan(this, t,
                    TopologyChange.all(added.stream().map(TopologyChange::addNode).toList()), added), false, null);
        }
    }

    @Command(name = "remove-node", mixinStandardHelpOptions = true, sortOptions = false,
            description = "The plan of removing a node.",
            footerHeading = "%nExample:%n", footer = "  shardring plan remove-node pg-b")
    static final class RemoveNode extends CliCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The node to remove.")
        String id;

        @Override
        int execute() {
            Topology t = current();
            ChangeCommands.checkKnown(t, id);
            ChangeCommands.checkNotCatalog(this, id);
            return ChangeCommands.printAndMaybeExecute(this,
                    ChangeCommands.plan(this, t, TopologyChange.removeNode(id), java.util.List.of()), false, null);
        }
    }

    @Command(name = "set-weight", mixinStandardHelpOptions = true, sortOptions = false,
            description = "The plan of changing a node's weight.",
            footerHeading = "%nExample:%n", footer = "  shardring plan set-weight pg-a 2.0")
    static final class SetWeight extends CliCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The node.")
        String id;

        @Parameters(index = "1", paramLabel = "WEIGHT", description = "The new weight, greater than 0.")
        double weight;

        @Override
        int execute() {
            ChangeCommands.checkWeight(id, weight);
            Topology t = current();
            ChangeCommands.checkKnown(t, id);
            return ChangeCommands.printAndMaybeExecute(this,
                    ChangeCommands.plan(this, t, TopologyChange.setWeight(id, weight), java.util.List.of()), false,
                    null);
        }
    }
}
