package io.shardring.router;

import java.io.IOException;
import java.sql.SQLException;

/**
 * What a failure says about its cause, read the same way by the router and the tool: whether the server could not
 * be reached, and whether SQL is behind it at all (an application's own exception is given back as it was thrown).
 */
public final class Failures {
    private Failures() {
    }

    /**
     * Whether the failure says that the server could not be reached, as opposed to an SQL error it answered with:
     * SQLSTATE class 08 (connection exception), 57P01-57P03 (the server shutting down or starting), or an I/O error,
     * anywhere in the cause chain.
     */
    public static boolean isConnectionFailure(Throwable e) {
        for (Throwable t = e; t != null; t = next(t)) {
            if (t instanceof SQLException) {
                String state = ((SQLException) t).getSQLState();
                if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                        || state.equals("57P03"))) {
                    return true;
                }
            }
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@link SQLException} or an {@link IOException} is anywhere in the cause chain. */
    public static boolean hasSqlOrIoCause(Throwable e) {
        for (Throwable t = e; t != null; t = next(t)) {
            if (t instanceof SQLException || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@link SQLException} is anywhere in the cause chain (also one a framework such as jOOQ wrapped). */
    public static boolean hasSqlCause(Throwable e) {
        for (Throwable t = e; t != null; t = next(t)) {
            if (t instanceof SQLException) {
                return true;
            }
        }
        return false;
    }

    private static Throwable next(Throwable t) {
        Throwable cause = t.getCause();
        return cause == t ? null : cause;
    }
}
