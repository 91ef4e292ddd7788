package io.shardring.migration.move;

import io.shardring.migration.plan.Plan;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.Topology;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves key ranges between shards online, each phase journaled in the catalog so that {@link #resume} and
 * {@link #abort} work after a crash at any point.
 *
 * <p>A move is one job per (source, target) pair. Every job is prepared ({@link PreparePhase}), then every job copies,
 * catches up ({@link CopyPhase}) and has its foreign keys checked on the target ({@link IntegrityCheck}), several jobs
 * at once where their nodes allow ({@link ParallelCopy}); then job by job the cutover ({@link CutoverPhase}) publishes
 * a topology version in which exactly the jobs cut over so far have moved, and verify ({@link VerifyPhase}) checks
 * that job; finally every job's source is cleaned up ({@link CleanupPhase}). {@link AbortPhase} undoes what can be
 * undone. This class only orders the phases and journals them: each phase of a job runs as a {@link Step}, and a
 * move is recorded, or a version without moves published, by {@link MoveAdmission}.
 */
public final class Mover {
    private static final Logger LOG = LoggerFactory.getLogger(Mover.class);

    /** Settings of a mover. */
    public static final class Options {
        private String[] appLocations = {};
        private int deleteBatch = 10_000;
        private Duration syncTimeout = Duration.ofMinutes(30);
        private Duration catchUpTimeout = Duration.ofSeconds(3);
        private Duration fenceLockTimeout = Duration.ofMillis(200);
        private Duration fenceTimeout = Duration.ofSeconds(10);
        private Duration routerGrace = Duration.ofSeconds(30);
        private Duration routerWait = Duration.ofMinutes(10);
        private int copyStreams = 1;
        private Duration lockWait = Duration.ofSeconds(5);
        private int parallel;

        /** The application's Flyway locations, applied to a target before data moves there. */
        public Options appLocations(String... locations) {
            this.appLocations = locations.clone();
            return this;
        }

        /** Rows deleted per transaction in cleanup (default 10,000). */
        public Options deleteBatch(int rows) {
            if (rows < 1) {
                throw new io.shardring.router.ConfigurationException("deleteBatch must be at least 1, was " + rows);
            }
            this.deleteBatch = rows;
            return this;
        }

        /** How long the copy's catch-up may take before the fence (default 30 min). */
        public Options syncTimeout(Duration d) {
            this.syncTimeout = d;
            return this;
        }

        /**
         * How long the target may take to apply the source's last writes after the fence (default 3 s). The copy
         * phase fences only once a marker's round trip took under 250 ms, so a longer wait means the target is in
         * trouble: the cutover then gives the ranges back, well inside a router's cutover wait.
         */
        public Options catchUpTimeout(Duration d) {
            this.catchUpTimeout = d;
            return this;
        }

        /**
         * How long one attempt to take the sharded tables' locks for a change of ownership may wait (default
         * 200 ms): while it waits, writers of those tables on that node wait behind it.
         */
        public Options fenceLockTimeout(Duration d) {
            this.fenceLockTimeout = positive("fenceLockTimeout", d);
            return this;
        }

        /** How long a change of ownership keeps retrying its locks before the cutover fails (default 10 s). */
        public Options fenceTimeout(Duration d) {
            this.fenceTimeout = positive("fenceTimeout", d);
            return this;
        }

        /**
         * How long a router may stay silent and still count (default 30 s): cleanup waits for every router heard
         * from within this time to route by the version in which the rows moved.
         */
        public Options routerGrace(Duration d) {
            this.routerGrace = positive("routerGrace", d);
            return this;
        }

        /** How long cleanup waits for routers to catch up before the move stops, to be resumed (default 10 min). */
        public Options routerWait(Duration d) {
            this.routerWait = positive("routerWait", d);
            return this;
        }

        /**
         * COPY pipes per job during the copy (default 1, at most 16). Each pipe scans the whole table on the source
         * for its share of the ranges, so more pipes pay off only where cores are idle: on a 2-core machine one pipe
         * moved 173,000-187,000 rows/s and two 126,000-136,000 (benchmarks/run move, interleaved).
         */
        public Options copyStreams(int streams) {
            if (streams < 1 || streams > 16) {
                throw new io.shardring.router.ConfigurationException("copyStreams must be between 1 and 16, was "
                        + streams);
            }
            this.copyStreams = streams;
            return this;
        }

        int copyStreams() {
            return copyStreams;
        }

        /**
         * How many jobs copy at once (default: one per distinct target, at most 4). Jobs that share a target, or where
         * one's source is the other's target, never copy at the same time. Each job scans its source's tables for its
         * ranges, so jobs from one source pay off while the source has idle cores and the targets are other servers.
         */
        public Options parallel(int jobs) {
            if (jobs < 1 || jobs > 16) {
                throw new io.shardring.router.ConfigurationException("parallel must be between 1 and 16, was " + jobs);
            }
            this.parallel = jobs;
            return this;
        }

        /**
         * How long run, resume and abort wait for a move that another process holds (default 5 s, zero to fail at
         * once). A process killed a moment ago still holds its move until its PostgreSQL session notices the closed
         * socket; an operator who resumes right after a crash should not be told to wait.
         */
        public Options lockWait(Duration d) {
            if (d == null || d.isNegative()) {
                throw new io.shardring.router.ConfigurationException("lockWait must be zero or positive, was " + d);
            }
            this.lockWait = d;
            return this;
        }

        Duration lockWait() {
            return lockWait;
        }

        Duration routerGrace() {
            return routerGrace;
        }

        Duration routerWait() {
            return routerWait;
        }

        private static Duration positive(String name, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new io.shardring.router.ConfigurationException(name + " must be positive, was " + d);
            }
            return d;
        }

        Duration fenceLockTimeout() {
            return fenceLockTimeout;
        }

        Duration fenceTimeout() {
            return fenceTimeout;
        }

        String[] appLocations() {
            return appLocations.clone();
        }

        int deleteBatch() {
            return deleteBatch;
        }

        Duration syncTimeout() {
            return syncTimeout;
        }

        Duration catchUpTimeout() {
            return catchUpTimeout;
        }
    }

    /** A move in state running. */
    public static final class RunningMove {
        public final long id;
        public final String change;

        RunningMove(long id, String change) {
            this.id = id;
            this.change = change;
        }
    }

    /** The work of one job that {@link ParallelCopy} runs. */
    interface JobWork {
        void run(MoveRun run, JobState job) throws SQLException;
    }

    private final MoveJournal journal;
    private final MoveAdmission admission;
    private final NodePools nodes;
    private final Options options;
    private final MoveListener listener;

    public Mover(Catalog catalog, NodePools nodes, Options options, MoveListener listener) {
        this.journal = new MoveJournal(catalog);
        this.admission = new MoveAdmission(journal);
        this.nodes = nodes;
        this.options = options;
        this.listener = listener == null ? MoveListener.NONE : listener;
    }

    /** Records and runs a plan; returns the move's id. */
    public long execute(Plan plan) {
        if (plan.jobs().isEmpty()) {
            publishWithoutMoves(plan);
            return 0;
        }
        long id = start(plan);
        run(id);
        return id;
    }

    /**
     * Records a plan as a running move. Refuses while another move runs, naming it, and when the catalog moved on
     * since the plan was made.
     */
    public long start(Plan plan) {
        return admission.start(plan);
    }

    public Optional<RunningMove> running() {
        return journal.running();
    }

    /**
     * Publishes a change under which no key changes owner (a pin to the node that owns the key already, an unpin
     * back to it), so that later changes keep it: there is nothing to move, so there is no move.
     */
    public void publishWithoutMoves(Plan plan) {
        if (!plan.jobs().isEmpty()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the plan moves keys (" + plan.jobs().size()
                    + " jobs); start it as a move");
        }
        publish(plan.after().toBuilder().version(plan.before().version() + 1).build(), plan.change());
    }

    /**
     * Publishes a topology version that moves no key (pins on their owner, reference tables), refused while a move
     * runs: under the lock that {@link #start} takes, so that no move starts from the version this one replaces.
     */
    public void publish(Topology next, String change) {
        admission.publish(next, change);
    }

    /** Continues the running move from its journal. */
    public long resume() {
        return resume(false);
    }

    /**
     * Continues the running move; with {@code reverify}, a job whose verify failed is first verified again (both
     * copies are fenced by then) and goes on if the copies are now equal.
     */
    public long resume(boolean reverify) {
        RunningMove r = running().orElseThrow(() -> new ShardringException(ErrorCode.RING_CONSTRAINT,
                "no move is running; nothing to resume"));
        if (reverify) {
            reverify(r.id);
        }
        run(r.id);
        return r.id;
    }

    /** Runs the remaining phases of a move. */
    public void run(long moveId) {
        try (MoveLock lock = MoveLock.take(journal.catalog(), moveId, options.lockWait())) {
            MoveRun run = open(moveId);
            refuseVerifyFailed(run);
            // per job at once: its COPY pipes, the copy's progress monitor and a step's own connection
            nodes.ensureCapacity(parallelism(run.jobs) * (options.copyStreams() + 2) + 2);
            runPhases(run);
        }
    }

    private void reverify(long moveId) {
        try (MoveLock lock = MoveLock.take(journal.catalog(), moveId, options.lockWait())) {
            MoveRun run = open(moveId);
            for (JobState job : run.jobs) {
                if (job.phase == Phase.VERIFY_FAILED) {
                    Step.run(run, job, "verify", () -> VerifyPhase.reverify(run, job));
                }
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "verify of move " + moveId + " stopped: "
                    + e.getMessage() + "; run it again", e);
        }
    }

    private static void refuseVerifyFailed(MoveRun run) {
        for (JobState job : run.jobs) {
            if (job.phase == Phase.VERIFY_FAILED) {
                throw new ShardringException(ErrorCode.RING_CONSTRAINT, job.label() + " of move " + run.moveId
                        + " (" + job.pair() + ") failed verify: the target's rows differ from the source's, and both"
                        + " are kept. Compare them by hand, then run `shardring resume --reverify` (continues if they"
                        + " are now equal) or `shardring abort --discard-target-copy` (the source's rows stay"
                        + " authoritative)");
            }
        }
    }

    private void runPhases(MoveRun run) {
        List<JobState> jobs = run.jobs;
        try {
            for (JobState job : jobs) {
                if (job.phase == Phase.PREPARE) {
                    Step.run(run, job, "prepare", () -> PreparePhase.run(run, job));
                    journal.setPhase(run.moveId, job, Phase.COPY);
                }
            }
            new ParallelCopy(run, parallelism(jobs), this::copyAndCheck).run();
            for (JobState job : jobs) {
                if (job.phase == Phase.CUTOVER) {
                    Step.run(run, job, "cutover", () -> {
                        // other jobs copied since this one caught up: catch up again, so that the fence is short
                        CopyPhase.awaitSync(run, job);
                        CutoverPhase.run(run, job);
                    });
                }
                if (job.phase == Phase.VERIFY) {
                    Step.run(run, job, "verify", () -> VerifyPhase.run(run, job));
                    journal.setPhase(run.moveId, job, Phase.CLEANUP);
                }
            }
            for (JobState job : jobs) {
                if (job.phase == Phase.CLEANUP) {
                    Step.run(run, job, "cleanup", () -> CleanupPhase.run(run, job));
                    journal.setPhase(run.moveId, job, Phase.DONE);
                }
            }
            retireLeavers(run);
            journal.finish(run.moveId, "done");
            LOG.info("move {} done", run.moveId);
        } catch (SQLException | RuntimeException e) {
            if (e instanceof ShardUnavailableException) {
                throw new ShardUnavailableException(((ShardUnavailableException) e).nodeId(), "move " + run.moveId
                        + " stopped: " + e.getMessage() + "; start it, then run resume (or abort)", e);
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "move " + run.moveId + " stopped: " + e.getMessage()
                    + (jobs.stream().anyMatch(j -> j.phase == Phase.VERIFY_FAILED) ? ""
                            : "; fix the cause and run resume, or abort"), e);
        } finally {
            for (JobState job : jobs) {
                closeQuietly(job);
            }
        }
    }

    /**
     * One job from its copy to its cutover: the copy and the catch-up, then the foreign keys checked on the target
     * ({@link IntegrityCheck}); run for several jobs at once by {@link ParallelCopy}.
     */
    private void copyAndCheck(MoveRun run, JobState job) throws SQLException {
        if (job.phase == Phase.COPY) {
            Step.run(run, job, "copy", () -> {
                CopyPhase.start(run, job);
                CopyPhase.awaitSync(run, job);
            });
            journal.setPhase(run.moveId, job, Phase.CHECK);
        }
        if (job.phase == Phase.CHECK) {
            Step.run(run, job, "check", () -> IntegrityCheck.run(run, job));
            journal.setPhase(run.moveId, job, Phase.CUTOVER);
        }
    }

    /** How many jobs copy at once: as set, else one per distinct target, at most four. */
    private int parallelism(List<JobState> jobs) {
        if (options.parallel > 0) {
            return options.parallel;
        }
        return (int) Math.max(1, Math.min(4, jobs.stream().map(j -> j.target).distinct().count()));
    }

    /**
     * After an abort, the nodes of the move that the published topology does not hold (removed by jobs that had cut
     * over, or added by a move that never published them) have their ordinals retired: never given again.
     */
    private void retireUnpublished(MoveRun run) throws SQLException {
        Topology published = journal.catalog().load();
        java.util.Set<String> involved = new java.util.LinkedHashSet<>(run.before.nodes().keySet());
        involved.addAll(run.after.nodes().keySet());
        io.shardring.router.topology.NodeOrdinals ordinals = new io.shardring.router.topology.NodeOrdinals(
                journal.catalog().dataSource());
        java.util.Map<String, Integer> active = ordinals.active();
        for (String id : involved) {
            if (!published.nodes().containsKey(id) && active.containsKey(id)) {
                ordinals.retire(id);
                journal.event(run.moveId, null, "abort", "info", id + " is not in the ring; its id range is retired");
            }
        }
    }

    /** Nodes the move took out of the ring: their ordinals are never given again. */
    private void retireLeavers(MoveRun run) throws SQLException {
        for (String id : run.before.nodes().keySet()) {
            if (!run.after.nodes().containsKey(id)) {
                new io.shardring.router.topology.NodeOrdinals(journal.catalog().dataSource()).retire(id);
                journal.event(run.moveId, null, "move", "info", id + " left the ring; its id range is retired");
            }
        }
    }

    /**
     * Abandons the running move: jobs not yet cut over lose their subscription, publication and copied rows, and a
     * fenced source gets its ranges back. Jobs already cut over stay moved (their data is safely on the new owner);
     * plan the reverse change to move them back. A job whose verify failed is refused, naming it.
     */
    public void abort(long moveId) {
        abort(moveId, false);
    }

    /**
     * Like {@link #abort(long)}; with {@code discardTargetCopy}, a job whose verify failed is given back to its
     * source too: the target's rows of its ranges are set aside in a table of the target's shardring schema and a
     * topology version in which that job has not moved is published.
     */
    public void abort(long moveId, boolean discardTargetCopy) {
        try (MoveLock lock = MoveLock.take(journal.catalog(), moveId, options.lockWait())) {
            MoveRun run = open(moveId);
            if (!discardTargetCopy) {
                for (JobState job : run.jobs) {
                    if (job.phase == Phase.VERIFY_FAILED) {
                        AbortPhase.run(run, job, false); // refuses, naming the job, before anything changes
                    }
                }
            }
            for (JobState job : run.jobs) {
                AbortPhase.run(run, job, discardTargetCopy);
            }
            retireUnpublished(run);
            journal.finish(moveId, "aborted");
            LOG.info("move {} aborted", moveId);
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "abort of move " + moveId + " stopped: "
                    + e.getMessage() + "; run abort again", e);
        }
    }

    private MoveRun open(long moveId) {
        MoveJournal.Record move = journal.runningMove(moveId);
        Topology before = journal.catalog().load(move.fromVersion);
        List<JobState> jobs;
        try {
            jobs = journal.jobs(moveId);
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read move " + moveId + ": " + e.getMessage(), e);
        }
        before.nodes().values().forEach(nodes::add);
        move.after.nodes().values().forEach(nodes::add);
        return new MoveRun(moveId, before, move.after, jobs, nodes, options, listener, journal);
    }

    private static void closeQuietly(JobState job) {
        if (job.snapshot != null) {
            try {
                job.snapshot.close();
            } catch (SQLException ignored) {
                // a snapshot left by a failed run: nothing to keep
            }
            job.snapshot = null;
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted; resume the move to continue", e);
        }
    }
}