package io.shardring.router.jdbc;

/** One place a read of an arc's keys may go: the primary, a secondary store, or a standby of the primary. */
final class ReadTarget {
    enum Kind { PRIMARY, SECONDARY_STORE, STANDBY }

    final Kind kind;
    final NodePool pool;
    /** The node whose server holds this copy. */
    final String nodeId;
    final String zone;
    /** Null for the primary, which is never stale. */
    final CopyLag lag;

    ReadTarget(Kind kind, NodePool pool, String nodeId, String zone, CopyLag lag) {
        this.kind = kind;
        this.pool = pool;
        this.nodeId = nodeId;
        this.zone = zone;
        this.lag = lag;
    }

    /** Staleness in nanoseconds at {@code now}; 0 for the primary. */
    long staleness(long now, long topologyVersion) {
        if (lag == null) {
            return 0;
        }
        return lag.staleness(now, kind == Kind.STANDBY ? -2 : topologyVersion);
    }

    @Override
    public String toString() {
        return kind == Kind.PRIMARY ? "primary " + nodeId : kind == Kind.STANDBY ? "standby " + pool.poolName()
                : "secondary store on " + nodeId;
    }
}
