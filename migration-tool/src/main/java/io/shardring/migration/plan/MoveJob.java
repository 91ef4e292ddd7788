package io.shardring.migration.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One unit of a migration: the key-hash arcs that move from one source node to one target node (all the
 * {@link io.shardring.router.ring.RingDiff} moves of that pair), and how many rows of each sharded table
 * lie in them on the source when the plan was made. Immutable.
 */
public final class MoveJob {
    private final String source;
    private final String target;
    private final List<TokenRange> ranges;
    private final double share;
    private final Map<String, Long> rowsPerTable;

    /**
     * @param source       the node the rows leave
     * @param target       the node the rows go to, not the source
     * @param ranges       the arcs that move, at least one
     * @param rowsPerTable rows per sharded table (by {@code schema.table}), counted on the source; empty if not
     *                     counted; no null keys or values, no negative counts
     * @throws ConfigurationException naming the bad value
     */
    public MoveJob(String source, String target, List<TokenRange> ranges, Map<String, Long> rowsPerTable) {
        if (source == null || source.isBlank() || target == null || target.isBlank()) {
            throw new ConfigurationException("a move job needs a source and a target node id, got '" + source
                    + "' -> '" + target + "'");
        }
        if (source.equals(target)) {
            throw new ConfigurationException("a move job's source and target are both '" + source
                    + "'; a job moves keys between two different nodes");
        }
        if (ranges == null || ranges.isEmpty() || ranges.stream().anyMatch(Objects::isNull)) {
            throw new ConfigurationException("move job " + source + " -> " + target
                    + " has no ranges (or a null one); a job moves at least one arc");
        }
        Map<String, Long> rows = new LinkedHashMap<>();
        if (rowsPerTable != null) {
            for (Map.Entry<String, Long> e : rowsPerTable.entrySet()) {
                if (e.getKey() == null || e.getValue() == null || e.getValue() < 0) {
                    throw new ConfigurationException("move job " + source + " -> " + target + ": row count "
                            + e.getValue() + " for table " + e.getKey() + " is invalid; counts are non-negative");
                }
                rows.put(e.getKey(), e.getValue());
            }
        }
        this.source = source;
        this.target = target;
        this.ranges = List.copyOf(ranges);
        double s = 0;
        for (TokenRange r : this.ranges) {
            s += r.share();
        }
        this.share = s;
        this.rowsPerTable = Collections.unmodifiableMap(rows);
    }

    /** The node the keys leave. */
    public String source() {
        return source;
    }

    /** The node the keys go to. */
    public String target() {
        return target;
    }

    /** {@code source->target}, as {@link io.shardring.router.ring.RingDiff#byPair()} names the pair. */
    public String pair() {
        return source + "->" + target;
    }

    /** The arcs that move, in token order. */
    public List<TokenRange> ranges() {
        return ranges;
    }

    /** The share of the keyspace that moves in this job, in [0, 1]: the sum of the ranges' shares. */
    public double share() {
        return share;
    }

    /**
     * Rows per sharded table ({@code schema.table}) in the ranges on the source, counted when the plan was
     * made; empty when not counted. Never holds nulls.
     */
    public Map<String, Long> rowsPerTable() {
        return rowsPerTable;
    }

    /** The sum of {@link #rowsPerTable()}. */
    public long rows() {
        long n = 0;
        for (long r : rowsPerTable.values()) {
            n += r;
        }
        return n;
    }

    /** Whether a key hash lies in one of this job's ranges. */
    public boolean containsHash(long hash) {
        for (TokenRange r : ranges) {
            if (r.contains(hash)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The SQL predicate that selects this job's rows of a table, e.g.
     * {@code (hashint8extended("tenant_id", 0) BETWEEN 1 AND 99 OR ...)}.
     *
     * @param column the key column's name, unquoted; it is quoted here
     */
    public String sqlPredicate(KeyType keyType, String column) {
        return TokenRange.toSql(ranges, keyType, column);
    }

    /** This job as JSON: source, target, share, rows, rowsPerTable, ranges as [startExclusive, endInclusive]. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("source", source);
        o.put("target", target);
        o.put("share", share);
        o.put("rows", rows());
        ObjectNode rows = o.putObject("rowsPerTable");
        rowsPerTable.forEach(rows::put);
        ArrayNode rs = o.putArray("ranges");
        for (TokenRange r : ranges) {
            rs.addArray().add(r.startExclusive()).add(r.endInclusive());
        }
        return o;
    }

    /**
     * Reads a job written by {@link #toJson()}.
     *
     * @throws ConfigurationException naming the field that is missing or malformed
     */
    public static MoveJob fromJson(JsonNode json) {
        if (json == null || !json.isObject()) {
            throw new ConfigurationException("a move job in JSON must be an object, got " + json);
        }
        String source = text(json, "source");
        String target = text(json, "target");
        JsonNode rs = json.get("ranges");
        if (rs == null || !rs.isArray()) {
            throw new ConfigurationException("move job " + source + " -> " + target
                    + ": 'ranges' must be an array of [startExclusive, endInclusive] pairs");
        }
        List<TokenRange> ranges = new ArrayList<>();
        for (JsonNode r : rs) {
            if (!r.isArray() || r.size() != 2 || !r.get(0).canConvertToLong() || !r.get(1).canConvertToLong()
                    || !r.get(0).isIntegralNumber() || !r.get(1).isIntegralNumber()) {
                throw new ConfigurationException("move job " + source + " -> " + target + ": range " + r
                        + " is not a [startExclusive, endInclusive] pair of 64-bit integers");
            }
            ranges.add(new TokenRange(r.get(0).longValue(), r.get(1).longValue()));
        }
        Map<String, Long> rows = new LinkedHashMap<>();
        JsonNode rpt = json.get("rowsPerTable");
        if (rpt != null && !rpt.isNull()) {
            if (!rpt.isObject()) {
                throw new ConfigurationException("move job " + source + " -> " + target
                        + ": 'rowsPerTable' must be an object of table name to row count");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = rpt.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToLong()) {
                    throw new ConfigurationException("move job " + source + " -> " + target + ": row count of "
                            + e.getKey() + " is " + e.getValue() + ", not an integer");
                }
                rows.put(e.getKey(), e.getValue().longValue());
            }
        }
        return new MoveJob(source, target, ranges, rows);
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || !v.isTextual()) {
            throw new ConfigurationException("a move job in JSON needs the text field '" + field + "', got " + v);
        }
        return v.textValue();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof MoveJob)) {
            return false;
        }
        MoveJob j = (MoveJob) o;
        return source.equals(j.source) && target.equals(j.target) && ranges.equals(j.ranges)
                && rowsPerTable.equals(j.rowsPerTable);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, target, ranges, rowsPerTable);
    }

    @Override
    public String toString() {
        return "MoveJob(" + source + " -> " + target + ", " + ranges.size() + " ranges, share "
                + String.format(java.util.Locale.ROOT, "%.4f", share) + ", rows " + rowsPerTable + ")";
    }
}
