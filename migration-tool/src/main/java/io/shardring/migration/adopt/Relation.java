package io.shardring.migration.adopt;

/** One table, view or materialized view as pg_class describes it. */
record Relation(long oid, String schema, String name, String kind, boolean unlogged, boolean rowSecurity,
                boolean forceRowSecurity, String replicaIdentity, String[] options, String accessMethod, String owner,
                String acl, long rowType, long rowArrayType, String[] toastOptions) {

    String qualified() {
        return CatalogQuery.qualified(schema, name);
    }

    String label() {
        return (kind.equals("r") ? "table " : kind.equals("v") ? "view " : "materialized view ") + schema + "." + name;
    }

    String keyword() {
        return kind.equals("r") ? "TABLE" : kind.equals("v") ? "VIEW" : "MATERIALIZED VIEW";
    }
}
