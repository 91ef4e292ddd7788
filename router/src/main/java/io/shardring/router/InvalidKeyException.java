package io.shardring.router;

/** A shard key is null, or its Java type does not match the ring's key type. */
public class InvalidKeyException extends ShardringException {
    private static final long serialVersionUID = 1L;

    public InvalidKeyException(String message) {
        super(ErrorCode.INVALID_KEY, message);
    }
}
