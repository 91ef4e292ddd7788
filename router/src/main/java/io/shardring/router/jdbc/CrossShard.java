package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Queries over every shard whose results merge as one database's would: {@code ORDER BY ... LIMIT/OFFSET} by a k-way
 * merge, and {@code count}, {@code sum}, {@code min}, {@code max} (with or without {@code GROUP BY}) combined from
 * each shard's partial aggregates; {@code avg} from the merged sum and count. The query runs on every primary at once
 * ({@link ShardedDataSource#onAllShards}); shards that fail are reported in the {@link Merged} result.
 *
 * <pre>{@code
 * Merged<List<Order>> top = CrossShard.on(shards).sorted(BY_AMOUNT_DESC_THEN_ID, 0, 10,
 *         (c, n) -> topOrders(c, n));                       // each shard: ... ORDER BY amount DESC, id LIMIT n
 * Merged<List<AggregateRow>> totals = CrossShard.on(shards).aggregate(
 *         "SELECT status, count(*), sum(amount) FROM orders GROUP BY status", List.of(),
 *         Agg.GROUP, Agg.COUNT, Agg.SUM);
 * }</pre>
 *
 * What does not merge, and so is not offered: {@code DISTINCT} across shards (a value on two shards would count
 * twice: group by it and count the groups instead), {@code count(DISTINCT ...)}, percentiles and other aggregates
 * that cannot be computed from per-shard partials, and {@code avg} taken per shard (select sum and count instead).
 */
public final class CrossShard {
    private final ShardedDataSource shards;
    /** Null: every primary, whole. */
    private final ReadPreference preference;

    private CrossShard(ShardedDataSource shards, ReadPreference preference) {
        this.shards = shards;
        this.preference = preference;
    }

    /** Cross-shard queries on the router's primaries. */
    public static CrossShard on(ShardedDataSource shards) {
        return new CrossShard(shards, null);
    }

    /**
     * Cross-shard queries that read every key once from the copies {@code preference} chooses (secondary stores,
     * standbys, primaries; {@link ShardedDataSource#onAllShards(ReadPreference, SqlWork)}). A secondary store holds
     * the arcs of several primaries, so every query must keep only its part with {@link #ownedRows(String)}: without
     * it, rows are counted once per copy.
     */
    public static CrossShard on(ShardedDataSource shards, ReadPreference preference) {
        if (preference == null) {
            throw new IllegalArgumentException("preference is null; use on(shards) to read the primaries");
        }
        return new CrossShard(shards, preference);
    }

    private <T> Map<String, ShardResult<T>> fanOut(SqlWork<T> work) {
        return preference == null ? shards.onAllShards(work) : shards.onAllShards(preference, work);
    }

    /** One shard's part of a sorted query: at most {@code limit} rows, in the merge's order. */
    @FunctionalInterface
    public interface SortedQuery<T> {
        /**
         * @param limit how many rows this shard must return at most ({@code offset + limit} of the whole query): put
         *     it in the query's {@code LIMIT}, so that no shard sends more than the merge can use
         */
        List<T> rows(Connection connection, int limit) throws SQLException;
    }

    /**
     * The rows of {@code offset} to {@code offset + limit} in {@code order} over all shards: each shard returns its
     * first {@code offset + limit} rows sorted by the same order (the SQL's {@code ORDER BY} must agree with
     * {@code order}, and should end in a unique column so that ties break the same way everywhere), and a k-way
     * merge takes the smallest heads.
     */
    public <T> Merged<List<T>> sorted(Comparator<? super T> order, int offset, int limit, SortedQuery<T> query) {
        if (offset < 0 || limit < 0) {
            throw new IllegalArgumentException("offset and limit must be 0 or more; got offset " + offset + ", limit "
                    + limit);
        }
        int perShard = (int) Math.min(Integer.MAX_VALUE, (long) offset + limit);
        Map<String, ShardResult<List<T>>> results = fanOut(c -> query.rows(c, perShard));
        Map<String, ShardringException> failures = new LinkedHashMap<>();
        List<List<T>> lists = new ArrayList<>();
        for (ShardResult<List<T>> r : results.values()) {
            if (r.isSuccess()) {
                List<T> rows = r.get();
                checkSorted(r.nodeId(), rows, order, perShard);
                lists.add(rows);
            } else {
                failures.put(r.nodeId(), r.error());
            }
        }
        return new Merged<>(merge(lists, order, offset, limit), failures, results.size());
    }

    private static <T> void checkSorted(String node, List<T> rows, Comparator<? super T> order, int limit) {
        if (rows.size() > limit) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "shard " + node + " returned " + rows.size()
                    + " rows for a limit of " + limit + "; put the limit the query gets into its LIMIT");
        }
        for (int i = 1; i < rows.size(); i++) {
            if (order.compare(rows.get(i - 1), rows.get(i)) > 0) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "shard " + node + " returned rows out of the"
                        + " merge's order (row " + i + " sorts before row " + (i - 1) + "); make the query's ORDER BY"
                        + " agree with the comparator");
            }
        }
    }

    static <T> List<T> merge(List<List<T>> lists, Comparator<? super T> order, int offset, int limit) {
        // heads of each list: {list index, position}
        PriorityQueue<int[]> heads = new PriorityQueue<>(Math.max(1, lists.size()),
                (a, b) -> order.compare(lists.get(a[0]).get(a[1]), lists.get(b[0]).get(b[1])));
        for (int i = 0; i < lists.size(); i++) {
            if (!lists.get(i).isEmpty()) {
                heads.add(new int[] {i, 0});
            }
        }
        List<T> out = new ArrayList<>(Math.min(limit, 1024));
        long skipped = 0;
        while (!heads.isEmpty() && out.size() < limit) {
            int[] h = heads.poll();
            List<T> list = lists.get(h[0]);
            T row = list.get(h[1]);
            if (skipped < offset) {
                skipped++;
            } else {
                out.add(row);
            }
            if (h[1] + 1 < list.size()) {
                heads.add(new int[] {h[0], h[1] + 1});
            }
        }
        return out;
    }

    /** How a column of an aggregate query combines across shards. */
    public enum Agg {
        /** A {@code GROUP BY} column: rows with equal values of all GROUP columns combine. */
        GROUP,
        /** {@code count(...)}: the shards' counts add up. */
        COUNT,
        /** {@code sum(...)}: the shards' sums add up (null where no shard had a value). */
        SUM,
        /** {@code min(...)}: the smallest of the shards' minimums. */
        MIN,
        /** {@code max(...)}: the largest of the shards' maximums. */
        MAX
    }

    /**
     * Runs {@code sql} (with {@code params}) on every shard and combines its rows: each column is named by an
     * {@link Agg}, GROUP columns key the rows. Without GROUP columns the result is one row, also when no shard had
     * a row to aggregate. Rows come back ordered by their groups' first appearance (sort them afterwards).
     */
    public Merged<List<AggregateRow>> aggregate(String sql, List<?> params, Agg... columns) {
        return aggregateRows(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < params.size(); i++) {
                    ps.setObject(i + 1, params.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    int n = rs.getMetaData().getColumnCount();
                    List<Object[]> rows = new ArrayList<>();
                    while (rs.next()) {
                        Object[] row = new Object[n];
                        for (int i = 0; i < n; i++) {
                            row[i] = rs.getObject(i + 1);
                        }
                        rows.add(row);
                    }
                    return rows;
                }
            }
        }, columns);
    }

    /**
     * Like {@link #aggregate(String, List, Agg...)} for a query that is not plain SQL (jOOQ's
     * {@code ShardedDsl.aggregate}): {@code perShard} returns the shard's rows as arrays, one value per column.
     */
    public Merged<List<AggregateRow>> aggregateRows(SqlWork<List<Object[]>> perShard, Agg... columns) {
        if (columns.length == 0) {
            throw new IllegalArgumentException("name how each selected column combines: Agg.GROUP, COUNT, SUM, MIN"
                    + " or MAX, one per column");
        }
        Map<String, ShardResult<List<Object[]>>> results = fanOut(c -> {
            List<Object[]> rows = perShard.apply(c);
            for (Object[] row : rows) {
                if (row.length != columns.length) {
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "the query selects " + row.length
                            + " columns but " + columns.length + " Agg values were given; name one per column");
                }
            }
            return rows;
        });
        Map<String, ShardringException> failures = new LinkedHashMap<>();
        Map<List<Object>, Object[]> groups = new LinkedHashMap<>();
        for (ShardResult<List<Object[]>> r : results.values()) {
            if (!r.isSuccess()) {
                failures.put(r.nodeId(), r.error());
                continue;
            }
            for (Object[] row : r.get()) {
                List<Object> key = new ArrayList<>();
                for (int i = 0; i < columns.length; i++) {
                    if (columns[i] == Agg.GROUP) {
                        key.add(groupKey(row[i]));
                    }
                }
                Object[] acc = groups.get(key);
                if (acc == null) {
                    groups.put(key, row.clone());
                } else {
                    for (int i = 0; i < columns.length; i++) {
                        acc[i] = combine(columns[i], acc[i], row[i]);
                    }
                }
            }
        }
        boolean grouped = Arrays.asList(columns).contains(Agg.GROUP);
        List<AggregateRow> rows = new ArrayList<>();
        if (groups.isEmpty() && !grouped) {
            Object[] empty = new Object[columns.length];
            for (int i = 0; i < columns.length; i++) {
                empty[i] = columns[i] == Agg.COUNT ? 0L : null;
            }
            rows.add(new AggregateRow(empty));
        }
        groups.values().forEach(v -> rows.add(new AggregateRow(v)));
        return new Merged<>(rows, failures, results.size());
    }

    /** A group value as one database would compare it: 1, 1L and 1.00 are one group; byte arrays by content. */
    private static Object groupKey(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof java.math.BigInteger
                || v instanceof BigDecimal) {
            return decimal(v).stripTrailingZeros();
        }
        if (v instanceof byte[]) {
            return java.nio.ByteBuffer.wrap((byte[]) v);
        }
        return v;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object combine(Agg agg, Object a, Object b) {
        if (agg == Agg.GROUP) {
            return a;
        }
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        switch (agg) {
            case COUNT:
                return ((Number) a).longValue() + ((Number) b).longValue();
            case SUM:
                if (a instanceof Long && b instanceof Long) {
                    long x = (Long) a;
                    long y = (Long) b;
                    long r = x + y;
                    // on overflow (both operands' sign differs from the sum's) the sum goes on as a decimal
                    return ((x ^ r) & (y ^ r)) < 0 ? BigDecimal.valueOf(x).add(BigDecimal.valueOf(y)) : r;
                }
                if (a instanceof Double || b instanceof Double || a instanceof Float || b instanceof Float) {
                    return ((Number) a).doubleValue() + ((Number) b).doubleValue();
                }
                return decimal(a).add(decimal(b));
            case MIN:
                return compare(a, b) <= 0 ? a : b;
            default: // MAX
                return compare(a, b) >= 0 ? a : b;
        }
    }

    /**
     * Numbers by value whatever their Java types (shards may answer int4 here and int8 there); anything else by its
     * own order. Text compares by Java's order, not the database's collation: for min/max of text under a
     * non-C collation, compare in SQL (e.g. collate "C") or merge with {@link #sorted}.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compare(Object a, Object b) {
        if (a instanceof Number && b instanceof Number && a.getClass() != b.getClass()) {
            return decimal(a).compareTo(decimal(b));
        }
        try {
            return ((Comparable) a).compareTo(b);
        } catch (ClassCastException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot compare " + a.getClass().getName() + " with "
                    + b.getClass().getName() + " across shards; select the column with the same type everywhere", e);
        }
    }

    /**
     * The SQL condition that keeps only the rows each query must count, for {@code keyColumn} (a column name, quoted
     * here): add it to a cross-shard query's WHERE. On primaries: the keys the shard owns now (while a move runs, the
     * rows of the moving ranges exist on the source and the target until the move's cleanup; without this condition a
     * cross-shard count or sort sees them twice; needs the shardring schema on every shard, which ShardedFlyway
     * installs). With a read preference: the arcs this copy was chosen for, which the query must keep.
     */
    public String ownedRows(String keyColumn) {
        String hash = shards.topology().ringSettings().keyType().sqlHash(keyColumn);
        return preference == null ? "(width_bucket(" + hash + ", shardring.owned_bounds()) % 2 = 1)"
                // a sub-select, so that the setting is parsed once per statement, not once per row
                : "(width_bucket(" + hash + ", (SELECT current_setting('shardring.read_bounds')::bigint[])) % 2 = 1)";
    }

    static BigDecimal decimal(Object n) {
        if (n instanceof BigDecimal) {
            return (BigDecimal) n;
        }
        if (n instanceof Long || n instanceof Integer || n instanceof Short) {
            return BigDecimal.valueOf(((Number) n).longValue());
        }
        if (n instanceof java.math.BigInteger) {
            return new BigDecimal((java.math.BigInteger) n);
        }
        return new BigDecimal(n.toString());
    }

    /** One merged row of {@link #aggregate}. */
    public static final class AggregateRow {
        private final Object[] values;

        AggregateRow(Object[] values) {
            this.values = values;
        }

        /** Column {@code i} (0-based) as merged: Long for counts, the driver's type for the rest. */
        public Object get(int i) {
            return values[i];
        }

        public long getLong(int i) {
            Object v = values[i];
            return v == null ? 0 : ((Number) v).longValue();
        }

        public BigDecimal getDecimal(int i) {
            return values[i] == null ? null : decimal(values[i]);
        }

        /**
         * {@code avg} over all shards from the merged sum in column {@code sum} and count in column {@code count}
         * (34 significant digits); null when the count is 0, as SQL's avg.
         */
        public BigDecimal avg(int sum, int count) {
            long n = getLong(count);
            return n == 0 || values[sum] == null ? null : decimal(values[sum]).divide(BigDecimal.valueOf(n),
                    MathContext.DECIMAL128);
        }

        @Override
        public String toString() {
            return Arrays.toString(values);
        }
    }
}
