package io.shardring.migration.move;

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
    private RouterWait() {
    }

    /**
     * Returns the routers still behind when {@code bound} ran out, or an empty list once all caught up. Journals
     * whom it waits for ({@code status} shows it) when {@code journal} is set.
     */
    static List<RouterRegistry.Entry> until(MoveRun run, JobState job, String phase, Duration bound, boolean journal)
            throws SQLException {
        long version = job.movedInVersion != null ? job.movedInVersion : run.journal.catalog().version();
        RouterRegistry registry = new RouterRegistry(run.journal.catalog().dataSource());
        long deadline = System.nanoTime() + bound.toNanos();
        String waitingFor = null;
        long pollMs = 10;
        while (true) {
            List<RouterRegistry.Entry> behind = registry.behind(version, run.options.routerGrace());
            if (behind.isEmpty()) {
                if (waitingFor != null && journal) {
                    run.journal(job, phase, "info", "routers caught up with version " + version);
                }
                return behind;
            }
            String now = behind.stream().map(e -> e.id + "@" + e.version).toList().toString(); // not their ages
            if (journal && !now.equals(waitingFor)) {
                String detail = "waiting for " + behind.size() + " router(s) still routing by a version before "
                        + version + ": " + String.join("; ", behind.stream().map(Object::toString).toList());
                run.journal(job, phase, "waiting", detail);
                run.tell(job, phase, "waiting", detail);
            }
            waitingFor = now;
            if (System.nanoTime() > deadline) {
                return behind;
            }
            Mover.sleep(pollMs);
            pollMs = Math.min(100, pollMs * 2);
        }
    }
}
