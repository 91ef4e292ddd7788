package io.shardring.router;

/**
 * A shard rejected a write because it does not own the key (SQLSTATE {@value #SQLSTATE}): the router's
 * topology is older than the shard's. {@code inTransaction} refreshes and retries once by itself.
 */
public class StaleTopologyException extends ShardringException {
    private static final long serialVersionUID = 1L;

    /** The SQLSTATE the ownership guard raises; class "SR" is not used by PostgreSQL. */
    public static final String SQLSTATE = "SR001";

    public StaleTopologyException(String message, Throwable cause) {
        super(ErrorCode.STALE_TOPOLOGY, message, cause);
    }

    /** True when {@code t} or one of its causes is the guard's rejection. */
    public static boolean isCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StaleTopologyException) {
                return true;
            }
            if (c instanceof java.sql.SQLException) {
                for (java.sql.SQLException s = (java.sql.SQLException) c; s != null; s = s.getNextException()) {
                    if (SQLSTATE.equals(s.getSQLState())) {
                        return true;
                    }
                }
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }
}
