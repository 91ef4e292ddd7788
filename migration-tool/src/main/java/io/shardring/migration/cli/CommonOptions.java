package io.shardring.migration.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes. */
final class CommonOptions {
    enum Output { text, json }

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The configuration file (default:"
            + " $SHARDRING_CONFIG, else shardring.yaml in the current directory).")
    Path config;

    @Option(names = {"-o", "--output"}, paramLabel = "text|json", description = "text, or json (one JSON object per"
            + " line). Default: text on a terminal, else json.")
    Output output;

    @Option(names = {"-v", "--verbose"}, description = "Print stack traces of errors.")
    boolean verbose;
}
