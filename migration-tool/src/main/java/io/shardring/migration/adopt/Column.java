package io.shardring.migration.adopt;

import static io.shardring.migration.adopt.CatalogQuery.qualified;
import static io.shardring.migration.adopt.CatalogQuery.strings;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** One column as pg_attribute and pg_attrdef describe it; collate is " COLLATE ..." when not the type's. */
record Column(int num, String name, String type, boolean notNull, String identity, String generated,
              String expression, long defaultOid, String collate, String storage, String compression,
              Integer statistics, String[] options, String acl) {

    /** The columns of a table, view or composite type, in their order. */
    static List<Column> of(CatalogQuery source, long relation) throws SQLException {
        List<Column> out = new ArrayList<>();
        source.each("""
                SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END,
                       CASE WHEN a.attgenerated <> '' THEN a.attgenerated::text END,
                       pg_get_expr(d.adbin, d.adrelid), d.oid,
                       CASE WHEN a.attcollation <> t.typcollation THEN cn.nspname END,
                       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
                       CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN'
                            WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' WHEN 'x' THEN 'EXTENDED' END END,
                       CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
                       nullif(a.attstattarget, -1), a.attoptions::text[], a.attacl::text
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                LEFT JOIN pg_collation co ON co.oid = a.attcollation
                LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""",
                r -> out.add(new Column(r.getInt(1), r.getString(2), r.getString(3), r.getBoolean(4),
                        r.getString(5), r.getString(6), r.getString(7), r.getLong(8),
                        r.getString(10) == null ? "" : " COLLATE " + qualified(r.getString(9), r.getString(10)),
                        r.getString(11), r.getString(12), r.getObject(13, Integer.class), strings(r, 14),
                        r.getString(15))), relation);
        return out;
    }
}
