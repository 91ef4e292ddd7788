package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.failover.Failover;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** failover: plans, and with --execute carries out, the promotion of a node's standby. */
@Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Makes a standby of NODE its primary. Planned (the primary answers): the primary is fenced (it owns no"
                    + " range: routers wait instead of failing), the standby replays the primary's last WAL, is"
                    + " promoted, records the node's new epoch and ranges, and the topology naming it is published."
                    + " Emergency (the primary does not answer): the standby with the highest replay LSN is promoted;"
                    + " this needs --accept-data-loss, or --synchronous-standby when the standby was synchronous.",
            "The old primary keeps the old epoch and owns nothing: routers and the tool refuse it. Prints the plan;"
                    + " --execute carries it out. Journaled in the catalog: after a crash, run the same command"
                    + " again to finish it. Exit code 3 when refused (unknown node, a URL that is not the node's"
                    + " standby, a standby lagging beyond --max-lag, a running move of the node)."},
        footerHeading = "%nExamples:%n", footer = {"  shardring failover pg-b                 # the plan",
            "  shardring failover pg-b --execute",
            "  shardring failover pg-b --execute --accept-data-loss   # the primary is gone"})
final class FailoverCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "NODE", description = "The node whose standby becomes its primary.")
    String node;

    @Option(names = "--to", paramLabel = "STANDBY_URL", description = "The standby to promote, one of the node's"
            + " standbys (default: the one with the highest replay LSN; ties: the first listed).")
    String to;

    @Option(names = "--accept-data-loss", description = "Promote although the primary does not answer and writes it"
            + " acknowledged may not have reached the standby.")
    boolean acceptDataLoss;

    @Option(names = "--synchronous-standby", description = "Assert that the standby was synchronous, so that a"
            + " promotion without the primary loses no acknowledged write.")
    boolean synchronousStandby;

    @Option(names = "--max-lag", paramLabel = "BYTES", description = "Refuse a standby whose replay lags the primary"
            + " by more bytes (default: no limit; a planned failover waits for it to catch up).")
    long maxLag = Long.MAX_VALUE;

    @Option(names = "--catch-up-seconds", paramLabel = "S", description = "How long a planned failover waits for the"
            + " standby to replay the fenced primary's WAL (default: ${DEFAULT-VALUE}).")
    int catchUpSeconds = 30;

    @Option(names = "--execute", description = "Carry out the plan (default: print it only).")
    boolean execute;

    @Override
    int execute() throws Exception {
        Topology topology = current();
        Failover failover = new Failover(catalog(), pools());
        Failover.Plan plan;
        try {
            plan = failover.plan(topology, node, catalogNode(),
                    new Failover.Options(to, acceptDataLoss, synchronousStandby, maxLag));
        } catch (IllegalArgumentException refused) {
            throw new Refused(refused.getMessage());
        }
        print(plan);
        if (!execute) {
            if (!json()) {
                say("this is the plan; add --execute to carry it out");
            }
            return ShardringCli.OK;
        }
        long version = failover.execute(plan, Duration.ofSeconds(catchUpSeconds), (step, detail) -> {
            if (json()) {
                emit(object("failover-step").put("node", node).put("step", step).put("detail", detail));
            } else {
                say("  " + step + ": " + detail);
            }
        });
        if (json()) {
            emit(object("failover-done").put("node", node).put("primary", NodeConfig.maskUrl(plan.chosen()))
                    .put("epoch", plan.newEpoch()).put("version", version));
        } else {
            say("node " + node + " fails over to " + NodeConfig.maskUrl(plan.chosen()) + " at epoch "
                    + plan.newEpoch() + "; topology version " + version + ".");
        }
        return ShardringCli.OK;
    }

    private void print(Failover.Plan p) {
        if (json()) {
            ObjectNode o = object("failover-plan").put("node", p.nodeId()).put("mode", p.mode())
                    .put("from", NodeConfig.maskUrl(p.fromUrl())).put("to", NodeConfig.maskUrl(p.chosen()))
                    .put("choice", p.choice()).put("epoch", p.newEpoch()).put("primaryAnswers", p.primaryAnswers())
                    .put("primaryProblem", p.primaryProblem()).put("primaryLsn", Failover.lsnText(p.primaryLsn()))
                    .put("synchronousStandbyNames", p.synchronousStandbyNames());
            if (p.resumes() != null) {
                o.put("resumes", p.resumes());
            }
            for (Failover.Candidate k : p.candidates()) {
                ObjectNode c = o.withArray("standbys").addObject().put("url", NodeConfig.maskUrl(k.url()))
                        .put("reachable", k.reachable()).put("replayLsn", Failover.lsnText(k.replayLsn()))
                        .put("problem", k.problem());
                if (k.lagBytes() != null) {
                    c.put("lagBytes", k.lagBytes());
                }
            }
            emit(o);
            return;
        }
        if (p.resumes() != null) {
            say("failover " + p.resumes() + " of node " + p.nodeId() + " (" + p.mode() + ") is journaled as running;"
                    + " running it again finishes it: " + NodeConfig.maskUrl(p.fromUrl()) + " -> "
                    + NodeConfig.maskUrl(p.chosen()) + ", epoch " + p.newEpoch());
            return;
        }
        say(p.mode() + " failover of node " + p.nodeId() + ": " + NodeConfig.maskUrl(p.fromUrl()) + " -> "
                + NodeConfig.maskUrl(p.chosen()) + " (" + p.choice() + "), new epoch " + p.newEpoch());
        say(p.primaryAnswers() ? "  primary answers at LSN " + Failover.lsnText(p.primaryLsn())
                + "; synchronous_standby_names = '" + p.synchronousStandbyNames() + "'; it is fenced first"
                : "  primary does not answer: " + p.primaryProblem());
        for (Failover.Candidate k : p.candidates()) {
            say("  standby " + NodeConfig.maskUrl(k.url()) + ": replay LSN " + Failover.lsnText(k.replayLsn())
                    + (k.lagBytes() == null ? "" : ", " + k.lagBytes() + " bytes behind")
                    + (k.problem() == null ? "" : ", " + k.problem()));
        }
    }
}
