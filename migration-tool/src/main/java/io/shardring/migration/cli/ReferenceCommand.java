package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.reference.ReferenceSync;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Topology;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;

/** reference sync: the reference tables' copies on every node. */
@Command(name = "reference", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Reference tables (reference.tables): one writable copy on reference.node (the catalog's node"
                + " when not given), replicated whole to every other node so that tenant queries join them locally.",
        subcommands = {ReferenceCommand.Sync.class})
final class ReferenceCommand implements Runnable {
    static final Duration SEED_TIMEOUT = Duration.ofMinutes(30);

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "sync", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Brings every node's copy of the reference tables in line with the catalog's topology: checks that"
                        + " each table exists with a primary key on every node (refused, naming the table and the"
                        + " node, before anything changes), installs the reference guard (writes only through"
                        + " ShardedDataSource.reference() on the writable copy, none on the copies), publishes the"
                        + " tables on the reference node, subscribes every other node (its own rows replaced by the"
                        + " writable copy's) and waits for the initial copy. New tables in reference.tables start"
                        + " copying; slots of nodes that left are dropped. Idempotent.",
                "Tables the configuration file adds to reference.tables are published first as a new topology version"
                        + " (init never changes a stored catalog); taking a table out or moving reference.node is"
                        + " refused. init runs the sync, and so does the end of every move that add-node, remove-node,"
                        + " set-weight, rebalance, pin and unpin run with --execute; a move seeds the copy on a node it"
                        + " adds before that node takes tenants. Refused while a move runs."},
            footerHeading = "%nExamples:%n", footer = {"  shardring reference sync", "  shardring status"})
    static final class Sync extends CliCommand {
        @Override
        int execute() {
            refuseWhileRunning("reference sync");
            Topology t = withConfiguredTables(this, current());
            if (t.referenceTables().isEmpty()) {
                throw new Refused("topology version " + t.version() + " has no reference tables; list them under"
                        + " reference.tables in the configuration, then run `shardring reference sync`");
            }
            sync(this, t);
            return ShardringCli.OK;
        }
    }

    /**
     * The catalog's topology with the reference tables the configuration file adds, published as a new version (no
     * key moves); the catalog's own when the file adds none. Moving the writable copy to another node, and taking a
     * table out, are refused: both need the copies' data handled, which sync does not do.
     */
    static Topology withConfiguredTables(CliCommand cmd, Topology current) {
        Topology configured = cmd.config().topology();
        if (configured.referenceTables().isEmpty() || configured.referenceTables().equals(current.referenceTables())) {
            return current;
        }
        if (!configured.referenceTables().containsAll(current.referenceTables())) {
            List<Object> gone = new java.util.ArrayList<>(current.referenceTables());
            gone.removeAll(configured.referenceTables());
            throw new Refused("the configuration no longer lists reference tables " + gone + "; taking a table out of"
                    + " reference.tables is not supported: list it again");
        }
        if (current.referenceNode() != null && !current.referenceNode().equals(configured.referenceNode())) {
            throw new Refused("reference.node is " + configured.referenceNode() + " in the configuration but "
                    + current.referenceNode() + " in the catalog; moving the writable copy is not supported: set"
                    + " reference.node to " + current.referenceNode());
        }
        Topology next = current.toBuilder().version(current.version() + 1).referenceOf(configured).build();
        List<Object> added = new java.util.ArrayList<>(configured.referenceTables());
        added.removeAll(current.referenceTables());
        cmd.mover(io.shardring.migration.move.MoveListener.NONE).publish(next, "reference tables " + added + " added");
        if (!cmd.json()) {
            cmd.say("reference: topology version " + next.version() + " published with reference tables " + added
                    + " added");
        }
        return next;
    }

    /** Runs a sync and reports it; nothing to do (and nothing said) without reference tables. */
    static void sync(CliCommand cmd, Topology t) {
        if (t.referenceTables().isEmpty()) {
            return;
        }
        try {
            ReferenceSync sync = new ReferenceSync(t, cmd.pools(), SEED_TIMEOUT);
            List<String> done = sync.sync();
            if (cmd.json()) {
                ObjectNode o = CliCommand.object("reference-synced").put("node", t.referenceNode());
                done.forEach(o.putArray("steps")::add);
                lagJson(o.putArray("copies"), sync.lag());
                cmd.emit(o);
            } else {
                done.forEach(d -> cmd.say("reference: " + d));
                cmd.say("reference tables " + t.referenceTables() + ": writable on " + t.referenceNode() + ", "
                        + (t.nodes().size() - 1) + (t.nodes().size() == 2 ? " copy" : " copies") + " in sync");
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "reference sync stopped: " + e.getMessage()
                    + "; fix the cause and run `shardring reference sync` again", e);
        }
    }

    static void lagJson(ArrayNode out, List<ReferenceSync.CopyLag> lag) {
        for (ReferenceSync.CopyLag l : lag) {
            out.addObject().put("node", l.node()).put("streaming", l.streaming()).put("bytesBehind", l.bytesBehind())
                    .put("lagMillis", l.lagMillis());
        }
    }

    /** The status lines of the reference tables, or none. */
    static void print(CliCommand cmd, Topology t, List<ReferenceSync.CopyLag> lag) {
        if (t.referenceTables().isEmpty()) {
            return;
        }
        cmd.say("reference tables " + t.referenceTables() + ": writable copy on " + t.referenceNode());
        for (ReferenceSync.CopyLag l : lag) {
            cmd.say(String.format(Locale.ROOT, "  copy on %-12s %s", l.node(), l.bytesBehind() < 0
                    ? "NOT SUBSCRIBED: run `shardring reference sync`"
                    : (l.streaming() ? "streaming" : "NOT STREAMING (see the server log of " + l.node() + ")")
                            + ", " + l.bytesBehind() + " bytes behind"
                            + (l.lagMillis() == null ? "" : ", lag " + l.lagMillis() + " ms")));
        }
    }
}
