package io.shardring.benchmarks;

/** One event of a move, heard through the mover's listener or the CLI's observer, with the JVM's clock. */
public record MoveEvent(long nanos, int job, String phase, String event, String detail, long rows, long lag) {
}
