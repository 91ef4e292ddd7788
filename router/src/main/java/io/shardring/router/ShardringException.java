package io.shardring.router;

/**
 * The root of every exception shardring throws, so that callers can catch one type.
 *
 * <p>Unchecked, like jOOQ's {@code DataAccessException} and Flyway's {@code FlywayException}: most
 * callers cannot recover locally and would only wrap a checked exception again. Messages name the bad
 * value and say what to do; they never contain credentials.
 */
public class ShardringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public ShardringException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ShardringException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /** The SQLSTATE of the first {@link java.sql.SQLException} in the cause chain, or null. */
    public String sqlState() {
        for (Throwable t = getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException) {
                String state = ((java.sql.SQLException) t).getSQLState();
                if (state != null) {
                    return state;
                }
            }
        }
        return null;
    }
}
