package io.shardring.migration.adopt;

import java.sql.SQLException;
import java.util.List;

/**
 * The objects of the cloned schemas (or of the database) that the clone cannot reproduce faithfully, each a problem
 * that names it and says why: partitioned tables, partitions, table inheritance, typed and foreign tables, rules,
 * aggregates, range and base types, user-defined collations, operators, operator classes, text search objects,
 * casts and event triggers, objects in non-default tablespaces, invalid indexes, and tables with disabled
 * foreign-key triggers. An extension's objects are not: CREATE EXTENSION makes them.
 */
final class UnsupportedObjects {

    private UnsupportedObjects() {
    }

    static void find(CatalogQuery source, List<String> schemas, CloneParts parts) throws SQLException {
        source.each("""
                WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ANY(?)),
                o(classid, objid, why) AS (
                  SELECT 'pg_class'::regclass, c.oid, 'a partitioned table: not supported by adopt yet'
                    FROM pg_class c WHERE c.relkind = 'p' AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a partition: partitioning is not supported by'
                    || ' adopt yet' FROM pg_class c WHERE c.relispartition
                    AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_class'::regclass, c.oid, 'table inheritance (INHERITS) is not supported'
                    FROM pg_class c WHERE c.relkind = 'r' AND NOT c.relispartition
                    AND c.relnamespace IN (SELECT oid FROM ns) AND EXISTS (SELECT 1 FROM pg_inherits i
                    WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
                  UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a typed table (OF type) is not supported'
                    FROM pg_class c WHERE c.reloftype <> 0 AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_class'::regclass, c.oid, 'a foreign table is not supported'
                    FROM pg_class c WHERE c.relkind = 'f' AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_class'::regclass, c.oid, 'stored in a tablespace other than the'
                    || ' database''s default; tablespaces belong to one server (ALTER ... SET TABLESPACE'
                    || ' pg_default)' FROM pg_class c WHERE c.reltablespace <> 0 AND c.relkind IN ('r', 'm', 'i')
                    AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_class'::regclass, i.indexrelid, 'an invalid index, e.g. left by a failed'
                    || ' CREATE INDEX CONCURRENTLY (drop it or REINDEX it)' FROM pg_index i JOIN pg_class c
                    ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT DISTINCT 'pg_class'::regclass, t.tgrelid, 'its foreign-key triggers are'
                    || ' disabled (ALTER TABLE ... DISABLE TRIGGER ALL): its rows may break its foreign keys'
                    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgisinternal
                    AND t.tgenabled <> 'O' AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_rewrite'::regclass, r.oid, 'rules are not supported' FROM pg_rewrite r
                    JOIN pg_class c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
                    AND c.relnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_proc'::regclass, p.oid, 'aggregates are not supported' FROM pg_proc p
                    WHERE p.prokind = 'a' AND p.pronamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_type'::regclass, t.oid, 'only enum, domain and composite types are'
                    || ' supported' FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns)
                    AND (t.typtype NOT IN ('e', 'd', 'c', 'b') OR (t.typtype = 'b' AND NOT EXISTS
                    (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)))
                  UNION ALL SELECT 'pg_collation'::regclass, oid, 'not supported' FROM pg_collation
                    WHERE collnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_conversion'::regclass, oid, 'not supported' FROM pg_conversion
                    WHERE connamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_operator'::regclass, oid, 'not supported' FROM pg_operator
                    WHERE oprnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_opclass'::regclass, oid, 'not supported' FROM pg_opclass
                    WHERE opcnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_opfamily'::regclass, oid, 'not supported' FROM pg_opfamily
                    WHERE opfnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_ts_config'::regclass, oid, 'not supported' FROM pg_ts_config
                    WHERE cfgnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_ts_dict'::regclass, oid, 'not supported' FROM pg_ts_dict
                    WHERE dictnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_ts_parser'::regclass, oid, 'not supported' FROM pg_ts_parser
                    WHERE prsnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_ts_template'::regclass, oid, 'not supported' FROM pg_ts_template
                    WHERE tmplnamespace IN (SELECT oid FROM ns)
                  UNION ALL SELECT 'pg_cast'::regclass, oid, 'user-defined casts are not supported'
                    FROM pg_cast WHERE oid >= 16384
                  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, 'event triggers (database-wide) are not'
                    || ' supported' FROM pg_event_trigger)
                SELECT pg_describe_object(o.classid, o.objid, 0), o.why FROM o
                WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid
                                  AND d.deptype = 'e')
                ORDER BY 1""", r -> parts.problems.add(r.getString(1) + ": " + r.getString(2)), schemas);
    }
}
