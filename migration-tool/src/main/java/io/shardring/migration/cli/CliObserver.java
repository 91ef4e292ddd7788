package io.shardring.migration.cli;

import io.shardring.migration.plan.Plan;

/**
 * Hears what commands run in-process do, for a program that drives the CLI and measures it (the demo): the plans
 * that commands print and the events of the moves they run. Called on the command's thread (plans) or the mover's
 * (events); must not throw, since a move event's listener that throws stops the move.
 */
public interface CliObserver {
    /** A plan a command printed (plan, add-node, remove-node, set-weight, rebalance), before it runs. */
    default void planned(Plan plan) {
    }

    /** An event of a move that a command runs; see {@link io.shardring.migration.move.MoveListener#on}. */
    default void moveEvent(long moveId, int job, String phase, String event, String detail, long rows,
            long lagBytes) {
    }

    CliObserver NONE = new CliObserver() {
    };
}
