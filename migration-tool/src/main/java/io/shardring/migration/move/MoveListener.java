package io.shardring.migration.move;

/**
 * Hears what the mover does, for progress bars, JSON lines and tests. An exception thrown here stops
 * the mover where it is, as a crash would; {@code resume} then continues from the journal.
 */
@FunctionalInterface
public interface MoveListener {
    /**
     * @param phase  prepare, copy, cutover, verify, cleanup
     * @param event  started, progress, finished, failed, info; in cutover also fenced (the source stopped owning
     *               the ranges) and target-owns (the target owns them, the topology is not yet published)
     * @param rows   rows copied so far in the job (copy: while COPY streams, rows that reached the target
     *               uncommitted), rows deleted so far (cleanup), or -1
     * @param lagBytes replication lag of the job in bytes (copy, cutover), or -1
     */
    void on(long moveId, int job, String phase, String event, String detail, long rows, long lagBytes);

    MoveListener NONE = (m, j, p, e, d, r, l) -> { };
}
