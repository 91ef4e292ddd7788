package io.shardring.router.schema;

import io.shardring.router.ConfigurationException;
import io.shardring.router.Sql;
import io.shardring.router.topology.ShardedTable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Serial ids that keep working when rows move (the Citus model): node {@code k} draws every sequence that feeds a
 * column of a sharded table from its own range {@code [k * 2^48 + 1, (k + 1) * 2^48 - 1]}, so a moved row keeps its
 * id and no two nodes ever draw the same value. {@code k} is the node's ordinal ({@link Membership}), given once by the
 * catalog; an adopted database is ordinal 0 and keeps its values (they are below 2^48).
 *
 * <p>Applied when a node joins (adopt, init, a move's prepare, before the node's first cutover) and after every schema
 * migration ({@link ShardedFlyway}), so that a sequence a migration creates is ranged before it draws. A 32-bit column
 * fed by a sequence is refused with the DDL that widens it: a node's range does not fit in it.
 */
public final class SequenceRanges {
    /** Bits of one node's range. */
    public static final int BITS = 48;
    /** The highest ordinal: 2^15 ranges of 2^48 fill the positive bigints. */
    public static final int MAX_ORDINAL = (1 << (63 - BITS)) - 1;
    /** The share of its range a node's sequence may draw before {@code status} warns. */
    public static final double WARN_SHARE = 0.8;

    private SequenceRanges() {
    }

    /** The first id of ordinal {@code k}'s range (1 for ordinal 0). */
    public static long low(int ordinal) {
        return ((long) check(ordinal) << BITS) + 1;
    }

    /** The last id of ordinal {@code k}'s range. */
    public static long high(int ordinal) {
        return ((long) check(ordinal) << BITS) + ((1L << BITS) - 1);
    }

    private static int check(int ordinal) {
        if (ordinal < 0 || ordinal > MAX_ORDINAL) {
            throw new ConfigurationException("node ordinal " + ordinal + " is out of range 0.." + MAX_ORDINAL);
        }
        return ordinal;
    }

    /** A column a sequence feeds: by its default ({@code nextval}) or as an identity column. */
    public record Column(String schema, String table, String column, String type, boolean sharded) {
        /** A 32-bit or smaller integer column: no node's range fits in it. */
        public boolean narrow() {
            return type.equals("integer") || type.equals("smallint");
        }

        public String displayName() {
            return schema + "." + table + "." + column;
        }
    }

    /**
     * A sequence that feeds a column of a sharded table, where it stands, and every column it feeds (of any table).
     *
     * @param last the last value drawn, or null when none has been
     * @param next the value the next {@code nextval} returns
     */
    public record Fed(String schema, String name, String type, long min, long max, long start, long increment,
            Long last, long next, List<Column> columns) {
        /** {@code "schema"."name"}, quoted. */
        public String quotedName() {
            return Sql.quote(schema) + "." + Sql.quote(name);
        }

        public String displayName() {
            return schema + "." + name;
        }

        /** How much of ordinal {@code k}'s range this sequence has drawn, 0 to 1. */
        public double used(int ordinal) {
            long lo = low(ordinal);
            if (last == null || last < lo) {
                return 0;
            }
            return Math.min(1.0, (double) (last - lo + 1) / (double) (high(ordinal) - lo + 1));
        }

        /** Whether the sequence has drawn past {@code high}, or would draw past it next. */
        public boolean pastRange(long high) {
            return last != null ? last > high : next > high;
        }

        /** Whether the sequence is restricted to ordinal {@code k}'s range already. */
        public boolean ranged(int ordinal) {
            return type.equals("bigint") && min == low(ordinal) && max == high(ordinal);
        }
    }

