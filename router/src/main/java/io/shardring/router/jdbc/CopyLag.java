package io.shardring.router.jdbc;

/**
 * How far one copy of a primary's rows (a secondary store's link, or a physical standby) was behind when the router
 * last sampled it. Written by {@link ReplicaMonitor}, read on the read path without locks: a read's estimate is the
 * lag at the sample plus the time since, so it only errs towards stale.
 */
final class CopyLag {
    final String primary;
    final String copy;
    /** {@code System.nanoTime()} when the sample's query was sent; 0 while the copy cannot be used. */
    private volatile long sampledAt;
    private volatile long lagNanos;
    /** For a secondary store: the topology version whose layout the store holds (-1 while it changes). */
    private volatile long version = -1;
    /** When the monitor found the primary down: the copy then falls behind no further, nothing is written. */
    private volatile long primaryDownAt;

    CopyLag(String primary, String copy) {
        this.primary = primary;
        this.copy = copy;
    }

    void sampled(long sentAt, long lagNanos, long version) {
        this.lagNanos = Math.max(0, lagNanos);
        this.version = version;
        this.sampledAt = sentAt;
    }

    void unusable() {
        sampledAt = 0;
    }

    void primaryDown(long at) {
        if (primaryDownAt == 0) {
            primaryDownAt = at;
        }
    }

    void primaryUp() {
        primaryDownAt = 0;
    }

    boolean primaryIsDown() {
        return primaryDownAt != 0;
    }

    /**
     * The copy's staleness at {@code now} for a router on {@code topologyVersion} (or any version for a standby: pass
     * -2), in nanoseconds; Long.MAX_VALUE when it cannot be used at all.
     */
    long staleness(long now, long topologyVersion) {
        long at = sampledAt;
        if (at == 0 || (topologyVersion != -2 && version != topologyVersion)) {
            return Long.MAX_VALUE;
        }
        long down = primaryDownAt;
        long until = down != 0 && down - at > 0 ? down : now;
        return lagNanos + Math.max(0, until - at);
    }

    long version() {
        return version;
    }
}
