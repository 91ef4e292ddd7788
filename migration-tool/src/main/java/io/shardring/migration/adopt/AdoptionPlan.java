package io.shardring.migration.adopt;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.plan.TableRules;
import io.shardring.router.schema.SequenceRanges;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code shardring adopt} found on an application's database and on the nodes to come, and what it would do:
 * server prerequisites first, then every table (sharded, reference, blocked, unlisted, each problem with the DDL that
 * fixes it), the sequences and the id range they get, the clients not on a router, Flyway's state, and the steps of an
 * adoption already begun. Made by {@link Adoption#inspect}; immutable.
 */
public final class AdoptionPlan {
    /** A server setting or right that adoption needs; {@code fix} says what to change when it fails. */
    public record Check(String name, boolean ok, String detail, String fix) {
    }

    /** A node of the configuration that is not in the ring yet. */
    public record NodeToCome(String id, String address, boolean reachable, String detail) {
    }

    /** Where an earlier adoption of this database stands. */
    public enum State { NEW, BEGUN, ADOPTED }

    final String node;
    final String address;
    final String server;
    final List<Check> checks;
    final List<TableRules.Report> tables;
    final List<SequenceRanges.Fed> sequences;
    final List<UnroutedClients.Client> clients;
    final String flyway;
    final List<NodeToCome> nodesToCome;
    final State state;
    final List<String> stepsDone;
    final long adoptedVersion;
    final List<String> refusals;
    final String keyType;

    AdoptionPlan(String node, String address, String server, List<Check> checks, List<TableRules.Report> tables,
            List<SequenceRanges.Fed> sequences, List<UnroutedClients.Client> clients, String flyway,
            List<NodeToCome> nodesToCome, State state, List<String> stepsDone, long adoptedVersion,
            List<String> refusals, String keyType) {
        this.node = node;
        this.address = address;
        this.server = server;
        this.checks = List.copyOf(checks);
        this.tables = List.copyOf(tables);
        this.sequences = List.copyOf(sequences);
        this.clients = List.copyOf(clients);
        this.flyway = flyway;
        this.nodesToCome = List.copyOf(nodesToCome);
        this.state = state;
        this.stepsDone = List.copyOf(stepsDone);
        this.adoptedVersion = adoptedVersion;
        this.refusals = List.copyOf(refusals);
        this.keyType = keyType;
    }

    public String node() {
        return node;
    }

    public State state() {
        return state;
    }

    public List<TableRules.Report> tables() {
        return tables;
    }

    public List<Check> checks() {
        return checks;
    }

    public List<UnroutedClients.Client> clients() {
        return clients;
    }

    public List<String> stepsDone() {
        return stepsDone;
    }

    /** Why adoption cannot go on as things are: a failed prerequisite, a blocked or unlisted table, a refusal. */
    public List<String> blockers() {
        List<String> out = new ArrayList<>(refusals);
        for (Check c : checks) {
            if (!c.ok()) {
                out.add(c.name() + ": " + c.detail() + (c.fix() == null ? "" : "; " + c.fix()));
            }
        }
        for (TableRules.Report r : tables) {
            if (!r.ready()) {
                out.add(r.table() + ": " + r.problems().get(0).what()
                        + (r.problems().size() > 1 ? " (and " + (r.problems().size() - 1) + " more)" : ""));
            }
        }
        return out;
    }

    /** Whether {@code --execute} would adopt (or finish adopting) the database. */
    public boolean executable() {
        return state != State.ADOPTED && blockers().isEmpty();
    }

    /** The plan as an operator reads it. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("adopt: ").append(node).append(" (").append(address).append(", ").append(server)
                .append(") as the ring's first node, ordinal 0; the catalog goes into its database\n");
        if (state == State.ADOPTED) {
            out.append("already adopted: the catalog holds topology version ").append(adoptedVersion)
                    .append("; nothing to do. Split it with `shardring add-node ID...` or `shardring rebalance`\n");
        } else if (state == State.BEGUN) {
            out.append("adoption begun and not finished; done: ").append(String.join(", ", stepsDone))
                    .append("; --execute does the rest\n");
        }
        out.append('\n').append("prerequisites:\n");
        for (Check c : checks) {
            out.append(c.ok() ? "  ok      " : "  FAILED  ").append(c.name()).append(": ").append(c.detail());
            if (!c.ok() && c.fix() != null) {
                out.append("\n          ").append(c.fix());
            }
            out.append('\n');
        }
        for (String r : refusals) {
            out.append("  REFUSED ").append(r).append('\n');
        }
        out.append('\n').append("tables (key type ").append(keyType).append("):\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"TABLE", "ROWS", "WHAT", "STATE"});
        for (TableRules.Report r : tables) {
            rows.add(new String[] {r.table(), r.rows() < 0 ? "?" : String.format(Locale.ROOT, "%,d", r.rows()),
                r.describe(), r.ready() ? "ready" : r.kind() == TableRules.Kind.UNLISTED ? "UNLISTED" : "BLOCKED"});
        }
        table(out, rows);
        for (TableRules.Report r : tables) {
            for (TableRules.Problem p : r.problems()) {
                out.append('\n').append(r.kind() == TableRules.Kind.UNLISTED ? "unlisted " : "blocked ")
                        .append(r.table()).append(": ").append(p.what()).append('\n');
                for (String f : p.fix()) {
                    out.append("    ").append(f).append('\n');
                }
            }
        }
        List<String> notes = new ArrayList<>();
        for (TableRules.Report r : tables) {
            r.notes().forEach(n -> notes.add(r.table() + ": " + n));
        }
        if (!notes.isEmpty()) {
            out.append('\n').append("notes:\n");
            notes.forEach(n -> out.append("  - ").append(n).append('\n'));
        }
        if (!sequences.isEmpty()) {
            out.append('\n').append(String.format(Locale.ROOT, "sequences (node ordinal 0 draws ids %,d..%,d; each"
                    + " new node its own range of 2^%d):%n", SequenceRanges.low(0), SequenceRanges.high(0),
                    SequenceRanges.BITS));
            List<String[]> seqs = new ArrayList<>();
            seqs.add(new String[] {"SEQUENCE", "NEXT", "FILLS"});
            for (SequenceRanges.Fed f : sequences) {
                seqs.add(new String[] {f.displayName(), String.format(Locale.ROOT, "%,d", f.next()),
                    String.join(", ", f.columns().stream().map(SequenceRanges.Column::displayName).toList())});
            }
            table(out, seqs);
        }
        out.append('\n').append("flyway: ").append(flyway).append('\n');
        out.append('\n').append("clients not on a router:");
        if (clients.isEmpty()) {
            out.append(" none\n");
        } else {
            out.append('\n');
            clients.forEach(c -> out.append("  ").append(c).append('\n'));
            out.append("  until the first cutover they may go on; after it their writes to moved keys are refused"
                    + " (SQLSTATE SR001): switch them to the router (docs/adopting.md) before splitting\n");
        }
        if (!nodesToCome.isEmpty()) {
            out.append('\n').append("nodes to come (added later by add-node or rebalance):\n");
            for (NodeToCome n : nodesToCome) {
                out.append("  ").append(n.id()).append(" (").append(n.address()).append("): ").append(n.detail())
                        .append('\n');
            }
        }
        out.append('\n');
        if (state == State.ADOPTED) {
            out.append("adopted\n");
        } else if (executable()) {
            out.append("executable: run the same command with --execute to adopt ").append(node).append('\n');
        } else {
            out.append("NOT executable: fix the above (").append(blockers().size()).append(blockers().size() == 1
                    ? " thing" : " things").append(") and run adopt again\n");
        }
        return out.toString();
    }

    /** The plan as one JSON object. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("node", node);
        o.put("address", address);
        o.put("server", server);
        o.put("state", state.name().toLowerCase(Locale.ROOT));
        stepsDone.forEach(o.putArray("stepsDone")::add);
        if (state == State.ADOPTED) {
            o.put("version", adoptedVersion);
        }
        ArrayNode cs = o.putArray("prerequisites");
        checks.forEach(c -> cs.addObject().put("name", c.name()).put("ok", c.ok()).put("detail", c.detail())
                .put("fix", c.fix()));
        refusals.forEach(o.putArray("refusals")::add);
        o.put("keyType", keyType);
        ArrayNode ts = o.putArray("tables");
        for (TableRules.Report r : tables) {
            ObjectNode t = ts.addObject().put("table", r.table()).put("kind", r.kind().name().toLowerCase(Locale.ROOT))
                    .put("keyColumn", r.keyColumn()).put("rows", r.rows()).put("ready", r.ready());
            ArrayNode ps = t.putArray("problems");
            for (TableRules.Problem p : r.problems()) {
                ObjectNode po = ps.addObject().put("topic", p.topic().name().toLowerCase(Locale.ROOT))
                        .put("problem", p.what());
                p.fix().forEach(po.putArray("fix")::add);
            }
            r.notes().forEach(t.putArray("notes")::add);
        }
        ArrayNode ss = o.putArray("sequences");
        for (SequenceRanges.Fed f : sequences) {
            ObjectNode so = ss.addObject().put("sequence", f.displayName()).put("next", f.next());
            f.columns().forEach(col -> so.withArray("columns").add(col.displayName()));
        }
        o.put("flyway", flyway);
        ArrayNode cl = o.putArray("unroutedClients");
        clients.forEach(c -> cl.addObject().put("application", c.application()).put("address", c.address())
                .put("sessions", c.sessions()).put("writing", c.writing()));
        ArrayNode nc = o.putArray("nodesToCome");
        nodesToCome.forEach(n -> nc.addObject().put("id", n.id()).put("address", n.address())
                .put("reachable", n.reachable()).put("detail", n.detail()));
        blockers().forEach(o.putArray("blockers")::add);
        o.put("executable", executable());
        return o;
    }

    private static void table(StringBuilder out, List<String[]> rows) {
        int[] w = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder("  ");
            for (int i = 0; i < r.length; i++) {
                String pad = " ".repeat(w[i] - r[i].length());
                line.append(i == 1 ? pad + r[i] : r[i] + pad).append("  ");
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
