package io.shardring.migration.move;

import io.shardring.migration.support.RouterCatchUp;
import io.shardring.router.topology.RouterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Waits for the routers that follow the catalog to route by the version in which a job's ranges moved
 * ({@link RouterCatchUp}), and journals whom it waits for.
 */
final class RouterWait {
    private final MoveRun run;
    private final JobState job;
    private final String phase;
    private final boolean journal;
    private final long version;
    /** The routers behind at the last ask that found some, as journaled. */
    private String waitingFor;

    private RouterWait(MoveRun run, JobState job, String phase, boolean journal) throws SQLException {
        this.run = run;
        this.job = job;
        this.phase = phase;
        this.journal = journal;
        this.version = job.movedInVersion != null ? job.movedInVersion : run.journal.catalog().version();
    }

    /**
     * Returns the routers still behind when {@code bound} ran out, or an empty list once all caught up. Journals
     * whom it waits for ({@code status} shows it) when {@code journal} is set.
     */
    static List<RouterRegistry.Entry> until(MoveRun run, JobState job, String phase, Duration bound, boolean journal)
            throws SQLException {
        RouterWait wait = new RouterWait(run, job, phase, journal);
        List<RouterRegistry.Entry> behind = RouterCatchUp.await(new RouterRegistry(run.journal.catalog().dataSource()),
                wait.version, run.options.routerGrace(), bound, wait::behind);
        if (behind.isEmpty() && wait.waitingFor != null && journal) {
            run.journal(job, phase, "info", "routers caught up with version " + wait.version);
        }
        return behind;
    }

    private void behind(List<RouterRegistry.Entry> behind) throws SQLException {
        String now = behind.stream().map(e -> e.id + "@" + e.version).toList().toString(); // not their ages
        if (journal && !now.equals(waitingFor)) {
            String detail = "waiting for " + behind.size() + " router(s) still routing by a version before " + version
                    + ": " + RouterCatchUp.describe(behind);
            run.journal(job, phase, "waiting", detail);
            run.tell(job, phase, "waiting", detail);
        }
        waitingFor = now;
    }
}
