package io.shardring.migration.support;

import io.shardring.migration.cli.ShardringCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** One run of the shardring CLI in the test's own process, its output and error text captured. */
public record CliRun(List<String> args, int code, String out, String err) {

    /** Runs {@code args} as given (a test adds {@code --config} itself), resolving {@code ${VAR}} from {@code env}. */
    public static CliRun of(Map<String, String> env, List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(ShardringCli.withEnvironment(env));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args.toArray(new String[0]));
        return new CliRun(List.copyOf(args), code, out.toString(), err.toString());
    }
}
