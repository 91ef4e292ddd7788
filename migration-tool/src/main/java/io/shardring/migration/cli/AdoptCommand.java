package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.adopt.Adopter;
import io.shardring.migration.adopt.Adoption;
import io.shardring.migration.adopt.AdoptionPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "adopt", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Makes an application's existing database the ring's first node, while the application runs. Without"
                    + " --execute it only inspects and prints the plan: the server's prerequisites (settings that need"
                    + " a restart first), then every table: sharded (its key column in the primary key and in every"
                    + " unique constraint: ready), reference (copied whole to every node), blocked (each problem with"
                    + " the DDL that fixes it, for you to run; adopt never changes your tables) or unlisted (add it to"
                    + " tables or reference.tables); the sequences and the id range they keep; the clients that do not"
                    + " come through a router; Flyway's state; the nodes to come.",
            "With --execute: installs the shardring schema, the catalog, the ownership guard and the reference guard"
                    + " in the database (every lock with a short timeout, retried: a lock that cannot be had changes"
                    + " nothing), keeps its sequences to node ordinal 0's range, baselines Flyway's history"
                    + " (--baseline-version), records the key allocator and topology version 1 with the node owning"
                    + " the whole ring. Running it again is harmless, and finishes an adoption that was interrupted.",
            "The configuration names the database's node (catalog.node: the catalog goes there) and the nodes to"
                    + " come; split the ring afterwards with `shardring add-node B C D --execute` or `shardring"
                    + " rebalance --execute`. Exit code 3 when the plan is not executable. Guide: docs/adopting.md"},
        footerHeading = "%nExamples:%n",
        footer = {"  shardring adopt                               # the plan: findings, DDL to run, nothing changed",
            "  shardring adopt --execute",
            "  shardring adopt legacy --baseline-version 42 --execute   # Flyway history starts at version 42"})
final class AdoptCommand extends CliCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NODE", description = "The existing database's node in the"
            + " configuration (default: catalog.node, else the first node).")
    String node;

    @Option(names = "--baseline-version", paramLabel = "VERSION", description = "Baseline the application's Flyway"
            + " history at this version (the version its schema is at now), so that Flyway applies only later"
            + " migrations. Refused when the database has a history already.")
    String baselineVersion;

    @Option(names = "--execute", description = "Adopt the database; without it only the plan is printed.")
    boolean execute;

    @Override
    int execute() {
        AdoptionPlan plan = Adoption.inspect(config(), node, pools(), baselineVersion);
        if (json()) {
            ObjectNode o = object("adopt-plan");
            o.setAll(plan.toJson());
            o.put("dryRun", !execute);
            emit(o);
        } else {
            out().print(plan.render());
            out().flush();
        }
        if (plan.state() == AdoptionPlan.State.ADOPTED) {
            return ShardringCli.OK;
        }
        if (!plan.executable()) {
            throw new Refused("adoption of " + plan.node() + " is not executable: " + String.join("; ",
                    plan.blockers()));
        }
        if (!execute) {
            if (!json()) {
                say("dry run: nothing changed. Run the same command with --execute to adopt " + plan.node() + ".");
            }
            return ShardringCli.OK;
        }
        if (!json()) {
            say("");
        }
        Adopter.Listener listener = (step, event, detail) -> {
            if (json()) {
                emit(object("adopt-step").put("step", step).put("event", event).put("detail", detail));
            } else if (!event.equals("started")) {
                say(String.format("  %-8s %s%s", event, step, detail == null ? "" : ": " + detail));
            }
        };
        long version = new Adopter(config(), pools(), listener).execute(plan, baselineVersion);
        if (json()) {
            emit(object("adopted").put("node", plan.node()).put("version", version));
        } else {
            say("");
            say(plan.node() + " adopted: topology version " + version + ", the catalog in its database. Next: switch"
                    + " the application to the router (docs/adopting.md), then split with `shardring add-node ID..."
                    + " --execute` or `shardring rebalance --execute`.");
        }
        return ShardringCli.OK;
    }
}
