package io.shardring.router.schema;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The ownership guard on one shard: {@code shardring.owned_ranges} says which key-hash ranges the
 * shard owns, and {@code BEFORE INSERT}, {@code UPDATE} and {@code DELETE} row triggers on each sharded table reject a
 * row whose key it does not own with SQLSTATE {@value StaleTopologyException#SQLSTATE}. A router with
 * an old topology therefore cannot write to a shard after its keys moved away.
 *
 * <p>Why the ranges are also compiled into functions as constants: a lookup in a table costs several microseconds
 * per row, a search in a constant array a fraction of that. Each trigger's {@code WHEN} condition searches the owned
 * intervals with {@code width_bucket} (a binary search, so a shard owning hundreds of arcs pays about log2(n)
 * comparisons per row) and calls the table's PL/pgSQL guard function only for a row the shard does not own: the
 * call itself would cost as much as the rest of a bulk-loaded row. The tables, the bounds function and the guard
 * functions are rewritten in one transaction.
 *
 * <p>A change of ownership first locks every guarded table in {@code SHARE ROW EXCLUSIVE} mode, which
 * waits for writes in flight (they hold {@code ROW EXCLUSIVE} until they commit) and holds new ones back
 * until the change commits: no write that passed the old check can land after a fence. The cost falls
 * on the rare change, not on every row. Logical-replication apply workers do not fire the trigger
 * (they run as a replica), and a session whose login role is a member of {@code shardring_mover} (the tool's
 * role) may set {@code shardring.bypass_guard = on} for maintenance
 * such as deleting rows that moved away.
 */
public final class OwnershipGuard {
    /** The name of the guard's INSERT trigger on every sharded table. */
    public static final String TRIGGER = "shardring_ownership_guard";
    /** The names of the guard's INSERT, UPDATE and DELETE triggers on every sharded table. */
    public static final List<String> TRIGGERS = List.of(TRIGGER, TRIGGER + "_update", TRIGGER + "_delete");
    /** The function that returns the shard's owned hash intervals as {@code width_bucket} thresholds. */
    static final String BOUNDS_FUNCTION = "shardring.owned_bounds";

    /** SQLSTATE of a lock wait that ran past {@code lock_timeout}. */
    public static final String LOCK_TIMEOUT_SQLSTATE = "55P03";


    private OwnershipGuard() {
    }

    /**
     * Checks that every sharded table exists on the shard with a key column of the ring's key type, and
     * installs the guard trigger on each; the caller's transaction covers it all.
     *
     * @throws ShardringException naming the node, the table and the column when one does not fit
     */
    public static void install(Connection c, String nodeId, KeyType keyType, List<ShardedTable> tables)
            throws SQLException {
        for (ShardedTable t : tables) {
            checkKeyColumn(c, nodeId, keyType, t);
        }
        List<TokenRange> owned = readOwned(c);
        try (Statement s = c.createStatement()) {
            s.execute(boundsFunctionSql(HashIntervals.of(owned)));
        }
        for (ShardedTable t : tables) {
            String fn = functionName(t);
            try (Statement s = c.createStatement()) {
                s.execute(functionSql(fn, nodeId, keyType, t, owned));
                for (String sql : triggerSql(fn, keyType, t)) {
                    s.execute(sql);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.guarded_tables"
                    + " (table_schema, table_name, key_column, guard_function) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (table_schema, table_name) DO UPDATE SET key_column = EXCLUDED.key_column,"
                    + " guard_function = EXCLUDED.guard_function")) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                ps.setString(3, t.keyColumn());
                ps.setString(4, fn);
                ps.executeUpdate();
            }
        }
    }

    /**
     * Replaces the shard's owned ranges and recompiles the guard of every guarded table, in the caller's
     * transaction, after waiting for in-flight guarded writes to finish.
     */
    public static void setOwnedRanges(Connection c, String nodeId, long topologyVersion, KeyType keyType,
            List<TokenRange> ranges) throws SQLException {
        setOwnedRanges(c, nodeId, topologyVersion, keyType, ranges, DEFAULT_LOCK_TIMEOUT);
    }

    /** How long {@link #setOwnedRanges} waits for the guarded tables' locks unless told otherwise. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Like {@link #setOwnedRanges(Connection, String, long, KeyType, List)}, waiting at most {@code lockTimeout} for
     * each guarded table's lock. While it waits, its queued lock holds back every new writer of the table, so a
     * caller that must not stall writers (the mover's fence) gives a short timeout and retries: a lock timeout
     * fails with SQLSTATE {@value #LOCK_TIMEOUT_SQLSTATE} and leaves the transaction to be rolled back.
     */
    public static void setOwnedRanges(Connection c, String nodeId, long topologyVersion, KeyType keyType,
            List<TokenRange> ranges, Duration lockTimeout) throws SQLException {
        List<String[]> guarded = guardedTables(c);
        // one round trip from the lock to the end: writers of the guarded tables wait from the moment the lock is
        // granted until the caller commits, so nothing else may travel the network in between
        StringBuilder sql = new StringBuilder();
        if (!guarded.isEmpty()) {
            sql.append("SET LOCAL lock_timeout = '").append(Math.max(1, lockTimeout.toMillis())).append("ms';\n");
            sql.append("LOCK TABLE ");
            for (int i = 0; i < guarded.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append(Sql.quote(guarded.get(i)[0])).append('.')
                        .append(Sql.quote(guarded.get(i)[1]));
            }
            // waits for in-flight writes to commit and holds new ones until this transaction ends
            sql.append(" IN SHARE ROW EXCLUSIVE MODE;\n");
            sql.append("SET LOCAL lock_timeout = DEFAULT;\n"); // the caller's own statements keep their timeout
        }
        sql.append("DELETE FROM shardring.owned_ranges;\n");
        StringBuilder values = new StringBuilder();
        for (TokenRange r : ranges) {
            for (long[] iv : r.inclusiveIntervals()) {
                values.append(values.length() == 0 ? "" : ", ").append('(').append(iv[0]).append(", ").append(iv[1])
                        .append(')');
            }
        }
        if (values.length() > 0) {
            sql.append("INSERT INTO shardring.owned_ranges (lo, hi) VALUES ").append(values).append(";\n");
        }
        sql.append("INSERT INTO shardring.shard_identity (node_id, topology_version) VALUES (")
                .append(Sql.literal(nodeId)).append(", ").append(topologyVersion).append(") ON CONFLICT (singleton)"
                        + " DO UPDATE SET node_id = EXCLUDED.node_id, topology_version = EXCLUDED.topology_version,"
                        + " updated_at = now();\n");
        sql.append(boundsFunctionSql(HashIntervals.of(ranges))).append(";\n");
        for (String[] g : guarded) {
            sql.append(functionSql(g[3], nodeId, keyType, ShardedTable.of(g[0], g[1], g[2]), ranges)).append(";\n");
        }
        try (Statement s = c.createStatement()) {
            s.execute(sql.toString());
        }
    }

    private static List<String[]> guardedTables(Connection c) throws SQLException {
        List<String[]> guarded = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT table_schema, table_name,"
                + " key_column, guard_function FROM shardring.guarded_tables ORDER BY table_schema, table_name")) {
            while (rs.next()) {
                guarded.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
            }
        }
        return guarded;
    }

    /** The shard's owned ranges as stored, merged into arcs of the ring. */
    public static List<TokenRange> readOwned(Connection c) throws SQLException {
        List<TokenRange> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT lo, hi FROM shardring.owned_ranges ORDER BY lo")) {
            while (rs.next()) {
                long lo = rs.getLong(1);
                long hi = rs.getLong(2);
                // [lo, hi] is the arc (lo - 1, hi]; lo = MIN wraps to MAX, which TokenRange reads as the whole ring
                out.add(lo == Long.MIN_VALUE && hi == Long.MAX_VALUE ? new TokenRange(0, 0)
                        : new TokenRange(lo - 1, hi));
            }
        }
        return out;
    }

    /** The shard's recorded node id and topology version, or null before ownership was first set. */
    public static Object[] identity(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT node_id, topology_version FROM shardring.shard_identity")) {
            return rs.next() ? new Object[] {rs.getString(1), rs.getLong(2)} : null;
        }
    }

    /** Removes the guard's triggers from a table (benchmarks measure their cost this way). */
    public static void drop(Connection c, ShardedTable t) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : dropSql(t)) {
                s.execute(sql);
            }
        }
    }

    private static List<String> dropSql(ShardedTable t) {
        List<String> sql = new ArrayList<>();
        for (String trigger : TRIGGERS) {
            sql.add("DROP TRIGGER IF EXISTS " + Sql.quote(trigger) + " ON " + t.quotedName());
        }
        return sql;
    }

    private static void checkKeyColumn(Connection c, String nodeId, KeyType keyType, ShardedTable t)
            throws SQLException {
        String sql = "SELECT format_type(a.atttypid, a.atttypmod), t.typname FROM pg_attribute a"
                + " JOIN pg_class r ON r.oid = a.attrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " JOIN pg_type t ON t.oid = a.atttypid"
                + " WHERE n.nspname = ? AND r.relname = ? AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            ps.setString(3, t.keyColumn());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, tableMissing(c, nodeId, t));
                }
                String shown = rs.getString(1);
                String typname = rs.getString(2);
                if (!keyType.acceptsColumnType(typname)) {
                    throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "node '" + nodeId + "': key column "
                            + t.keyColumn() + " of sharded table " + t.displayName() + " is " + shown
                            + ", but the ring's key type is " + keyType.sqlType()
                            + "; change the column type or the ring's keyType");
                }
            }
        }
    }

    private static String tableMissing(Connection c, String nodeId, ShardedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_class r JOIN pg_namespace n ON"
                + " n.oid = r.relnamespace WHERE n.nspname = ? AND r.relname = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return "node '" + nodeId + "': sharded table " + t.displayName() + " has no column "
                            + t.keyColumn() + "; fix the table's keyColumn in the configuration";
                }
            }
        }
        return "node '" + nodeId + "': sharded table " + t.displayName() + " does not exist; create it with a"
                + " migration or remove it from the configuration's tables";
    }

    /** A function name that is unique per table and at most 63 bytes. */
    static String functionName(ShardedTable t) {
        String base = (t.schema() + "_" + t.name()).replaceAll("[^A-Za-z0-9_]", "_");
        if (base.length() > 40) {
            base = base.substring(0, 40);
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest((t.schema() + "\0" + t.name()).getBytes(StandardCharsets.UTF_8));
            return "guard_" + base + "_" + HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String functionSql(String fn, String nodeId, KeyType keyType, ShardedTable t, List<TokenRange> owned) {
        List<long[]> intervals = HashIntervals.of(owned);
        String col = t.quotedKeyColumn();
        String hash = keyType.sqlFunction();
        return "CREATE OR REPLACE FUNCTION shardring." + Sql.quote(fn) + "() RETURNS trigger LANGUAGE plpgsql AS $guard$\n"
                + "DECLARE h bigint; o bigint; ok boolean;\n"
                + "BEGIN\n"
                + "  IF TG_OP = 'DELETE' THEN h := " + hash + "(OLD." + col + ", 0);\n"
                + "  ELSE h := " + hash + "(NEW." + col + ", 0); END IF;\n"
                // a NULL key is left to the column's NOT NULL constraint, which names it better
                + "  ok := h IS NULL OR " + ownsSql("h", intervals) + ";\n"
                // an UPDATE that changes the key must own the old key too, or a stale router could move a row
                // out of a fenced range
                + "  IF ok AND TG_OP = 'UPDATE' AND OLD." + col + " IS DISTINCT FROM NEW." + col + " THEN\n"
                + "    o := " + hash + "(OLD." + col + ", 0);\n"
                + "    ok := o IS NULL OR " + ownsSql("o", intervals) + ";\n"
                + "  END IF;\n"
                // the bypass needs the setting AND membership of the tool's role: a setting alone is open to anyone
                + "  IF NOT ok AND NOT (coalesce(current_setting('shardring.bypass_guard', true), '') = 'on'\n"
                + "                     AND shardring.may_bypass_guard()) THEN\n"
                + "    RAISE EXCEPTION USING ERRCODE = '" + StaleTopologyException.SQLSTATE + "',\n"
                + "      MESSAGE = format('shard %s does not own key %s of %s.%s', " + Sql.literal(nodeId) + ", "
                + keyText(col) + ", TG_TABLE_SCHEMA, TG_TABLE_NAME),\n"
                + "      HINT = 'the router''s topology is stale: refresh it and retry on the key''s owner';\n"
                + "  END IF;\n"
                + "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n"
                + "  RETURN NEW;\n"
                + "END\n$guard$";
    }

    /**
     * A boolean SQL expression that is true when the bigint {@code var} lies in one of the sorted, disjoint
     * {@code intervals}: {@code width_bucket} over their bounds, which the server answers with a binary search (about
     * log2(n) comparisons). The bucket a hash falls in is odd exactly when the hash lies in an owned interval.
     */
    /**
     * A boolean SQL expression over a table's key column that is true for keys whose hash lies in {@code intervals}
     * (sorted, disjoint): one {@code width_bucket} over a literal, so a publication's row filter may use it.
     */
    public static String inIntervalsSql(KeyType keyType, String quotedColumn, List<long[]> intervals) {
        if (intervals.isEmpty()) {
            return "false";
        }
        return ownsSql(keyType.sqlFunction() + "(" + quotedColumn + ", 0)", intervals);
    }

    static String ownsSql(String var, List<long[]> intervals) {
        return "(width_bucket(" + var + ", '" + boundsLiteral(intervals) + "'::bigint[]) % 2 = 1)";
    }

    /**
     * The thresholds of {@code width_bucket} for sorted, disjoint, non-touching intervals: each interval's low end
     * and the value after its high end, strictly ascending; none after an interval that reaches Long.MAX_VALUE.
     */
    public static String boundsLiteral(List<long[]> intervals) {
        StringBuilder sb = new StringBuilder(intervals.size() * 42 + 2).append('{');
        for (long[] iv : intervals) {
            sb.append(sb.length() == 1 ? "" : ",").append(iv[0]);
            if (iv[1] != Long.MAX_VALUE) {
                sb.append(',').append(iv[1] + 1);
            }
        }
        return sb.append('}').toString();
    }

    /**
     * The shard's owned intervals as a function the triggers' {@code WHEN} clauses call. Why IMMUTABLE, though every
     * ownership change replaces it: the server folds an immutable call into a constant once per statement when it
     * prepares the trigger's condition, so each row costs one {@code width_bucket}; a stable function would run per
     * row. Nothing caches the folded constant past the statement, and a statement that writes a guarded table holds
     * the lock that an ownership change waits for, so no statement sees two versions. Only the triggers call it.
     */
    static String boundsFunctionSql(List<long[]> intervals) {
        return "CREATE OR REPLACE FUNCTION " + BOUNDS_FUNCTION + "() RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE"
                + " PARALLEL SAFE AS $bounds$ BEGIN RETURN '" + boundsLiteral(intervals) + "'::bigint[]; END $bounds$";
    }

    /**
     * The guard's three triggers on a table. Why a {@code WHEN} clause rather than a check inside the function: a
     * row trigger's function call costs about a microsecond per row even when it only returns the row, which
     * doubled the cost of a bulk load; the condition runs without a call, and the function runs only for a row the
     * shard does not own, to reject it or let the tool's cleanup through. INSERT, UPDATE and DELETE need a trigger
     * each because a condition may name only the row images its event has.
     */
    static List<String> triggerSql(String fn, KeyType keyType, ShardedTable t) {
        String col = t.quotedKeyColumn();
        String notOwnedNew = notOwned(keyType, "NEW." + col);
        String notOwnedOld = notOwned(keyType, "OLD." + col);
        String on = " ON " + t.quotedName() + " FOR EACH ROW WHEN (";
        String exec = ") EXECUTE FUNCTION shardring." + Sql.quote(fn) + "()";
        // OR REPLACE, not a drop and a create: DROP TRIGGER takes an ACCESS EXCLUSIVE lock, which a live node's writers
        // (their foreign keys' KEY SHARE locks) can deadlock with; CREATE OR REPLACE takes SHARE ROW EXCLUSIVE
        List<String> sql = new ArrayList<>();
        sql.add("CREATE OR REPLACE TRIGGER " + Sql.quote(TRIGGERS.get(0)) + " BEFORE INSERT" + on + notOwnedNew + exec);
        // an UPDATE that changes the key must own the old key too, or a stale router could move a row out of a
        // fenced range
        sql.add("CREATE OR REPLACE TRIGGER " + Sql.quote(TRIGGERS.get(1)) + " BEFORE UPDATE" + on + notOwnedNew + " OR (OLD."
                + col + " IS DISTINCT FROM NEW." + col + " AND " + notOwnedOld + ")" + exec);
        sql.add("CREATE OR REPLACE TRIGGER " + Sql.quote(TRIGGERS.get(2)) + " BEFORE DELETE" + on + notOwnedOld + exec);
        return sql;
    }

    /** True when the shard does not own the key; NULL for a NULL key, which the condition reads as false. */
    private static String notOwned(KeyType keyType, String key) {
        return "width_bucket(" + keyType.sqlFunction() + "(" + key + ", 0), " + BOUNDS_FUNCTION + "()) % 2 = 0";
    }

    private static String keyText(String col) {
        return "CASE WHEN TG_OP = 'DELETE' THEN OLD." + col + "::text ELSE NEW." + col + "::text END";
    }
}
