/** JMH and end-to-end load harnesses, run as {@code benchmarks/run SUITE}. */
package io.shardring.benchmarks;
