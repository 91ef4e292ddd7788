package io.shardring.router.ring;

/** SQL text helpers; identifiers from configuration are always quoted, never spliced. */
final class Sql {
    private Sql() {
    }

    /** Quotes an identifier the way PostgreSQL's {@code quote_ident} does, always. */
    static String quoteIdentifier(String name) {
        if (name == null || name.isEmpty()) {
            throw new io.shardring.router.ConfigurationException("empty SQL identifier; name the key column");
        }
        if (name.indexOf('\0') >= 0) {
            throw new io.shardring.router.ConfigurationException("SQL identifier contains a NUL character: " + name);
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
