package io.shardring.migration.move;

import io.shardring.migration.support.Poll;
import io.shardring.router.topology.RouterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Waits for the routers that follow the catalog to route by the version in which a job's ranges moved, as the
 * catalog's router registry tells: every router heard from within the grace period counts; one silent for longer
 * (stopped, crashed, cut off) does not.
 */
final class RouterWait {
    private final MoveRun run;
    private final JobState job;
    private final String phase;
    private final boolean journal;
    private final long version;
    private final RouterRegistry registry;
    /** The routers behind at the last ask, and how they were when journaled. */
    private List<RouterRegistry.Entry> behind = List.of();
    private String waitingFor;

    private RouterWait(MoveRun run, JobState job, String phase, boolean journal) throws SQLException {
        this.run = run;
        this.job = job;
        this.phase = phase;
        this.journal = journal;
        this.version = job.movedInVersion != null ? job.movedInVersion : run.journal.catalog().version();
        this.registry = new RouterRegistry(run.journal.catalog().dataSource());
    }

    /**
     * Returns the routers still behind when {@code bound} ran out, or an empty list once all caught up. Journals
     * whom it waits for ({@code status} shows it) when {@code journal} is set.
     */
    static List<RouterRegistry.Entry> until(MoveRun run, JobState job, String phase, Duration bound, boolean journal)
            throws SQLException {
        RouterWait wait = new RouterWait(run, job, phase, journal);
        List<RouterRegistry.Entry> caughtUp = Poll.until(bound, Duration.ofMillis(10), Duration.ofMillis(100),
                wait::ask);
        return caughtUp != null ? caughtUp : wait.behind;
    }

    /** The empty list once every router caught up; null while some are behind. */
    private List<RouterRegistry.Entry> ask() throws SQLException {
        behind = registry.behind(version, run.options.routerGrace());
        if (behind.isEmpty()) {
            if (waitingFor != null && journal) {
                run.journal(job, phase, "info", "routers caught up with version " + version);
            }
            return behind;
        }
        String now = behind.stream().map(e -> e.id + "@" + e.version).toList().toString(); // not their ages
        if (journal && !now.equals(waitingFor)) {
            String detail = "waiting for " + behind.size() + " router(s) still routing by a version before " + version
                    + ": " + String.join("; ", behind.stream().map(Object::toString).toList());
            run.journal(job, phase, "waiting", detail);
            run.tell(job, phase, "waiting", detail);
        }
        waitingFor = now;
        return null;
    }
}
