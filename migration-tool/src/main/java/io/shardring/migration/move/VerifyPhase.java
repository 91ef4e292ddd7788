package io.shardring.migration.move;

import io.shardring.migration.support.Poll;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Verify: row count and an order-independent checksum per table over the job's ranges, the target's snapshot taken
 * at the cutover against the fenced source, both at once. A difference fences the target too (so the two copies stop
 * drifting apart while an operator looks) and leaves the job in {@code verify_failed}, from which only
 * {@link #reverify} or an abort that discards the target's copy lead on.
 */
final class VerifyPhase {
    /** At most this long verify waits for routers to switch to the published version before it scans. */
    private static final Duration VERIFY_DEFERS_TO_ROUTERS = Duration.ofSeconds(2);
    /** And then at most this long for the work that waited out the cutover to run on the new owner. */
    private static final Duration VERIFY_DEFERS_TO_RESUMED_WORK = Duration.ofSeconds(2);

    private VerifyPhase() {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        Connection targetSnapshot = job.snapshot;
        if (targetSnapshot == null) {
            run.journal(job, "verify", "info", "skipped: the target's cutover snapshot was lost when the mover stopped;"
                    + " the target has taken writes since");
            run.tell(job, "verify", "info", "skipped after a restart");
            return;
        }
        // the application first: let the routers switch (tens of milliseconds), and the units of work that waited
        // out the cutover resume on the new owner, before verify's scans of both nodes take the CPU
        RouterWait.until(run, job, "verify", VERIFY_DEFERS_TO_ROUTERS, false);
        awaitResumedWork(run, job);
        try (targetSnapshot; Connection source = run.node(job.source).getConnection()) {
            String difference = compare(run, job, source, targetSnapshot);
            if (difference != null) {
                failed(run, job, difference);
            }
        } finally {
            job.snapshot = null;
        }
    }

    /**
     * A router releases the units of work that waited out the cutover when it switches, and they run on the target
     * at once: waits until the transactions the routers' pools had open on the target when the routers had switched
     * have ended (router pools name their sessions {@code shardring}; the tool's, the monitor's and replication's
     * are others). Sessions of another role are invisible without pg_read_all_stats and not waited for: this only
     * spares the application verify's load, verify's result does not depend on it.
     */
    private static void awaitResumedWork(MoveRun run, JobState job) throws SQLException {
        try (Connection c = run.node(job.target).getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND backend_type = 'client backend' AND application_name = 'shardring'"
                        + " AND xact_start < ?)")) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
                rs.next();
                ps.setTimestamp(1, rs.getTimestamp(1));
            }
            Poll.until(VERIFY_DEFERS_TO_RESUMED_WORK, Duration.ofMillis(5), Duration.ofMillis(50), () -> {
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1) ? Boolean.TRUE : null;
                }
            });
        }
    }

    /**
     * Compares the job's rows again, now that both sides are fenced: the source since the cutover, the target since
     * the failed verify. Equal: the target owns the ranges again and the job goes on to cleanup. Still different: the
     * job stays {@code verify_failed}.
     */
    static void reverify(MoveRun run, JobState job) throws SQLException {
        fenceTarget(run, job);
        try (Connection source = run.node(job.source).getConnection();
                Connection target = run.node(job.target).getConnection()) {
            String difference = compare(run, job, source, target);
            if (difference != null) {
                run.journal(job, "verify", "failed", "verified again: " + difference);
                throw new ShardringException(ErrorCode.SHARD_ERROR, "verify failed again for " + job.label()
                        + " of move " + run.moveId + ": " + difference + ". Repair the target's rows by hand and run"
                        + " `shardring resume --reverify` again, or run `shardring abort --discard-target-copy`"
                        + " to keep the source's rows");
            }
        }
        Ownership.change(run, job.target, run.journal.catalog().version(), Ownership.with(HashIntervals.of(job.ranges)));
        run.journal.setPhase(run.moveId, job, Phase.CLEANUP);
        run.journal(job, "verify", "finished", "verified again: the copies are equal; " + job.target
                + " owns the ranges again");
    }

    private static void failed(MoveRun run, JobState job, String difference) throws SQLException {
        // resume and abort must not clean this job up: the source's rows are the good copy
        run.journal.setPhase(run.moveId, job, Phase.VERIFY_FAILED);
        fenceTarget(run, job);
        throw new ShardringException(ErrorCode.SHARD_ERROR, "verify failed in " + job.label() + " (" + job.pair()
                + "): " + difference + ". Both copies are kept and both nodes are fenced for these ranges. Compare"
                + " them, then run `shardring resume --reverify` (continues if they are now equal) or `shardring abort"
                + " --discard-target-copy` (the source's rows stay authoritative)");
    }

    /** The target stops owning the job's ranges: no more writes land in a copy that may be wrong. */
    private static void fenceTarget(MoveRun run, JobState job) throws SQLException {
        Ownership.change(run, job.target, run.journal.catalog().version(), Ownership.without(HashIntervals.of(job.ranges)));
        run.journal(job, "verify", "info", job.target + " fenced for the job's ranges until an operator decides");
    }

    /** Null when every table's count and checksum agree; else what differs. */
    private static String compare(MoveRun run, JobState job, Connection source, Connection target) throws SQLException {
        for (ShardedTable t : run.tables) {
            String where = " FROM " + t.quotedName() + " x WHERE " + TokenRange.toSql(job.ranges, run.keyType,
                    t.keyColumn());
            // sum(bigint) accumulates in 128 bits and only its result is numeric: 15% faster than a cast per row
            String sql = "SELECT count(*), coalesce(sum(" + rowHash(source, t) + "), 0)::text" + where;
            String[][] sums = bothSides(source, target, sql);
            String[] src = sums[0];
            String[] dst = sums[1];
            if (!src[0].equals(dst[0]) || !src[1].equals(dst[1])) {
                return t.displayName() + ": " + job.source + " has " + src[0] + " rows (checksum " + src[1] + "), "
                        + job.target + " has " + dst[0] + " (checksum " + dst[1] + ")";
            }
            run.journal(job, "verify", "info", t.displayName() + ": " + src[0] + " rows, checksums equal");
            run.tell(job, "verify", "info", t.displayName() + " " + src[0] + " rows equal", Long.parseLong(src[0]), -1);
        }
        return null;
    }

    /**
     * hash_record_extended is twice as fast as hashing the row's text, but needs a hash function for every column
     * type (json has none): try it on one row of the source first.
     */
    private static String rowHash(Connection source, ShardedTable t) {
        try (Statement probe = source.createStatement()) {
            probe.executeQuery("SELECT hash_record_extended(x, 0) FROM " + t.quotedName() + " x LIMIT 1").close();
            return "hash_record_extended(x, 0)";
        } catch (SQLException noHash) {
            return "hashtextextended(x::text, 0)";
        }
    }

    /** The same checksum on both sides at the same time. */
    private static String[][] bothSides(Connection source, Connection target, String sql) throws SQLException {
        CompletableFuture<String[]> src = CompletableFuture.supplyAsync(() -> {
            try {
                return checksum(source, sql);
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        });
        String[] dst = checksum(target, sql);
        try {
            return new String[][] {src.join(), dst};
        } catch (CompletionException e) {
            if (e.getCause() instanceof SQLException) {
                throw (SQLException) e.getCause();
            }
            throw e;
        }
    }

    private static String[] checksum(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return new String[] {String.valueOf(rs.getLong(1)), rs.getString(2)};
        }
    }
}
