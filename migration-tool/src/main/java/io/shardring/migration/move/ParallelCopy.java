package io.shardring.migration.move;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the jobs that still have to copy (phase copy or check), up to {@code parallel} at once. Two jobs never run
 * together when they share a target, or when one's source is the other's target: COPY into one node's tables from two
 * jobs gains nothing, and a node would be read for one job while it is written for another. Jobs from one source to
 * different targets do run together: adding three nodes to one copies to all three at once. A job that fails lets
 * the running ones finish and starts no new one; the first failure is thrown.
 */
final class ParallelCopy {
    private final MoveRun run;
    private final int parallel;
    private final Mover.JobWork work;

    ParallelCopy(MoveRun run, int parallel, Mover.JobWork work) {
        this.run = run;
        this.parallel = parallel;
        this.work = work;
    }

    void run() throws SQLException {
        List<JobState> pending = new ArrayList<>();
        for (JobState job : run.jobs) {
            if (job.phase == Phase.COPY || job.phase == Phase.CHECK) {
                pending.add(job);
            }
        }
        if (pending.isEmpty()) {
            return;
        }
        if (parallel == 1 || pending.size() == 1) {
            for (JobState job : pending) {
                work.run(run, job);
            }
            return;
        }
        ExecutorService threads = Executors.newFixedThreadPool(Math.min(parallel, pending.size()), r -> {
            Thread t = new Thread(r, "shardring-job");
            t.setDaemon(true);
            return t;
        });
        ExecutorCompletionService<JobState> done = new ExecutorCompletionService<>(threads);
        Map<Future<JobState>, JobState> running = new HashMap<>();
        Exception failure = null;
        try {
            while (!pending.isEmpty() || !running.isEmpty()) {
                if (failure == null) {
                    for (JobState job : new ArrayList<>(pending)) {
                        if (running.size() < parallel && running.values().stream().noneMatch(r -> conflict(r, job))) {
                            pending.remove(job);
                            running.put(done.submit(() -> {
                                work.run(run, job);
                                return job;
                            }), job);
                        }
                    }
                }
                if (running.isEmpty()) {
                    break; // a job failed: the pending ones are not started
                }
                Future<JobState> finished = done.take();
                running.remove(finished);
                try {
                    finished.get();
                } catch (ExecutionException e) {
                    Exception cause = e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while jobs copied; resume the move to continue", e);
        } finally {
            threads.shutdownNow();
        }
        if (failure instanceof SQLException) {
            throw (SQLException) failure;
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure != null) {
            throw new SQLException(failure.getMessage(), failure);
        }
    }

    static boolean conflict(JobState a, JobState b) {
        return a.target.equals(b.target) || a.source.equals(b.target) || a.target.equals(b.source);
    }
}
