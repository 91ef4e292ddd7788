package io.shardring.router;

/**
 * A node's server was refused because it records another epoch than the topology's node (SQLSTATE
 * {@value #SQLSTATE}, raised when a pool opens a connection): a server at an older epoch is an old primary that a
 * promoted standby replaced, and takes no work from any router or tool; a server at a newer epoch was promoted after
 * the topology the caller routes by, which catches up from the catalog. Either way the server is unavailable to the
 * caller, so this is a {@link ShardUnavailableException}: reads fail over to another copy, and the pool is marked down
 * for its back-off, then tried again.
 */
public class StaleEpochException extends ShardUnavailableException {
    private static final long serialVersionUID = 1L;

    /** The SQLSTATE of {@code shardring.check_epoch}; class "SR" is not used by PostgreSQL. */
    public static final String SQLSTATE = "SR003";

    private final long serverEpoch;
    private final long topologyEpoch;

    public StaleEpochException(String nodeId, long serverEpoch, long topologyEpoch, String message, Throwable cause) {
        super(ErrorCode.STALE_EPOCH, nodeId, message, cause);
        this.serverEpoch = serverEpoch;
        this.topologyEpoch = topologyEpoch;
    }

    /** The epoch the server records (0 when it records none). */
    public long serverEpoch() {
        return serverEpoch;
    }

    /** The epoch of the node in the topology the caller checked with. */
    public long topologyEpoch() {
        return topologyEpoch;
    }

    /** Whether the server is behind the topology: an old primary, fenced. */
    public boolean oldPrimary() {
        return serverEpoch < topologyEpoch;
    }
}
