package io.shardring.router.jdbc;

import io.shardring.router.ShardringException;

/** One shard's outcome of {@link ShardedDataSource#onAllShards}: a value or the error it raised. */
public final class ShardResult<T> {
    private final String nodeId;
    private final T value;
    private final ShardringException error;

    ShardResult(String nodeId, T value, ShardringException error) {
        this.nodeId = nodeId;
        this.value = value;
        this.error = error;
    }

    public String nodeId() {
        return nodeId;
    }

    public boolean isSuccess() {
        return error == null;
    }

    /** The value; throws the shard's error if it failed. */
    public T get() {
        if (error != null) {
            throw error;
        }
        return value;
    }

    public ShardringException error() {
        return error;
    }

    @Override
    public String toString() {
        return nodeId + ": " + (error == null ? String.valueOf(value) : "failed: " + error.getMessage());
    }
}
