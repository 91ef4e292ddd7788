package io.shardring.testkit;

import java.util.List;

/** One way of getting PostgreSQL servers: embedded processes, Docker containers, or servers someone else runs. */
interface ShardBackend {

    /** {@code embedded}, {@code testcontainers} or {@code external}, as reported by {@link PgCluster#backend()}. */
    String name();

    /**
     * Starts (or attaches to) {@code settings.shards()} servers. On failure everything already started is stopped
     * again before the exception leaves, so a failed start leaks no process or directory.
     */
    Started start(ClusterSettings settings);

    /** The servers a backend brought up, and how to take them down again. */
    interface Started {

        List<PgShard> shards();

        /** Stops the servers and deletes whatever they left on disk; safe to call more than once. */
        void stop();

        /** Whether {@link #kill} and {@link #restart} work; only for servers this JVM runs as processes. */
        default boolean canCrashShards() {
            return false;
        }

        /** SIGKILLs the server of shard {@code index} and all its processes; see {@link PgCluster#kill(int)}. */
        default void kill(int index) {
            throw new UnsupportedOperationException("cannot crash shard" + index + " of this backend");
        }

        /** Starts a killed server again on its data directory and port; see {@link PgCluster#restart(int)}. */
        default void restart(int index) {
            throw new UnsupportedOperationException("cannot restart shard" + index + " of this backend");
        }

        /**
         * Makes and starts a physical standby of shard {@code index}, stopped with the others by {@link #stop()};
         * see {@link PgCluster#addStandby(int, boolean)}. Works where {@link #canCrashShards()} does.
         */
        default PgStandby addStandby(int index, boolean synchronous) {
            throw new UnsupportedOperationException("cannot add a standby to shard" + index + " of this backend");
        }
    }
}
