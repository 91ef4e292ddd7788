package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.Sql;
import java.util.Objects;

/** A table whose rows belong to shard keys: every row lives on the owner of its key column's value. */
public final class ShardedTable {
    private final String schema;
    private final String name;
    private final String keyColumn;

    private ShardedTable(String schema, String name, String keyColumn) {
        this.schema = schema;
        this.name = name;
        this.keyColumn = keyColumn;
    }

    /**
     * @param qualifiedName {@code table} (schema {@code public}) or {@code schema.table}; names are used
     *                      exactly as given (case-sensitive) and always quoted in SQL
     */
    public static ShardedTable of(String qualifiedName, String keyColumn) {
        if (qualifiedName == null || qualifiedName.isBlank()) {
            throw new ConfigurationException("sharded table name is empty; give 'table' or 'schema.table'");
        }
        int dot = qualifiedName.indexOf('.');
        String schema = dot < 0 ? "public" : qualifiedName.substring(0, dot);
        String table = dot < 0 ? qualifiedName : qualifiedName.substring(dot + 1);
        return of(schema, table, keyColumn);
    }

    public static ShardedTable of(String schema, String name, String keyColumn) {
        check("schema of table " + name, schema);
        check("sharded table name", name);
        if (keyColumn == null || keyColumn.isBlank()) {
            throw new ConfigurationException("sharded table '" + name + "' has no keyColumn; name the shard-key column");
        }
        check("keyColumn of table " + name, keyColumn);
        return new ShardedTable(schema, name, keyColumn);
    }

    static void check(String what, String id) {
        if (id == null || id.isBlank() || id.length() > 63 || id.indexOf('\0') >= 0 || id.indexOf('.') >= 0) {
            throw new ConfigurationException("invalid " + what + " '" + id + "': use 1 to 63 characters without"
                    + " '.' or NUL");
        }
    }

    public String schema() {
        return schema;
    }

    public String name() {
        return name;
    }

    public String keyColumn() {
        return keyColumn;
    }

    /** {@code "schema"."table"}, quoted. */
    public String quotedName() {
        return Sql.quote(schema) + "." + Sql.quote(name);
    }

    public String quotedKeyColumn() {
        return Sql.quote(keyColumn);
    }

    /** {@code schema.table} as configured, for messages. */
    public String displayName() {
        return schema + "." + name;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ShardedTable)) {
            return false;
        }
        ShardedTable t = (ShardedTable) o;
        return schema.equals(t.schema) && name.equals(t.name) && keyColumn.equals(t.keyColumn);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schema, name, keyColumn);
    }

    @Override
    public String toString() {
        return displayName() + "(" + keyColumn + ")";
    }
}
