package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * The body of {@code shardring demo}, found with {@link java.util.ServiceLoader} so that the operator's CLI jar
 * carries no PostgreSQL binaries: {@code ./shardring demo} puts {@code demo/target/shardring-demo.jar} (embedded
 * servers, the tenant example and this service) on the class path beside {@code shardring.jar}.
 */
public interface DemoRunner {
    /** Runs the demo; returns the exit code. */
    int run(Context demo) throws Exception;

    /** What the demo was asked for, and the CLI it drives. */
    interface Context {
        /** Nodes in the ring at the start; one more server is started and added. */
        int nodes();

        /** Tenants the live workload writes to. */
        int tenants();

        /** ring.replicationFactor. */
        int replicationFactor();

        /** Writes per second of the live workload, all writers together. */
        int writesPerSecond();

        /** Physical standbys per node of the ring at the start. */
        int standbys();

        /** Keep the cluster running at the end until Ctrl-C. */
        boolean keepRunning();

        /** JSON lines instead of text. */
        boolean json();

        /** A terminal: progress bars, colours. */
        boolean terminal();

        /** Passwords referenced as ${VAR}. */
        Function<String, String> env();

        PrintWriter out();

        /** A line of text output (not written with JSON output). */
        void say(String line);

        /** A step heading in text output; a {"type":"demo-step"} object with JSON output. */
        void step(String text);

        /** One JSON object on one line. */
        void emit(ObjectNode object);

        /** A JSON object of the given type, to fill and {@link #emit}. */
        ObjectNode object(String type);

        /**
         * Runs another command of this CLI in-process ({@code --config config} and the demo's output format are
         * added) with the same output, and reports its plans and move events to {@code observer}; returns its exit
         * code.
         */
        int cli(List<String> args, Path config, CliObserver observer);

        /** Fails the command with exit code 1 and this message, in one line. */
        RuntimeException fail(String message);
    }
}
