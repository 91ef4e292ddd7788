package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A cross-shard result ({@link CrossShard}) and the shards that could not contribute to it: a shard that failed is
 * reported here, never silently left out of a total.
 *
 * @param <T> the merged value
 */
public final class Merged<T> {
    private final T value;
    private final Map<String, ShardringException> failures;
    private final int shards;

    Merged(T value, Map<String, ShardringException> failures, int shards) {
        this.value = value;
        this.failures = Map.copyOf(failures);
        this.shards = shards;
    }

    /** The value merged from the shards that answered; check {@link #isComplete()} before trusting it as a whole. */
    public T value() {
        return value;
    }

    /** Whether every shard answered. */
    public boolean isComplete() {
        return failures.isEmpty();
    }

    /** The shards that failed, by node id. */
    public Map<String, ShardringException> failures() {
        return failures;
    }

    /**
     * The value if every shard answered.
     *
     * @throws ShardringException naming each shard that failed and why
     */
    public T valueOrThrow() {
        if (failures.isEmpty()) {
            return value;
        }
        ShardringException e = new ShardringException(ErrorCode.SHARD_UNAVAILABLE, failures.size() + " of " + shards
                + " shards failed, so the merged result is partial: " + failures.entrySet().stream()
                .map(f -> f.getKey() + " (" + f.getValue().getMessage() + ")").collect(Collectors.joining("; ")));
        failures.values().forEach(e::addSuppressed);
        throw e;
    }

    @Override
    public String toString() {
        return (failures.isEmpty() ? "" : "partial, failed " + failures.keySet() + ": ") + value;
    }
}
