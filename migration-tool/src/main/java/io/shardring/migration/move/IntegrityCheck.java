package io.shardring.migration.move;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Before a job's cutover, every foreign key of every sharded table is checked on the target over the job's ranges: one
 * anti-join per foreign key. The copy and the subscription write with triggers off (the mover's session and the apply
 * worker run as a replica), so PostgreSQL never checked the rows that arrived, and still marks the constraint as
 * validated; a row whose referenced row is missing on the target (a table that is neither sharded nor a reference
 * table, a foreign key that does not carry the key) would stay there silently.
 *
 * <p>A violation can be passing: a reference row written just before the tenant row that uses it may still be on its
 * way to the target's reference copy. The check waits for that a few seconds, then stops the job before its cutover,
 * naming the constraint, the table and a sample row; nothing is fenced yet, so the application is not affected.
 */
final class IntegrityCheck {
    /** How long a violation may take to resolve by replication before it stops the job. */
    private static final long SETTLE_MS = 5_000;

    private IntegrityCheck() {
    }

    /** A foreign key of a sharded table, as the target's catalog has it. */
    record ForeignKey(String name, ShardedTable table, List<String> columns, String parent, List<String> parentColumns,
            boolean matchFull) {
    }

    static void run(MoveRun run, JobState job) throws SQLException {
        run(run, job, false);
    }

    /**
     * @param fenced the source is fenced already (a copy made at the cutover, without logical replication): no wait
     *               for violations to resolve, since the keys' writes are paused, and a failure gives the ranges back
     */
    static void run(MoveRun run, JobState job, boolean fenced) throws SQLException {
        String phase = fenced ? "cutover" : "check";
        try (Connection c = run.node(job.target).getConnection()) {
            List<ForeignKey> fks = new ArrayList<>();
            for (ShardedTable t : run.tables) {
                fks.addAll(foreignKeys(c, t));
            }
            long deadline = System.nanoTime() + (fenced ? 0 : SETTLE_MS * 1_000_000L);
            List<String> violations = violations(run, job, c, fks);
            while (!violations.isEmpty() && System.nanoTime() < deadline) {
                Mover.sleep(250);
                violations = violations(run, job, c, fks);
            }
            if (!violations.isEmpty()) {
                String what = String.join("; ", violations);
                run.journal(job, phase, "failed", what);
                throw new ShardringException(ErrorCode.SHARD_ERROR, job.label() + " (" + job.pair() + ") stopped"
                        + " before its cutover: rows copied to " + job.target + " break foreign keys there: " + what
                        + (fenced ? ". The cutover gives the ranges back to " + job.source : ". Nothing was fenced; "
                                + job.source + " still owns the keys") + ". Make the referenced rows exist on "
                        + job.target + " (a reference table, or shard the referenced table by the same key), then"
                        + " resume; or abort");
            }
            String ok = fks.size() + (fks.size() == 1 ? " foreign key" : " foreign keys") + " checked on " + job.target
                    + " over the job's ranges: no row without the row it references";
            run.journal(job, phase, "info", ok);
            run.tell(job, phase, "info", ok);
        }
    }

    /** One line per foreign key that a row of the job's ranges breaks: constraint, table, a sample row. */
    private static List<String> violations(MoveRun run, JobState job, Connection c, List<ForeignKey> fks)
            throws SQLException {
        List<String> out = new ArrayList<>();
        for (ForeignKey fk : fks) {
            String sample = sample(run, job, c, fk);
            if (sample != null) {
                out.add("foreign key " + fk.name() + " of " + fk.table().displayName() + " (" + String.join(", ",
                        fk.columns()) + ") -> " + fk.parent() + ": e.g. the row with " + sample
                        + " references a row that is not there");
            }
        }
        return out;
    }

    /** The key and referencing values of one row that has no referenced row, or null. */
    private static String sample(MoveRun run, JobState job, Connection c, ForeignKey fk) throws SQLException {
        List<String> child = new ArrayList<>();
        List<String> joins = new ArrayList<>();
        for (int i = 0; i < fk.columns().size(); i++) {
            String col = "x." + Sql.quote(fk.columns().get(i));
            child.add(col);
            joins.add("p." + Sql.quote(fk.parentColumns().get(i)) + " = " + col);
        }
        // MATCH SIMPLE (the default) skips a row with any NULL referencing column, MATCH FULL only one with all NULL
        String present = String.join(fk.matchFull() ? " OR " : " AND ", child.stream().map(x -> x + " IS NOT NULL")
                .toList());
        String key = "x." + fk.table().quotedKeyColumn();
        String sql = "SELECT " + key + "::text, concat_ws(', ', " + String.join(", ", child.stream()
                .map(x -> "coalesce(" + x + "::text, 'NULL')").toList()) + ") FROM " + fk.table().quotedName()
                // the range predicate's column is the outer table's: the subquery's table is not in scope there
                + " x WHERE " + TokenRange.toSql(job.ranges, run.keyType, fk.table().keyColumn()) + " AND (" + present + ") AND NOT EXISTS (SELECT 1 FROM "
                + fk.parent() + " p WHERE " + String.join(" AND ", joins) + ") LIMIT 1";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? fk.table().keyColumn() + " = " + rs.getString(1) + ", (" + String.join(", ",
                    fk.columns()) + ") = (" + rs.getString(2) + ")" : null;
        }
    }

    /** The foreign keys of a table on the connection's node, columns in the constraint's order. */
    static List<ForeignKey> foreignKeys(Connection c, ShardedTable t) throws SQLException {
        List<ForeignKey> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT k.conname, k.conkey, k.confkey,"
                + " quote_ident(pn.nspname) || '.' || quote_ident(p.relname), k.confrelid, k.confmatchtype = 'f'"
                + " FROM pg_constraint k JOIN pg_class p ON p.oid = k.confrelid"
                + " JOIN pg_namespace pn ON pn.oid = p.relnamespace"
                + " WHERE k.contype = 'f' AND k.conrelid = to_regclass(?) ORDER BY k.conname")) {
            ps.setString(1, t.quotedName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ForeignKey(rs.getString(1), t, names(c, t.quotedName(), rs.getArray(2)),
                            rs.getString(4), names(c, rs.getString(4), rs.getArray(3)), rs.getBoolean(6)));
                }
            }
        }
        return out;
    }

    private static List<String> names(Connection c, String table, Array attnums) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM unnest(?::int2[]) WITH ORDINALITY"
                + " AS k(num, ord) JOIN pg_attribute a ON a.attrelid = to_regclass(?) AND a.attnum = k.num"
                + " ORDER BY k.ord")) {
            ps.setArray(1, attnums);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
