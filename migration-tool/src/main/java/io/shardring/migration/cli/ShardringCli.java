package io.shardring.migration.cli;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code shardring} command line: catalog, status, planning and executing topology changes, verify,
 * resume, abort, schema migrations and a self-contained demo.
 *
 * <pre>{@code
 * int exit = new CommandLine(new ShardringCli()).execute("status", "--config", "shardring.yaml");
 * }</pre>
 */
@Command(name = "shardring", mixinStandardHelpOptions = true, versionProvider = ShardringCli.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Operates a shardring cluster: PostgreSQL shards on a consistent-hash ring, with online rebalancing."
                    + " Starting from an existing database: `shardring adopt` (docs/adopting.md).",
            "",
            "Every command reads the configuration file (--config, default $SHARDRING_CONFIG or ./shardring.yaml)"
                    + " and the catalog (the versioned topology) in the database of the node named by"
                    + " catalog.node (default: the first node).",
            "Output is text on a terminal and JSON lines otherwise (one object per line); --output chooses."},
        subcommands = {
            InitCommand.class, AdoptCommand.class, StatusCommand.class, PlanCommand.class, ChangeCommands.AddNode.class,
            ChangeCommands.RemoveNode.class, ChangeCommands.SetWeight.class, ChangeCommands.Pin.class,
            ChangeCommands.Unpin.class, RebalanceCommand.class,
            VerifyCommand.class, MoveCommands.Resume.class, MoveCommands.Abort.class, ReplicasCommand.class,
            ReferenceCommand.class, FailoverCommand.class,
            SchemaCommand.class,
            DemoCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {
            "  shardring demo --keep-running    # a throw-away cluster to try things on",
            "  shardring init --config shardring.yaml           # a new ring; or, for an existing database:",
            "  shardring adopt --config shardring.yaml          # the plan; then --execute",
            "  shardring status",
            "  shardring add-node pg-d --jdbc-url jdbc:postgresql://10.0.0.4:5432/app \\",
            "      --user app --password-ref '$${PG_D_PASSWORD}' --zone eu-1c   # the plan",
            "  shardring add-node pg-d ... --execute                # moves the data",
            "  shardring verify",
            "",
            "Runbook: docs/operations.md"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:failure: a step or move failed (see the message; then `resume` or `abort`)",
            "2:bad usage (unknown option, missing argument) or bad configuration",
            "3:refused: another move is running, the plan is not executable, nothing to resume, unknown node,"
                    + " node already present, last node, weight <= 0, a pin key that does not fit the key type,"
                    + " a pin to a node being removed, a node with pinned keys removed, an adoption that is not"
                    + " executable, a move of an adopted ring while clients around the router write, a failover to a"
                    + " URL that is not the node's standby or of a node a running move involves",
            "4:a node is unreachable: the message names it, its host:port and the driver's reason; start it,"
                    + " then run the command (or `resume`) again"})
public final class ShardringCli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int REFUSED = 3;
    public static final int UNREACHABLE = 4;

    private static final java.util.logging.Logger FLYWAY_LOG = java.util.logging.Logger.getLogger("org.flywaydb");

    private final Function<String, String> env;
    private CliObserver observer = CliObserver.NONE;

    @Spec
    CommandSpec spec;

    /** Reads passwords referenced as ${VAR} and SHARDRING_CONFIG from the process environment. */
    public ShardringCli() {
        this(System::getenv);
    }

    /** With another environment, for tests and embedding. */
    public ShardringCli(Function<String, String> env) {
        this.env = env;
    }

    /** With an environment given as a map. */
    public static ShardringCli withEnvironment(Map<String, String> env) {
        return new ShardringCli(env::get);
    }

    Function<String, String> env() {
        return env;
    }

    /** Reports the plans and move events of the commands this runs to {@code observer}. */
    public ShardringCli observe(CliObserver observer) {
        this.observer = observer == null ? CliObserver.NONE : observer;
        return this;
    }

    CliObserver observer() {
        return observer;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    /** The exit code for an exception: see the exit codes in {@code --help}. */
    static int exitCode(Throwable e) {
        if (e instanceof Refused) {
            return REFUSED;
        }
        if (e instanceof ShardringException) {
            ErrorCode code = ((ShardringException) e).code();
            if (code == ErrorCode.INVALID_CONFIGURATION) {
                return USAGE;
            }
            if (code == ErrorCode.RING_CONSTRAINT) {
                return REFUSED;
            }
            if (code == ErrorCode.SHARD_UNAVAILABLE) {
                return UNREACHABLE;
            }
        }
        return FAILED;
    }

    public static void main(String[] args) {
        // no SLF4J provider is bundled: libraries stay quiet and SLF4J should not complain about it
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR");
        }
        // Flyway logs through java.util.logging when SLF4J has no provider: keep only its warnings
        if (!java.util.Arrays.asList(args).contains("--verbose") && !java.util.Arrays.asList(args).contains("-v")) {
            FLYWAY_LOG.setLevel(java.util.logging.Level.WARNING);
        }
        int code = new CommandLine(new ShardringCli()).execute(args);
        System.exit(code);
    }

    /** The version from the jar's manifest, when there is one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ShardringCli.class.getPackage().getImplementationVersion();
            return new String[] {"shardring " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
