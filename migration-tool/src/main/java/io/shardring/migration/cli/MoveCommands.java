package io.shardring.migration.cli;

import io.shardring.migration.move.Mover;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** resume and abort. */
final class MoveCommands {
    private MoveCommands() {
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Continues the running move from its journal in the catalog, after a crash, a kill or a failed step"
                        + " whose cause you fixed. Phases already done are not repeated. Exit code 3 when no move"
                        + " is running.",
                "A job whose verify failed (phase verify_failed: both copies kept, both nodes fenced for its ranges)"
                        + " stops resume until you have compared the copies; then --reverify checks them again and"
                        + " continues if they are equal, or use `abort --discard-target-copy`."},
            footerHeading = "%nExamples:%n", footer = {"  shardring status && shardring resume",
                "  shardring resume --reverify      # after repairing a job whose verify failed"})
    static final class Resume extends CliCommand {
        @Option(names = "--reverify", description = "First verify again each job whose verify failed; continue if the"
                + " source's and the target's rows are now equal (exit code 1 if they still differ).")
        boolean reverify;

        @picocli.CommandLine.Mixin
        MoveOptions moves;

        @Override
        int execute() {
            current();
            Optional<Mover.RunningMove> r = running();
            if (r.isEmpty()) {
                throw new Refused("no move is running; nothing to resume");
            }
            long from = fromVersionOf(this, r.get().id);
            if (json()) {
                emit(object("move-resumed").put("move", r.get().id).put("change", r.get().change));
            } else {
                say("resuming move " + r.get().id + ": " + r.get().change);
            }
            Progress progress = new Progress(this, new HashMap<>());
            try {
                mover(progress, moves).resume(reverify);
            } finally {
                progress.close();
            }
            return ChangeCommands.finished(this, r.get().id, from);
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, sortOptions = false,
            description = {
                "Cancels a running move: jobs not yet cut over lose their subscription, publication and copied rows,"
                        + " and a fenced source gets its ranges back. Jobs already cut over STAY MOVED (their data"
                        + " lives on the new owner); to undo them, plan the reverse change.",
                "A job whose verify failed is refused unless --discard-target-copy is given: then the source's rows"
                        + " stay authoritative, the target's rows of those ranges are set aside in a table"
                        + " shardring.m<move>_j<job>_<table> on the target (writes it took after the cutover are"
                        + " there), and a topology version that gives the ranges back to the source is published.",
                "Exit code 3 when no move is running."},
            footerHeading = "%nExamples:%n", footer = {"  shardring abort", "  shardring abort --move 12",
                "  shardring abort --discard-target-copy   # a job failed verify; keep the source's rows"})
    static final class Abort extends CliCommand {
        @Option(names = "--move", paramLabel = "ID", description = "The move to abort (default: the running move).")
        Long moveId;

        @Option(names = "--discard-target-copy", description = "Also give back jobs whose verify failed: the source's"
                + " rows stay authoritative; the target's copy is set aside, not dropped.")
        boolean discardTargetCopy;

        @Override
        int execute() throws SQLException {
            current();
            Optional<Mover.RunningMove> r = running();
            if (r.isEmpty()) {
                throw new Refused("no move is running; nothing to abort");
            }
            long id = moveId == null ? r.get().id : moveId;
            if (id != r.get().id) {
                throw new Refused("move " + id + " is not running; the running move is " + r.get().id + " ("
                        + r.get().change + ")");
            }
            List<String> cutOver = new ArrayList<>();
            try (Connection c = catalog().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT job, source, target FROM shardring.move_jobs WHERE move_id = ? AND phase IN ('verify',"
                            + " 'cleanup', 'done') ORDER BY job")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        cutOver.add("job " + (rs.getInt(1) + 1) + " " + rs.getString(2) + " -> " + rs.getString(3));
                    }
                }
            }
            mover(new Progress(this, new HashMap<>())).abort(id, discardTargetCopy);
            long version = catalog().version();
            if (json()) {
                com.fasterxml.jackson.databind.node.ObjectNode o = object("move-aborted").put("move", id)
                        .put("change", r.get().change).put("version", version);
                cutOver.forEach(o.withArray("stayMoved")::add);
                emit(o);
            } else {
                say("move " + id + " (" + r.get().change + ") aborted; topology version " + version + ".");
                if (cutOver.isEmpty()) {
                    say("no job had cut over: every range stays where it was.");
                } else {
                    say("already cut over and STAYING MOVED: " + String.join(", ", cutOver) + ".");
                    say("to move them back, plan the reverse change (e.g. remove-node / set-weight) after checking"
                            + " `shardring status`.");
                }
            }
            return ShardringCli.OK;
        }
    }

    static long fromVersionOf(CliCommand cmd, long moveId) {
        try (Connection c = cmd.catalog().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT from_version FROM shardring.moves WHERE id = ?")) {
            ps.setLong(1, moveId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            return 0;
        }
    }
}
