package io.shardring.router.schema;

/** What schema migration did on one shard. */
public final class ShardMigrationResult {
    private final String nodeId;
    private final boolean success;
    private final int migrationsExecuted;
    private final String schemaVersion;
    private final boolean guardInstalled;
    private final String error;
    private final Throwable cause;

    ShardMigrationResult(String nodeId, boolean success, int migrationsExecuted, String schemaVersion,
            boolean guardInstalled, String error, Throwable cause) {
        this.nodeId = nodeId;
        this.success = success;
        this.migrationsExecuted = migrationsExecuted;
        this.schemaVersion = schemaVersion;
        this.guardInstalled = guardInstalled;
        this.error = error;
        this.cause = cause;
    }

    public String nodeId() {
        return nodeId;
    }

    public boolean isSuccess() {
        return success;
    }

    /** Application migrations applied in this run. */
    public int migrationsExecuted() {
        return migrationsExecuted;
    }

    /** The application schema version the shard is at after this run (may be null for an empty history). */
    public String schemaVersion() {
        return schemaVersion;
    }

    public boolean guardInstalled() {
        return guardInstalled;
    }

    /** What failed, naming the step; null on success. */
    public String error() {
        return error;
    }

    public Throwable cause() {
        return cause;
    }

    @Override
    public String toString() {
        return nodeId + ": " + (success ? "ok, " + migrationsExecuted + " migrations applied, schema version "
                + schemaVersion + (guardInstalled ? ", guard installed" : "") : "FAILED: " + error);
    }
}
