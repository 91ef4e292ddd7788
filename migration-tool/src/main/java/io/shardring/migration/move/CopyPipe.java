package io.shardring.migration.move;

import io.shardring.migration.support.PerNode;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOperation;
import org.postgresql.copy.CopyOut;

/**
 * Copies a job's rows from source to target with {@code copyStreams} COPY pipes at once (one by default), each over
 * its share of every range, all in one snapshot of the source (a slot's exported one, or, under a fence, any: nothing changes there).
 * The target's transactions commit only when every stream succeeded, so a crash leaves nothing half-copied.
 */
final class CopyPipe {

    private static final long PROGRESS_EVERY_MS = 200;
    /** Bytes sent to the target per COPY message. */
    private static final int CHUNK = 1 << 16;

    private CopyPipe() {
    }

    static long copy(MoveRun run, JobState job, String snapshot) throws SQLException {
        int pipes = run.options.copyStreams();
        List<List<TokenRange>> parts = split(job.ranges, pipes);
        ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "shardring-copy");
            t.setDaemon(true);
            return t;
        });
        List<Connection> sources = new ArrayList<>();
        List<Connection> targets = new ArrayList<>();
        List<Integer> targetPids = new ArrayList<>();
        long total = 0;
        boolean triggersSkipped = true;
        try (Connection monitor = run.node(job.target).getConnection()) {
            for (int i = 0; i < pipes; i++) {
                Connection src = run.node(job.source).getConnection();
                sources.add(src);
                src.setAutoCommit(false);
                try (Statement s = src.createStatement()) {
                    s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                    if (snapshot != null) {
                        s.execute("SET TRANSACTION SNAPSHOT " + Sql.literal(snapshot));
                    }
                }
                Connection dst = run.node(job.target).getConnection();
                targets.add(dst);
                dst.setAutoCommit(false);
                triggersSkipped &= Sessions.skipTriggers(dst);
                targetPids.add(backendPid(dst));
            }
            if (!triggersSkipped) {
                run.journal(job, "copy", "warning", "the role on " + job.target + " may not set"
                        + " session_replication_role: the application's triggers fire on the copied rows");
            }
            for (ShardedTable t : run.tables) {
                String columns = columns(sources.get(0), t);
                String insert = "COPY " + t.quotedName() + " (" + columns + ") FROM STDIN (FORMAT binary)";
                List<Future<Long>> streams = new ArrayList<>();
                for (int i = 0; i < pipes; i++) {
                    String select = "COPY (SELECT " + columns + " FROM " + t.quotedName() + " WHERE "
                            + TokenRange.toSql(parts.get(i), run.keyType, t.keyColumn()) + ") TO STDOUT (FORMAT binary)";
                    CopyManager out = sources.get(i).unwrap(PGConnection.class).getCopyAPI();
                    CopyManager in = targets.get(i).unwrap(PGConnection.class).getCopyAPI();
                    streams.add(threads.submit(() -> pipe(out, select, in, insert)));
                }
                try {
                    total += awaitWithProgress(run, job, t, streams, monitor, targetPids, total);
                } catch (SQLException | RuntimeException e) {
                    // stop the other stream before its connections close under it
                    streams.forEach(f -> f.cancel(true));
                    sources.forEach(CopyPipe::cancelQuietly);
                    targets.forEach(CopyPipe::cancelQuietly);
                    throw e;
                }
                run.tell(job, "copy", "progress", t.displayName() + " copied", total, -1);
            }
            for (Connection dst : targets) {
                dst.commit();
            }
            for (Connection src : sources) {
                src.commit();
            }
        } finally {
            for (Connection c : targets) {
                c.close(); // an uncommitted stream rolls back
            }
            for (Connection c : sources) {
                c.close();
            }
            threads.shutdownNow();
        }
        return total;
    }

    /**
     * Waits for the streams of one table, telling the listener every {@value #PROGRESS_EVERY_MS} ms how many rows
     * have reached the target so far (its {@code pg_stat_progress_copy}, uncommitted until the whole job is copied).
     */
    private static long awaitWithProgress(MoveRun run, JobState job, ShardedTable t, List<Future<Long>> streams,
            Connection monitor, List<Integer> targetPids, long before) throws SQLException {
        long rows = 0;
        for (Future<Long> f : streams) {
            while (true) {
                try {
                    rows += await(f, PROGRESS_EVERY_MS);
                    break;
                } catch (TimeoutException stillCopying) {
                    long inFlight = rowsArriving(monitor, targetPids);
                    run.tell(job, "copy", "progress", t.displayName() + " copying", before + inFlight, -1);
                }
            }
        }
        return rows;
    }

    private static long rowsArriving(Connection monitor, List<Integer> pids) throws SQLException {
        try (PreparedStatement ps = monitor.prepareStatement(
                "SELECT coalesce(sum(tuples_processed), 0) FROM pg_stat_progress_copy WHERE pid = ANY (?)")) {
            Array a = monitor.createArrayOf("int4", pids.toArray());
            ps.setArray(1, a);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void cancelQuietly(Connection c) {
        try {
            c.unwrap(PGConnection.class).cancelQuery();
        } catch (SQLException ignored) {
            // the connection is closed next anyway
        }
    }

    /** Each range cut into {@code n} consecutive pieces; piece i of every range goes to list i. */
    static List<List<TokenRange>> split(List<TokenRange> ranges, int n) {
        List<List<TokenRange>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new ArrayList<>());
        }
        for (TokenRange r : ranges) {
            long size = r.sizeUnsigned(); // 0 is the whole ring, 2^64
            long step = size == 0 ? Long.divideUnsigned(-1L, n) : Long.divideUnsigned(size, n);
            long start = r.startExclusive();
            for (int i = 0; i < n; i++) {
                long end = i == n - 1 ? r.endInclusive() : start + step;
                if (step == 0 && i < n - 1) {
                    continue; // a range smaller than n hashes stays whole, in the last piece
                }
                out.get(i).add(new TokenRange(start, end));
                start = end;
            }
        }
        return out;
    }

    private static long await(Future<Long> f, long timeoutMs) throws SQLException, TimeoutException {
        try {
            return timeoutMs < 0 ? f.get() : f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while copying", e);
        } catch (ExecutionException e) {
            throw PerNode.unwrap(e, "copy");
        }
    }

    /**
     * One stream: the source's COPY read row by row and written to the target's COPY in chunks of {@value #CHUNK}
     * bytes, on one thread. Why not a {@code PipedInputStream} between two threads: it wakes its reader only when its
     * buffer is full, so the two sides took turns instead of running at once. Both servers keep working while this
     * thread moves bytes, since each has its socket buffer.
     */
    private static long pipe(CopyManager out, String select, CopyManager in, String insert) throws SQLException {
        CopyOut from = out.copyOut(select);
        CopyIn to = null;
        try {
            to = in.copyIn(insert);
            byte[] chunk = new byte[CHUNK];
            int filled = 0;
            for (byte[] row = from.readFromCopy(); row != null; row = from.readFromCopy()) {
                if (filled + row.length > CHUNK && filled > 0) {
                    to.writeToCopy(chunk, 0, filled);
                    filled = 0;
                }
                if (row.length >= CHUNK) {
                    to.writeToCopy(row, 0, row.length);
                } else {
                    System.arraycopy(row, 0, chunk, filled, row.length);
                    filled += row.length;
                }
            }
            if (filled > 0) {
                to.writeToCopy(chunk, 0, filled);
            }
            long received = to.endCopy();
            long rows = from.getHandledRowCount();
            if (rows != received) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "copy sent " + rows + " rows but the target took "
                        + received);
            }
            return rows;
        } catch (SQLException | RuntimeException e) {
            cancelQuietly(from);
            cancelQuietly(to);
            throw e;
        }
    }

    private static void cancelQuietly(CopyOperation op) {
        try {
            if (op != null && op.isActive()) {
                op.cancelCopy();
            }
        } catch (SQLException ignored) {
            // the stream failed already; its connection is closed or rolled back by the caller
        }
    }

    /** The table's columns in order, quoted, for COPY on both sides (same migrations, same columns). */
    private static String columns(Connection c, ShardedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
                + " FROM pg_attribute WHERE attrelid = (quote_ident(?) || '.' || quote_ident(?))::regclass AND attnum > 0"
                + " AND NOT attisdropped AND attgenerated = ''")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
