package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Checks every node of the catalog's topology: the owned ranges recorded on the node"
                    + " (shardring.owned_ranges, which the ownership guard enforces) equal the ranges the topology"
                    + " gives it, the node knows itself by its id, and no row of any sharded table lies outside its"
                    + " owned ranges. Reports per node; exit code 1 if anything is off.",
            "During a move, a fenced range is owned by no node for a moment: verify after the move."},
        footerHeading = "%nExample:%n", footer = "  shardring verify --config shardring.yaml")
final class VerifyCommand extends CliCommand {

    @Override
    int execute() {
        Topology t = current();
        boolean moving = running().isPresent();
        boolean allOk = true;
        if (!json()) {
            say("verify topology version " + t.version() + " on " + t.nodes().size() + " nodes"
                    + (moving ? " (a move is running: differences may be transient)" : ""));
        }
        int w = t.nodes().keySet().stream().mapToInt(String::length).max().orElse(4);
        for (String id : t.nodes().keySet()) {
            List<String> problems = new ArrayList<>();
            Map<String, Long> outside = new LinkedHashMap<>();
            int arcs = 0;
            try (Connection c = pools().apply(id).getConnection()) {
                Object[] identity = OwnershipGuard.identity(c);
                if (identity == null) {
                    problems.add("no shardring identity: run `shardring init` (or schema migrate)");
                } else if (!id.equals(identity[0])) {
                    problems.add("the database records itself as node '" + identity[0] + "'");
                }
                List<long[]> stored = HashIntervals.of(OwnershipGuard.readOwned(c));
                List<TokenRange> expectedRanges = t.ownedRanges(id);
                List<long[]> expected = HashIntervals.of(expectedRanges);
                arcs = expected.size();
                if (!HashIntervals.same(stored, expected)) {
                    problems.add("owned ranges differ: the node records " + stored.size() + " intervals ("
                            + share(stored) + " of the keyspace), topology version " + t.version() + " gives it "
                            + expected.size() + " (" + share(expected) + ")");
                }
                for (ShardedTable tb : t.tables()) {
                    String sql = "SELECT count(*) FROM " + tb.quotedName() + " WHERE NOT ("
                            + TokenRange.toSql(expectedRanges, t.ring().keyType(), tb.keyColumn()) + ")";
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                        rs.next();
                        long n = rs.getLong(1);
                        outside.put(tb.displayName(), n);
                        if (n > 0) {
                            problems.add(n + " rows of " + tb.displayName() + " lie outside its owned ranges");
                        }
                    } catch (SQLException e) {
                        problems.add(tb.displayName() + ": " + firstLine(e));
                    }
                }
            } catch (SQLException | RuntimeException e) {
                problems.add("cannot check: " + firstLine(e));
            }
            boolean ok = problems.isEmpty();
            allOk &= ok;
            if (json()) {
                ObjectNode o = object("verify");
                o.put("node", id);
                o.put("ok", ok);
                o.put("intervals", arcs);
                ObjectNode rows = o.putObject("rowsOutside");
                outside.forEach(rows::put);
                problems.forEach(o.withArray("problems")::add);
                emit(o);
            } else {
                StringBuilder sb = new StringBuilder(String.format("  %-" + w + "s  ", id));
                if (ok) {
                    sb.append("ok      owned ranges match (").append(arcs).append(" intervals)");
                    outside.forEach((tb, n) -> sb.append(", ").append(tb).append(": ").append(n).append(" rows outside"));
                } else {
                    sb.append("FAILED  ").append(String.join("; ", problems));
                }
                say(sb.toString());
            }
        }
        if (json()) {
            emit(object("verify-summary").put("version", t.version()).put("ok", allOk).put("moveRunning", moving));
        } else {
            say(allOk ? "all " + t.nodes().size() + " nodes consistent with topology version " + t.version()
                    : "verify FAILED: see the nodes above");
        }
        return allOk ? ShardringCli.OK : ShardringCli.FAILED;
    }

    static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    static String share(List<long[]> iv) {
        double total = 0;
        for (long[] i : iv) {
            total += (double) i[1] - (double) i[0] + 1;
        }
        return String.format(java.util.Locale.ROOT, "%.2f%%", 100 * total / Math.pow(2, 64));
    }
}
