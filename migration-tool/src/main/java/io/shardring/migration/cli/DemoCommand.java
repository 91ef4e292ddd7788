package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "A tour on throw-away embedded PostgreSQL 17 servers (nothing to install): starts NODES + 1 servers in"
                    + " three zones, runs init with R copies of every tenant, runs the tenant example's DAO as a live"
                    + " workload (writes on primaries, reports on secondary copies) through a router that follows"
                    + " the catalog, shows each node's share of the ring, adds the last server with add-node"
                    + " --execute while the workload runs, SIGKILLs one primary for a few seconds to show reads"
                    + " failing over, verifies, checks every acknowledged write, and ends with one line:",
            "  RESULT demo writes=.. lost=0 duplicated=0 app_errors=0 moved_share=.. planned_share=..",
            "         pause_p99_ms=.. failover_ms=..",
            "The servers and their data directories are removed at the end, or on Ctrl-C; with --keep-running the"
                    + " cluster stays up for the other commands (their --config is printed) until Ctrl-C.",
            "Needs the demo's embedded servers, which the operator jar (shardring.jar) leaves out: run it as"
                    + " ./shardring demo from a clone, which builds demo/target/shardring-demo.jar once."},
        footerHeading = "%nExample:%n",
        footer = {"  ./shardring demo --keep-running",
            "  # in another shell, with the configuration path it printed:",
            "  ./shardring status --config /tmp/shardring-demo-.../shardring.yaml"})
final class DemoCommand extends CliCommand {
    @Option(names = {"--nodes", "--shards"}, defaultValue = "4", paramLabel = "N",
            description = "Nodes in the ring at the start (default ${DEFAULT-VALUE}); one more server is added.")
    int nodes;

    @Option(names = "--tenants", defaultValue = "1000", paramLabel = "N",
            description = "Tenants of the workload, each with a customer and orders (default ${DEFAULT-VALUE}).")
    int tenants;

    @Option(names = "--replication-factor", defaultValue = "2", paramLabel = "R",
            description = "ring.replicationFactor (default ${DEFAULT-VALUE}): copies of every tenant, the first on"
                    + " its primary, the others in other nodes' secondary stores (1: no copies, no failover).")
    int replicationFactor;

    @Option(names = "--writes-per-second", defaultValue = "200", paramLabel = "W",
            description = "Orders the workload places per second, all writers together (default ${DEFAULT-VALUE}).")
    int writesPerSecond;

    @Option(names = "--standbys", defaultValue = "0", paramLabel = "N",
            description = "Physical standbys per node (default ${DEFAULT-VALUE}, at most 2): streaming copies of each"
                    + " primary made while it runs, listed under the node's standbys: so that reads can go there.")
    int standbys;

    @Option(names = "--keep-running", description = "Keep the cluster running at the end until Ctrl-C.")
    boolean keepRunning;

    /** Text unless --output json: the demo is read by people, also through a pipe. */
    @Override
    boolean json() {
        return common.output == CommonOptions.Output.json;
    }

    @Override
    int execute() throws Exception {
        if (nodes < 2 || nodes > 16) {
            throw new Refused("--nodes " + nodes + " is out of range: use 2..16");
        }
        if (tenants < 10) {
            throw new Refused("--tenants " + tenants + " is too few: use 10 or more");
        }
        if (replicationFactor < 1 || replicationFactor > nodes) {
            throw new Refused("--replication-factor " + replicationFactor + " needs 1.." + nodes + " (--nodes)");
        }
        if (standbys < 0 || standbys > 2) {
            throw new Refused("--standbys " + standbys + " is out of range: use 0..2");
        }
        if (writesPerSecond < 1 || writesPerSecond > 5000) {
            throw new Refused("--writes-per-second " + writesPerSecond + " is out of range: use 1..5000");
        }
        Iterator<DemoRunner> runners = ServiceLoader.load(DemoRunner.class).iterator();
        if (!runners.hasNext()) {
            throw new Refused("the demo's embedded PostgreSQL servers are not in this jar (shardring.jar is the"
                    + " operator CLI and carries no PostgreSQL binaries): run `./shardring demo` from a clone of"
                    + " shardring, which builds demo/target/shardring-demo.jar and puts it on the class path; or try"
                    + " the commands on real servers with `docker compose up -d` (docs/operations.md)");
        }
        return runners.next().run(new Context());
    }

    /** What the demo runner sees of this command. */
    private final class Context implements DemoRunner.Context {
        @Override
        public int nodes() {
            return nodes;
        }

        @Override
        public int tenants() {
            return tenants;
        }

        @Override
        public int replicationFactor() {
            return replicationFactor;
        }

        @Override
        public int writesPerSecond() {
            return writesPerSecond;
        }

        @Override
        public int standbys() {
            return standbys;
        }

        @Override
        public boolean keepRunning() {
            return keepRunning;
        }

        @Override
        public boolean json() {
            return DemoCommand.this.json();
        }

        @Override
        public boolean terminal() {
            return DemoCommand.this.terminal();
        }

        @Override
        public Function<String, String> env() {
            return DemoCommand.this.env();
        }

        @Override
        public PrintWriter out() {
            return DemoCommand.this.out();
        }

        @Override
        public void say(String line) {
            if (!json()) {
                DemoCommand.this.say(line);
            }
        }

        @Override
        public void step(String text) {
            if (json()) {
                emit(object("demo-step").put("step", text));
            } else {
                DemoCommand.this.say("");
                DemoCommand.this.say("==> " + text);
            }
        }

        @Override
        public void emit(ObjectNode object) {
            DemoCommand.this.emit(object);
        }

        @Override
        public ObjectNode object(String type) {
            return CliCommand.object(type);
        }

        @Override
        public int cli(List<String> args, Path config, CliObserver observer) {
            List<String> all = new ArrayList<>(args);
            all.add("--config");
            all.add(config.toString());
            all.add("--output");
            all.add(json() ? "json" : "text");
            if (common.verbose) {
                all.add("--verbose");
            }
            step("shardring " + String.join(" ", args));
            CommandLine cl = new CommandLine(new ShardringCli(env()).observe(observer));
            cl.setOut(DemoCommand.this.out());
            cl.setErr(err());
            return cl.execute(all.toArray(new String[0]));
        }

        @Override
        public RuntimeException fail(String message) {
            return new IllegalStateException(message);
        }
    }
}
