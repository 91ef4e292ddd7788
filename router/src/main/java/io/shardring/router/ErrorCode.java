package io.shardring.router;

/**
 * What went wrong, as a stable code that callers can switch on and operators can search for.
 * Codes never change meaning once released.
 */
public enum ErrorCode {
    /** A configuration value is missing, out of range or inconsistent. */
    INVALID_CONFIGURATION,
    /** A shard key is null or of the wrong type for the ring's key type. */
    INVALID_KEY,
    /** The ring cannot answer the request as asked (too few nodes, unknown node). */
    RING_CONSTRAINT,
    /** A shard rejected a write because it no longer owns the key; refresh the topology and retry. */
    STALE_TOPOLOGY,
    /** A shard could not be reached within the configured timeouts. */
    SHARD_UNAVAILABLE,
    /**
     * A node's server records another epoch than the topology's: an old primary that a promoted standby replaced, or
     * a topology older than the promotion. The server is refused until the topology and the server agree.
     */
    STALE_EPOCH,
    /** A statement failed on a shard; the cause keeps the SQLSTATE. */
    SHARD_ERROR,
    /** A schema migration failed on one or more shards. */
    SCHEMA_MIGRATION_FAILED,
    /** A context-bound data source was used with no shard key bound to the thread. */
    NO_KEY_BOUND,
    /** A different shard key was bound while a transaction on another key ran: a transaction stays on one shard. */
    KEY_SWITCH_IN_TRANSACTION,
    /** The router is closed. */
    CLOSED
}
