/**
 * The operator's side through the Java API: planning and running a move with the migration tool's
 * {@link io.shardring.migration.plan.Planner} and {@link io.shardring.migration.move.Mover} while an application keeps
 * writing.
 */
package io.shardring.examples.operator;
