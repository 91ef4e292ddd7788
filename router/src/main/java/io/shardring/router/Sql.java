package io.shardring.router;

/** Quoting of identifiers and literals for SQL built from configuration. */
public final class Sql {
    private Sql() {
    }

    /**
     * An identifier, always double-quoted with embedded quotes doubled, as {@code quote_ident} would,
     * so that a name from configuration can never splice SQL.
     *
     * @throws ConfigurationException for an empty name or one holding NUL
     */
    public static String quote(String identifier) {
        if (identifier == null || identifier.isEmpty() || identifier.indexOf('\0') >= 0) {
            throw new ConfigurationException("invalid SQL identifier '" + identifier + "': it must be non-empty"
                    + " and without NUL characters");
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /** A string literal, single-quoted, embedded quotes doubled (standard_conforming_strings is on). */
    public static String literal(String value) {
        return '\'' + value.replace("'", "''") + '\'';
    }
}
