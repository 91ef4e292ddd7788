package io.shardring.migration.cli;

import io.shardring.migration.move.Mover;
import picocli.CommandLine.Option;

/** How a move runs: the options of every command that moves data. */
final class MoveOptions {
    @Option(names = "--parallel", paramLabel = "N", description = "Jobs that copy at the same time (default: one per"
            + " distinct target, at most 4). Jobs that share a target, or where one's source is the other's target,"
            + " never copy together.")
    Integer parallel;

    @Option(names = "--copy-streams", paramLabel = "N", description = "COPY pipes per job (default 1, at most 16);"
            + " each scans the source's tables for its share of the ranges, so more pay off only on idle cores.")
    Integer copyStreams;

    @Option(names = "--allow-unrouted-clients", description = "Move even while clients that do not come through a"
            + " router write to an adopted ring's nodes; after a cutover their writes to moved keys are refused"
            + " (SQLSTATE SR001).")
    boolean allowUnroutedClients;

    Mover.Options apply(Mover.Options o) {
        if (parallel != null) {
            o.parallel(parallel);
        }
        if (copyStreams != null) {
            o.copyStreams(copyStreams);
        }
        return o;
    }
}
