package io.shardring.migration.plan;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.ring.Pin;
import io.shardring.router.ring.RingDiff;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What a topology change would do: the topology before and after, the arcs that change owner, one
 * {@link MoveJob} per (source, target) pair with its row counts, and what the shards say about moving
 * (warnings, and errors that make the plan not executable). Immutable; made by {@link Planner}.
 */
public final class Plan {
    /** Jobs by source, then target node id. */
    static final Comparator<MoveJob> JOB_ORDER = Comparator.comparing(MoveJob::source).thenComparing(MoveJob::target);

    private final Topology before;
    private final Topology after;
    private final String change;
    private final RingDiff diff;
    private final List<MoveJob> jobs;
    private final List<String> warnings;
    private final List<String> errors;

    Plan(Topology before, Topology after, String change, RingDiff diff, List<MoveJob> jobs, List<String> warnings,
            List<String> errors) {
        this.before = Objects.requireNonNull(before, "before");
        this.after = Objects.requireNonNull(after, "after");
        this.change = Objects.requireNonNull(change, "change");
        this.diff = Objects.requireNonNull(diff, "diff");
        List<MoveJob> sorted = new ArrayList<>(jobs);
        sorted.sort(JOB_ORDER);
        this.jobs = List.copyOf(sorted);
        this.warnings = List.copyOf(warnings);
        this.errors = List.copyOf(errors);
    }

    /** The current topology. */
    public Topology before() {
        return before;
    }

    /** The topology after the change, tokens stored. */
    public Topology after() {
        return after;
    }

    /** The change, as {@link TopologyChange#describe()} puts it. */
    public String change() {
        return change;
    }

    /** The arcs whose owner changes. */
    public RingDiff diff() {
        return diff;
    }

    /** One job per (source, target) pair, ordered by source, then target node id. */
    public List<MoveJob> jobs() {
        return jobs;
    }

    /** The share of the keyspace that changes owner, in [0, 1]. */
    public double movedShare() {
        return diff.movedShare();
    }

    /** The rows counted in all jobs. */
    public long rowsToMove() {
        long n = 0;
        for (MoveJob j : jobs) {
            n += j.rows();
        }
        return n;
    }

    /** Things an operator should know before moving; they do not stop the plan. */
    public List<String> warnings() {
        return warnings;
    }

    /** Things that make the moves unsafe or impossible; fix them and plan again. */
    public List<String> errors() {
        return errors;
    }

    /** True when there are no {@link #errors()}. A plan with no jobs is executable (it does nothing). */
    public boolean isExecutable() {
        return errors.isEmpty();
    }

