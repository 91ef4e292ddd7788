package io.shardring.router;

/**
 * A shard could not give a connection within its pool's connection timeout, or it is marked down after
 * recent failures and is skipped until its back-off ends. The message names the node.
 */
public class ShardUnavailableException extends ShardringException {
    private static final long serialVersionUID = 1L;

    private final String nodeId;

    public ShardUnavailableException(String nodeId, String message, Throwable cause) {
        super(ErrorCode.SHARD_UNAVAILABLE, message, cause);
        this.nodeId = nodeId;
    }

    /** For the kinds of unavailability that have a code of their own. */
    protected ShardUnavailableException(ErrorCode code, String nodeId, String message, Throwable cause) {
        super(code, message, cause);
        this.nodeId = nodeId;
    }

    public String nodeId() {
        return nodeId;
    }
}
