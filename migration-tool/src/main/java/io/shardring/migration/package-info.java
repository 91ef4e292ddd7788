/**
 * Planner, mover, verifier, journal and the {@code shardring} CLI. Filled by the rebalancing issue;
 * the ring's {@link io.shardring.router.ring.RingDiff} is already the planner's input.
 */
package io.shardring.migration;
