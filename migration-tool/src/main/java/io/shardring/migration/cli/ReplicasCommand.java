package io.shardring.migration.cli;

import io.shardring.migration.replica.ReplicaSync;
import io.shardring.router.topology.Topology;
import picocli.CommandLine.Command;

/** replicas sync. */
@Command(name = "replicas", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Secondary copies of every arc (ring.replicationFactor >= 2), kept by logical replication in a"
                + " second database on each node (<database>_secondary).",
        subcommands = {ReplicasCommand.Sync.class})
final class ReplicasCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "sync", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Brings every secondary store in line with the catalog's topology: creates and migrates missing stores"
                        + " (schema.locations), then, for the arcs whose assignment changed only, narrows or drops"
                        + " the replication pieces that carried them (deleting the rows a store no longer keeps) and"
                        + " seeds new pieces for the arcs a store gained. Stores a change touches are not read from"
                        + " until it is done. Idempotent: run it again after a failure. Every add-node, remove-node,"
                        + " set-weight, rebalance and resume with --execute runs it at its end.",
                "The nodes' role needs CREATEDB (or create <database>_secondary by hand) and the right to create"
                        + " subscriptions (superuser, or pg_create_subscription on PostgreSQL 16+)."},
            footerHeading = "%nExamples:%n", footer = {"  shardring replicas sync", "  shardring status"})
    static final class Sync extends CliCommand {
        @Override
        int execute() {
            Topology t = current();
            refuseWhileRunning("replicas sync");
            sync(this, t);
            return ShardringCli.OK;
        }
    }

    /** Runs a sync and reports it; nothing to do (and nothing said) when the ring keeps one copy and never had more. */
    static ReplicaSync.Report sync(CliCommand cmd, Topology t) {
        ReplicaSync.Report r = new ReplicaSync(cmd.catalog(), cmd.pools(), new ReplicaSync.Options().appLocations(
                cmd.config().schemaLocations().toArray(new String[0])).environment(cmd.env()), line -> {
                    if (!cmd.json()) {
                        cmd.say(line);
                    }
                }).sync();
        if (cmd.json()) {
            cmd.emit(CliCommand.object("replicas-synced").put("version", r.version).put("created", r.created)
                    .put("narrowed", r.narrowed).put("dropped", r.dropped).put("seededShare", r.seededShare));
        }
        return r;
    }
}
