package io.shardring.migration.move;

import io.shardring.router.ring.TokenRange;
import java.sql.Connection;
import java.util.List;

/** One job of a move (its ranges from one source to one target) as the journal records it. */
final class JobState {
    final int index;
    final String source;
    final String target;
    final List<TokenRange> ranges;
    Phase phase;
    /** The topology version in which the job's ranges moved, once published; else null. */
    Long movedInVersion;
    /** The target's repeatable-read transaction from the cutover, held until verify; lost with the process. */
    Connection snapshot;

    JobState(int index, String source, String target, List<TokenRange> ranges, Phase phase) {
        this.index = index;
        this.source = source;
        this.target = target;
        this.ranges = List.copyOf(ranges);
        this.phase = phase;
    }

    /** The name of this job's publication, slot, subscription and marker on the servers. */
    String name(long moveId) {
        return "shardring_m" + moveId + "_j" + index;
    }

    /** How people and the CLI number jobs: from 1. */
    String label() {
        return "job " + (index + 1);
    }

    String pair() {
        return source + " -> " + target;
    }

    boolean cutOver() {
        return phase.cutOver();
    }
}
