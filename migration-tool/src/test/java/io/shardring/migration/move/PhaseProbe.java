package io.shardring.migration.move;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A listener that checks the claim that writers keep going while the mover works: at one event inside each named
 * phase (while that phase holds its snapshots, slots or transactions) it holds the mover until every writer has done
 * a few more operations, and records the phases where that happened and where it did not. Holding inside the phase
 * makes the check independent of how long the phase would take on its own.
 */
final class PhaseProbe implements MoveListener {
    /** The event inside each phase at which writers are checked. */
    static final Map<String, String> INSIDE = Map.of(
            "copy", "copy progress: a table copied, the COPY transactions still open",
            "catch-up", "copy progress: caught up, the subscription streaming",
            "verify", "verify info: a table verified, the target's snapshot still open",
            "cleanup", "cleanup progress: a batch deleted");

    private final Workload workload;
    private final Set<String> phases;
    private final int moreOps;
    private final Map<String, String> seen = new ConcurrentHashMap<>();

    PhaseProbe(Workload workload, Set<String> phases, int moreOps) {
        this.workload = workload;
        this.phases = phases;
        this.moreOps = moreOps;
    }

    @Override
    public void on(long moveId, int job, String phase, String event, String detail, long rows, long lagBytes) {
        String which = classify(phase, event, detail);
        if (which == null || !phases.contains(which) || seen.containsKey(which)) {
            return;
        }
        long[] from = workload.opsByWriter();
        try {
            String behind = workload.awaitEachWriter(from, moreOps, Duration.ofSeconds(30));
            seen.put(which, behind == null ? "ok" : behind);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            seen.put(which, "interrupted");
        }
    }

    private static String classify(String phase, String event, String detail) {
        if (phase.equals("copy") && event.equals("progress") && detail != null) {
            if (detail.endsWith(" copied")) {
                return "copy";
            }
            if (detail.startsWith("caught up")) {
                return "catch-up";
            }
        }
        if (phase.equals("verify") && event.equals("info") && detail != null && detail.endsWith("rows equal")) {
            return "verify";
        }
        if (phase.equals("cleanup") && event.equals("progress")) {
            return "cleanup";
        }
        return null;
    }

    /** Phase -> "ok", or what held the writers back. */
    Map<String, String> results() {
        return Map.copyOf(seen);
    }
}
