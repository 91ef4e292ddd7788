package io.shardring.migration.move;

import java.util.Locale;

/**
 * Where a move's job stands, as {@code shardring.move_jobs.phase} records it (in lower case: {@code verify_failed}).
 * A job goes prepare, copy, check, cutover, verify, cleanup, done; or stops in verify_failed, or is aborted.
 */
enum Phase {
    PREPARE, COPY, CHECK, CUTOVER, VERIFY, VERIFY_FAILED, CLEANUP, DONE, ABORTED;

    private final String sql = name().toLowerCase(Locale.ROOT);

    /** As the catalog stores it, the journal and status show it. */
    String sql() {
        return sql;
    }

    /** Whether the target owns the job's ranges in the published topology once the job reached this phase. */
    boolean cutOver() {
        return this == VERIFY || this == VERIFY_FAILED || this == CLEANUP || this == DONE;
    }

    static Phase of(String stored) {
        for (Phase p : values()) {
            if (p.sql.equals(stored)) {
                return p;
            }
        }
        throw new IllegalStateException("unknown phase '" + stored + "' in shardring.move_jobs: a newer shardring"
                + " wrote it; use that version to resume or abort the move");
    }

    @Override
    public String toString() {
        return sql;
    }
}
