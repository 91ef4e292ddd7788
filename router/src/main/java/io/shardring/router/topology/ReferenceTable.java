package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.Sql;

/**
 * A table that is not per tenant (plans, currencies, feature flags): one writable copy on the topology's reference
 * node, replicated whole to every other node so that tenant queries join it locally.
 *
 * @param schema the table's schema, as configured (case-sensitive, always quoted in SQL)
 * @param name   the table's name, as configured
 */
public record ReferenceTable(String schema, String name) {
    public ReferenceTable {
        ShardedTable.check("schema of reference table " + name, schema);
        ShardedTable.check("reference table name", name);
    }

    /** {@code table} (schema {@code public}) or {@code schema.table}. */
    public static ReferenceTable of(String qualifiedName) {
        if (qualifiedName == null || qualifiedName.isBlank()) {
            throw new ConfigurationException("reference table name is empty; give 'table' or 'schema.table'");
        }
        int dot = qualifiedName.indexOf('.');
        return new ReferenceTable(dot < 0 ? "public" : qualifiedName.substring(0, dot),
                dot < 0 ? qualifiedName : qualifiedName.substring(dot + 1));
    }

    /** {@code "schema"."table"}, quoted. */
    public String quotedName() {
        return Sql.quote(schema) + "." + Sql.quote(name);
    }

    /** {@code schema.table} as configured, for messages. */
    public String displayName() {
        return schema + "." + name;
    }

    @Override
    public String toString() {
        return displayName();
    }
}