    /** A human-readable report: a summary, a table of the jobs, each job's rows and ranges, warnings, errors. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("plan: ").append(change).append('\n');
        out.append("topology version ").append(before.version()).append(" -> ").append(after.version())
                .append(", key type ").append(before.ring().keyType().sqlType()).append(", nodes ")
                .append(before.nodes().keySet()).append(" -> ").append(after.nodes().keySet()).append('\n');
        if (jobs.isEmpty()) {
            out.append("nothing moves: every key keeps its owner\n");
        } else {
            out.append(String.format(Locale.ROOT, "moves %s of the keyspace in %d %s, %,d rows%n",
                    percent(movedShare()), jobs.size(), jobs.size() == 1 ? "job" : "jobs", rowsToMove()));
            out.append('\n');
            String[] header = {"JOB", "SOURCE", "", "TARGET", "RANGES", "SHARE", "ROWS"};
            List<String[]> rows = new ArrayList<>();
            rows.add(header);
            for (int i = 0; i < jobs.size(); i++) {
                MoveJob j = jobs.get(i);
                rows.add(new String[] {Integer.toString(i + 1), j.source(), "->", j.target(),
                        Integer.toString(j.ranges().size()), percent(j.share()),
                        counted(j) ? String.format(Locale.ROOT, "%,d", j.rows()) : "not counted"});
            }
            appendTable(out, rows, new boolean[] {true, false, false, false, true, true, true});
            for (int i = 0; i < jobs.size(); i++) {
                MoveJob j = jobs.get(i);
                out.append('\n').append("job ").append(i + 1).append(": ").append(j.source()).append(" -> ")
                        .append(j.target()).append('\n');
                if (!counted(j)) {
                    out.append("  rows: not counted\n");
                } else {
                    int w = 0;
                    for (String t : j.rowsPerTable().keySet()) {
                        w = Math.max(w, t.length());
                    }
                    for (var e : j.rowsPerTable().entrySet()) {
                        out.append(String.format(Locale.ROOT, "  %-" + w + "s  %,12d%n", e.getKey(), e.getValue()));
                    }
                }
                out.append("  ranges (startExclusive, endInclusive]:\n");
                StringBuilder line = new StringBuilder("   ");
                for (TokenRange r : j.ranges()) {
                    String s = " " + r;
                    if (line.length() + s.length() > 100 && line.length() > 3) {
                        out.append(line).append('\n');
                        line = new StringBuilder("   ");
                    }
                    line.append(s);
                }
                out.append(line).append('\n');
            }
        }
        if (!after.pins().isEmpty()) {
            List<String> pins = new ArrayList<>();
            for (Pin p : after.pins()) {
                pins.add(p.key() + " on " + p.node() + " (hash " + p.hash() + ")");
                if (pins.size() == 10) {
                    pins.add("... " + (after.pins().size() - 10) + " more");
                    break;
                }
            }
            out.append('\n').append("pinned keys after: ").append(String.join(", ", pins)).append('\n');
        }
        if (!before.tables().isEmpty()) {
            List<String> names = new ArrayList<>();
            for (ShardedTable t : before.tables()) {
                names.add(t.displayName() + "(" + t.keyColumn() + ")");
            }
            out.append('\n').append("sharded tables: ").append(String.join(", ", names)).append('\n');
        }
        appendList(out, "warnings", warnings);
        appendList(out, "errors", errors);
        out.append('\n').append(isExecutable() ? "executable" : "NOT executable: fix the errors above and plan again")
                .append('\n');
        return out.toString();
    }

    /**
     * The plan's facts as JSON: change, versions, key type, nodes before and after, moved share, rows to move,
     * executable, jobs (see {@link MoveJob#toJson()}), warnings and errors.
     */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("change", change);
        o.put("fromVersion", before.version());
        o.put("toVersion", after.version());
        o.put("keyType", before.ring().keyType().sqlType());
        ArrayNode nb = o.putArray("nodesBefore");
        before.nodes().keySet().forEach(nb::add);
        ArrayNode na = o.putArray("nodesAfter");
        after.nodes().keySet().forEach(na::add);
        ArrayNode tables = o.putArray("tables");
        for (ShardedTable t : before.tables()) {
            tables.addObject().put("table", t.displayName()).put("keyColumn", t.keyColumn());
        }
        ArrayNode pins = o.putArray("pinsAfter");
        for (Pin p : after.pins()) {
            pins.addObject().put("key", p.key().toString()).put("node", p.node()).put("hash", p.hash());
        }
        o.put("movedShare", movedShare());
        o.put("rowsToMove", rowsToMove());
        o.put("executable", isExecutable());
        ArrayNode js = o.putArray("jobs");
        for (MoveJob j : jobs) {
            js.add(j.toJson());
        }
        ArrayNode ws = o.putArray("warnings");
        warnings.forEach(ws::add);
        ArrayNode es = o.putArray("errors");
        errors.forEach(es::add);
        return o;
    }

    @Override
    public String toString() {
        return "Plan(" + change + ", " + jobs.size() + " jobs, moved share " + percent(movedShare()) + ", "
                + rowsToMove() + " rows, " + warnings.size() + " warnings, " + errors.size() + " errors)";
    }

    private boolean counted(MoveJob j) {
        return !j.rowsPerTable().isEmpty() || before.tables().isEmpty();
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.2f%%", share * 100);
    }

    private static void appendList(StringBuilder out, String title, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        out.append('\n').append(title).append(" (").append(items.size()).append("):\n");
        for (String s : items) {
            out.append("  - ").append(s).append('\n');
        }
    }

    private static void appendTable(StringBuilder out, List<String[]> rows, boolean[] rightAligned) {
        int[] widths = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                widths[c] = Math.max(widths[c], r[c].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < r.length; c++) {
                if (c > 0) {
                    line.append("  ");
                }
                String pad = " ".repeat(widths[c] - r[c].length());
                line.append(rightAligned[c] ? pad + r[c] : r[c] + pad);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
