package io.shardring.router.schema;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** One result per shard of {@link ShardedFlyway#migrate()}, in topology order. */
public final class MigrationReport {
    private final Map<String, ShardMigrationResult> results;

    MigrationReport(Map<String, ShardMigrationResult> results) {
        this.results = Collections.unmodifiableMap(results);
    }

    public Map<String, ShardMigrationResult> results() {
        return results;
    }

    public ShardMigrationResult result(String nodeId) {
        return results.get(nodeId);
    }

    public boolean isSuccess() {
        return results.values().stream().allMatch(ShardMigrationResult::isSuccess);
    }

    public List<ShardMigrationResult> failures() {
        return results.values().stream().filter(r -> !r.isSuccess()).collect(Collectors.toList());
    }

    /** Whether every shard is at the same application schema version. */
    public boolean schemasEqual() {
        return results.values().stream().map(ShardMigrationResult::schemaVersion).distinct().count() <= 1;
    }

    /** Throws a {@link ShardringException} naming every failed shard, or returns this report. */
    public MigrationReport orThrow() {
        List<ShardMigrationResult> failed = failures();
        if (!failed.isEmpty()) {
            ShardringException e = new ShardringException(ErrorCode.SCHEMA_MIGRATION_FAILED, "schema migration failed"
                    + " on " + failed.size() + " of " + results.size() + " shards:\n  " + failed.stream()
                    .map(ShardMigrationResult::toString).collect(Collectors.joining("\n  ")) + "\nthe others: "
                    + results.values().stream().filter(ShardMigrationResult::isSuccess)
                    .map(ShardMigrationResult::toString).collect(Collectors.joining("; ")),
                    failed.get(0).cause());
            throw e;
        }
        return this;
    }

    @Override
    public String toString() {
        return results.values().stream().map(ShardMigrationResult::toString).collect(Collectors.joining("\n"));
    }
}
