package io.shardring.router.jdbc;

/** Where a read may go: the key's primary shard or one of that node's physical standbys. */
public enum ReadPreference {
    /** The owner only. Writes always use this. */
    PRIMARY,
    /** The owner; a standby when the owner is marked down. */
    PRIMARY_PREFERRED,
    /** A standby only; fails when the node has none or none is up. */
    SECONDARY,
    /** A standby; the owner when no standby is up or configured. */
    SECONDARY_PREFERRED
}
