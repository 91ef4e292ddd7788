package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.schema.MigrationReport;
import io.shardring.router.topology.Topology;
import picocli.CommandLine.Command;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Schema migrations of the application on every shard.",
        subcommands = SchemaCommand.Migrate.class,
        footerHeading = "%nExample:%n", footer = "  shardring schema migrate")
final class SchemaCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a subcommand: migrate");
    }

    @Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Runs Flyway with the configuration's schema.locations on every node of the catalog's topology (or of"
                        + " the configuration, when the catalog is empty), in parallel, and reports per shard. Also"
                        + " keeps the shardring schema and the ownership guard current.",
                "Refused while a move runs: logical replication needs the same table definitions on both sides."},
            footerHeading = "%nExample:%n",
            footer = "  shardring schema migrate --config shardring.yaml --output text")
    static final class Migrate extends CliCommand {
        @Override
        int execute() {
            Topology t;
            if (catalog().version() == 0) {
                t = config().topology();
            } else {
                refuseWhileRunning("schema migrate");
                t = current();
            }
            MigrationReport report = InitCommand.migrate(t, this);
            if (json()) {
                ObjectNode o = object("schema-migrate");
                o.put("version", t.version());
                o.set("schema", InitCommand.reportJson(report));
                o.put("ok", report.isSuccess());
                emit(o);
            } else {
                say("schema migrate on " + t.nodes().size() + " nodes of topology version " + t.version());
                InitCommand.printReport(this, report);
            }
            return report.isSuccess() ? ShardringCli.OK : ShardringCli.FAILED;
        }
    }
}
