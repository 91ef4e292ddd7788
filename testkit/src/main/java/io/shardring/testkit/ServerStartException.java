package io.shardring.testkit;

/** A PostgreSQL server of a {@link PgCluster} could not be started or reached; the message names the shard. */
public final class ServerStartException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public ServerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