    /** The sequences that feed columns of {@code tables} on this database, each with all the columns it feeds. */
    public static List<Fed> find(Connection c, List<ShardedTable> tables) throws SQLException {
        // a default that calls nextval depends on its sequence; an identity column's sequence depends on the column
        String sql = "WITH feeds AS ("
                + " SELECT d.refobjid AS seq, ad.adrelid AS rel, ad.adnum AS att FROM pg_attrdef ad"
                + " JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid"
                + " AND d.refclassid = 'pg_class'::regclass"
                + " UNION SELECT d.objid, d.refobjid, d.refobjsubid FROM pg_depend d"
                + " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i')"
                + " SELECT sn.nspname, s.relname, format_type(q.seqtypid, NULL), q.seqmin, q.seqmax, q.seqstart,"
                + " q.seqincrement, tn.nspname, t.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
                + " FROM feeds f JOIN pg_class s ON s.oid = f.seq AND s.relkind = 'S'"
                + " JOIN pg_namespace sn ON sn.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid"
                // a partition's column belongs to its partitioned table, which is what the configuration names
                + " JOIN pg_class t ON t.oid = coalesce(pg_partition_root(f.rel), f.rel)"
                + " JOIN pg_namespace tn ON tn.oid = t.relnamespace"
                + " JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.att AND NOT a.attisdropped"
                + " ORDER BY sn.nspname, s.relname, tn.nspname, t.relname, a.attnum";
        Map<String, List<Column>> columns = new LinkedHashMap<>();
        Map<String, Object[]> sequences = new LinkedHashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                String key = rs.getString(1) + "\0" + rs.getString(2);
                sequences.putIfAbsent(key, new Object[] {rs.getString(1), rs.getString(2), rs.getString(3),
                    rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7)});
                boolean sharded = false;
                for (ShardedTable t : tables) {
                    sharded |= t.schema().equals(rs.getString(8)) && t.name().equals(rs.getString(9));
                }
                Column col = new Column(rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11), sharded);
                List<Column> cols = columns.computeIfAbsent(key, k -> new ArrayList<>());
                if (!cols.contains(col)) {
                    cols.add(col);
                }
            }
        }
        List<Fed> out = new ArrayList<>();
        for (Map.Entry<String, Object[]> e : sequences.entrySet()) {
            List<Column> cols = columns.get(e.getKey());
            if (cols.stream().noneMatch(Column::sharded)) {
                continue;
            }
            Object[] q = e.getValue();
            String quoted = Sql.quote((String) q[0]) + "." + Sql.quote(
                    (String) q[1]);
            Long last;
            long next;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT last_value, is_called FROM " + quoted)) {
                rs.next();
                // not called yet (new, restarted, or setval(..., false)): last_value is what nextval returns
                last = rs.getBoolean(2) ? rs.getLong(1) : null;
                next = last == null ? rs.getLong(1) : last + (Long) q[6];
            }
            out.add(new Fed((String) q[0], (String) q[1], (String) q[2], (Long) q[3], (Long) q[4], (Long) q[5],
                    (Long) q[6], last, next, List.copyOf(cols)));
        }
        return out;
    }

    /**
     * Restricts every sequence that feeds a sharded table's column to the node's range, in the caller's transaction,
     * each {@code ALTER SEQUENCE} waiting at most {@code lockTimeout} for the sequence's lock (a lock timeout fails
     * with SQLSTATE 55P03 and leaves the transaction to be rolled back and tried again). A sequence that has drawn
     * below the range is restarted at its start; values already drawn stay. Everything is checked before anything is
     * changed.
     *
     * @return what was changed, one line a sequence; empty when every sequence was ranged already
     * @throws ConfigurationException naming a 32-bit column fed by a sequence (with the DDL that widens it), a
     *                                descending sequence, or a sequence past the node's range
     */
    public static List<String> apply(Connection c, String nodeId, int ordinal, List<ShardedTable> tables,
            Duration lockTimeout) throws SQLException {
        List<Fed> fed = find(c, tables);
        long lo = low(ordinal);
        long hi = high(ordinal);
        for (Fed f : fed) {
            for (Column col : f.columns()) {
                if (col.narrow()) {
                    throw new ConfigurationException(narrowMessage(nodeId, f, col));
                }
            }
            if (f.increment() < 0) {
                throw new ConfigurationException("node '" + nodeId + "': sequence " + f.displayName() + " counts down"
                        + " (INCREMENT " + f.increment() + "); a node's ids are drawn upwards from its range: ALTER"
                        + " SEQUENCE " + f.quotedName() + " INCREMENT BY 1");
            }
            if (f.pastRange(hi)) {
                throw new ConfigurationException("node '" + nodeId + "': sequence " + f.displayName() + " is at "
                        + (f.last() != null ? f.last() : f.next()) + ", past the range of node ordinal " + ordinal + " [" + lo + ", " + hi + "]: ids it"
                        + " drew there could collide with another node's. Give the rows new ids below " + (hi + 1)
                        + " or add this database as a new node of its own");
            }
        }
        List<String> done = new ArrayList<>();
        for (Fed f : fed) {
            boolean restart = f.next() < lo;
            if (f.ranged(ordinal) && !restart) {
                continue;
            }
            StringBuilder sql = new StringBuilder();
            sql.append("SET LOCAL lock_timeout = '").append(Math.max(1, lockTimeout.toMillis())).append("ms';\n");
            sql.append("ALTER SEQUENCE ").append(f.quotedName()).append(" AS bigint MINVALUE ").append(lo)
                    .append(" MAXVALUE ").append(hi).append(" START WITH ").append(lo);
            if (restart) {
                sql.append(" RESTART WITH ").append(lo);
            }
            sql.append(" NO CYCLE;\nSET LOCAL lock_timeout = DEFAULT");
            try (Statement s = c.createStatement()) {
                s.execute(sql.toString());
            }
            done.add(String.format(Locale.ROOT, "%s: ids %d..%d%s", f.displayName(), lo, hi,
                    restart ? " (restarted at " + lo + ")" : " (next " + f.next() + ")"));
        }
        return done;
    }

    /**
     * Like {@link #apply} with the node's own ordinal from its {@link Membership}; nothing when it records none (a node
     * of a ring made before ordinals, or a database that is no node yet).
     */
    public static List<String> applyOwn(Connection c, List<ShardedTable> tables, Duration lockTimeout)
            throws SQLException {
        Optional<Membership> m = Membership.read(c);
        if (m.isEmpty()) {
            return List.of();
        }
        return apply(c, m.get().nodeId(), m.get().ordinal(), tables, lockTimeout);
    }

    static String narrowMessage(String nodeId, Fed f, Column col) {
        return "node '" + nodeId + "': column " + col.displayName() + " is " + col.type() + " and filled from sequence "
                + f.displayName() + ": each node draws ids from its own range of 2^" + BITS + " values, which needs"
                + " bigint. Widen it (columns that reference it too): ALTER TABLE "
                + Sql.quote(col.schema()) + "." + Sql.quote(col.table())
                + " ALTER COLUMN " + Sql.quote(col.column()) + " TYPE bigint; ALTER SEQUENCE "
                + f.quotedName() + " AS bigint";
    }
}
