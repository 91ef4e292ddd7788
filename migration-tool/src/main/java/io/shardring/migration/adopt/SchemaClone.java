package io.shardring.migration.adopt;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Interface only, while the implementation is written on its own branch: every method refuses. */
public final class SchemaClone {
    private SchemaClone() {
    }

    public static List<String> applicationSchemas(Connection c) throws SQLException {
        throw new UnsupportedOperationException("SchemaClone is not implemented yet");
    }

    public static SchemaClone read(Connection source, List<String> schemas) throws SQLException {
        throw new UnsupportedOperationException("SchemaClone is not implemented yet");
    }

    public List<String> statements() {
        throw new UnsupportedOperationException("SchemaClone is not implemented yet");
    }

    public List<String> tables() {
        throw new UnsupportedOperationException("SchemaClone is not implemented yet");
    }

    public void applyTo(Connection target) throws SQLException {
        throw new UnsupportedOperationException("SchemaClone is not implemented yet");
    }
}
