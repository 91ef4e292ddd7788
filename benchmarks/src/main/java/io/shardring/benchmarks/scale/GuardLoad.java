package io.shardring.benchmarks.scale;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.Sql;
import io.shardring.router.topology.ShardedTable;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The guard's per-row cost on one real embedded PostgreSQL, for one node of the simulated ring: rows whose keys
 * the node owns are bulk-loaded with {@code COPY ... FROM STDIN} into {@code t (tenant_id bigint PRIMARY KEY,
 * val integer)}, the table emptied with {@code TRUNCATE} between rounds, under four triggers in turn:
 * <ul>
 * <li>{@link Variant#NO_GUARD}: the trigger dropped ({@link OwnershipGuard#drop});
 * <li>{@link Variant#GUARD}: the router's current guard ({@link OwnershipGuard#install} and
 * {@link OwnershipGuard#setOwnedRanges} with the node's {@code ring.rangesOf(node)});
 * <li>{@link Variant#OLD_CHAIN}: the old guard ({@link OldChainGuard}, a linear {@code BETWEEN ... OR} chain) over
 * the same arcs;
 * <li>{@link Variant#OLD_CHAIN_1000}: the old chain over {@value #OLD_ARCS} intervals, the node's real ones plus
 * small disjoint made-up arcs evenly spread over the ring, sorted by their low end (the arc count a node had at
 * 1,000 nodes under the old allocation; the made-up arcs own no loaded key, so each row still walks about half
 * the chain as it would have).
 * </ul>
 * Each round runs every variant once, in an order that rotates from round to round so that drift hits all alike,
 * after one warm-up round; each variant's figure is the median of its rounds, in microseconds per row (elapsed
 * time of the COPY statement, which commits itself, over the rows). Before each timed COPY a key the node does
 * not own is written to prove that the trigger in place rejects it (or, without a guard, accepts it).
 */
final class GuardLoad {
    static final int OLD_ARCS = 1000;
    /** Width in hash values of each made-up arc of {@link Variant#OLD_CHAIN_1000}. */
    static final long MADE_UP_ARC_WIDTH = 1024;
    static final long MADE_UP_SEED = 0x01d_c4a1L;
    static final String TABLE = "t";
    static final String OLD_CHAIN_FN = "scalebench_old_chain";
    static final String OLD_CHAIN_1000_FN = "scalebench_old_chain_1000";

    enum Variant {
        NO_GUARD("no_guard"), GUARD("guard"), OLD_CHAIN("old_chain"), OLD_CHAIN_1000("old_chain_1000");

        final String key;

        Variant(String key) {
            this.key = key;
        }
    }

    private GuardLoad() {
    }

    /** Measures the four variants for {@code node} of {@code ring} and fills {@code out}. */
    static void measure(HashRing ring, String node, int rows, int rounds, ObjectNode out) throws Exception {
        List<TokenRange> owned = ring.rangesOf(node);
        List<TokenRange> old1000 = withMadeUpArcs(owned, OLD_ARCS);
        RingNode owner = ring.node(node);

        // keys the node owns, in ascending order (the primary key index is appended to, as with sequential ids)
        long t0 = System.nanoTime();
        long[] keys = new long[rows];
        long notOwned = Long.MIN_VALUE;
        int n = 0;
        for (long k = 1; n < rows; k++) {
            if (ring.route(k) == owner) {
                keys[n++] = k;
            } else if (notOwned == Long.MIN_VALUE) {
                notOwned = k;
            }
        }
        ScaleBench.log("guard: %d keys owned by %s chosen among the first %d bigints in %.1f s", rows, node,
                keys[rows - 1], (System.nanoTime() - t0) / 1e9);
        StringBuilder sb = new StringBuilder(rows * 14);
        for (long k : keys) {
            sb.append(k).append("\t1\n");
        }
        byte[] copyData = sb.toString().getBytes(StandardCharsets.UTF_8);

        ShardedTable table = ShardedTable.of("public", TABLE, "tenant_id");
        try (PgCluster pg = PgCluster.builder().shards(1).serverSetting("max_wal_size", "4GB")
                .serverSetting("checkpoint_timeout", "30min").serverSetting("shared_buffers", "256MB").start()) {
            PgShard server = pg.shard(0);
            ShardedFlyway.shardringFlyway(server.dataSource()).migrate();
            try (Connection c = server.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE " + TABLE + " (tenant_id bigint PRIMARY KEY, val integer NOT NULL)");
                // the router's guard, as a shard gets it: installed, then the node's ranges set
                c.setAutoCommit(false);
                OwnershipGuard.install(c, node, KeyType.BIGINT, List.of(table));
                OwnershipGuard.setOwnedRanges(c, node, 1, KeyType.BIGINT, owned);
                c.commit();
                c.setAutoCommit(true);
                // the old guard's functions, beside it; a variant points the trigger at one of them
                st.execute(OldChainGuard.functionSql(OLD_CHAIN_FN, node, KeyType.BIGINT, table, owned));
                st.execute(OldChainGuard.functionSql(OLD_CHAIN_1000_FN, node, KeyType.BIGINT, table, old1000));

                CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                Variant[] all = Variant.values();
                Map<Variant, List<Double>> usPerRow = new EnumMap<>(Variant.class);
                ArrayNode samples = out.putArray("rounds");
                for (int r = -1; r < rounds; r++) {
                    for (int i = 0; i < all.length; i++) {
                        Variant v = all[Math.floorMod(i + r, all.length)];
                        use(c, v, node, table);
                        checkActive(c, v, notOwned);
                        st.execute("TRUNCATE " + TABLE);
                        st.execute("CHECKPOINT");
                        long start = System.nanoTime();
                        long loaded = copy.copyIn("COPY " + TABLE + " (tenant_id, val) FROM STDIN",
                                new ByteArrayInputStream(copyData), 1 << 16);
                        long nanos = System.nanoTime() - start;
                        if (loaded != rows) {
                            throw new IllegalStateException("COPY loaded " + loaded + " rows, expected " + rows);
                        }
                        double us = nanos / 1e3 / rows;
                        ScaleBench.log("guard: %s %-15s %7.3f us/row", r < 0 ? "warm-up " : "round " + r, v.key, us);
                        if (r >= 0) {
                            usPerRow.computeIfAbsent(v, x -> new ArrayList<>()).add(us);
                            samples.addObject().put("round", r).put("variant", v.key).put("us_per_row", us);
                        }
                    }
                }
                st.execute("TRUNCATE " + TABLE);
                out.put("postgresql", serverVersion(c));
                out.put("backend", pg.backend());
                for (Variant v : all) {
                    out.put("us_per_row_" + v.key, ScaleBench.median(usPerRow.get(v)));
                }
            }
        }
        out.put("node", node);
        out.put("rows_per_round", rows);
        out.put("rounds", rounds);
        out.put("warmup_rounds", 1);
        out.put("owned_arcs", owned.size());
        out.put("owned_share", share(owned));
        out.put("old_chain_intervals", intervals(owned));
        out.put("old_chain_1000_intervals", intervals(old1000));
        out.put("made_up_arc_width", MADE_UP_ARC_WIDTH);
        out.put("table", "t (tenant_id bigint PRIMARY KEY, val integer NOT NULL), COPY FROM STDIN, autocommit");
        out.put("old_chain_source", "OwnershipGuard.functionSql of commit 98d6045, copied into OldChainGuard");
    }

    /** Points the guard trigger of {@code t} at the variant's function, or drops it. */
    private static void use(Connection c, Variant v, String node, ShardedTable table) throws SQLException {
        switch (v) {
            case NO_GUARD:
                OwnershipGuard.drop(c, table);
                break;
            case GUARD:
                // recompiles the current guard from shardring.owned_ranges and (re)creates the trigger
                c.setAutoCommit(false);
                OwnershipGuard.install(c, node, KeyType.BIGINT, List.of(table));
                c.commit();
                c.setAutoCommit(true);
                break;
            default:
                String fn = v == Variant.OLD_CHAIN ? OLD_CHAIN_FN : OLD_CHAIN_1000_FN;
                OwnershipGuard.drop(c, table);
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TRIGGER " + Sql.quote(OwnershipGuard.TRIGGER) + " BEFORE INSERT OR UPDATE OR"
                            + " DELETE ON " + table.quotedName() + " FOR EACH ROW EXECUTE FUNCTION shardring."
                            + Sql.quote(fn) + "()");
                }
                break;
        }
    }

    /** Writes a key the node does not own: a guard must reject it, no guard must take it. */
    private static void checkActive(Connection c, Variant v, long notOwned) throws SQLException {
        boolean rejected = false;
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO " + TABLE + " (tenant_id, val) VALUES (" + notOwned + ", 0)");
        } catch (SQLException e) {
            if (!StaleTopologyException.SQLSTATE.equals(e.getSQLState())) {
                throw e;
            }
            rejected = true;
        }
        if (rejected != (v != Variant.NO_GUARD)) {
            throw new IllegalStateException("variant " + v.key + ": a key the node does not own was "
                    + (rejected ? "rejected" : "accepted") + "; the trigger in place is not the one measured");
        }
    }

    /**
     * The node's arcs plus small made-up arcs of {@value #MADE_UP_ARC_WIDTH} hashes, evenly spread over the ring
     * and disjoint from each other and from the real ones, until there are {@code total} inclusive intervals (the
     * clauses of the old chain); sorted by their low end, so that the real arcs lie spread along the chain.
     */
    static List<TokenRange> withMadeUpArcs(List<TokenRange> owned, int total) {
        TreeMap<Long, Long> set = new TreeMap<>();
        for (TokenRange r : owned) {
            for (long[] iv : r.inclusiveIntervals()) {
                set.put(iv[0], iv[1]);
            }
        }
        SplittableRandom rnd = new SplittableRandom(MADE_UP_SEED);
        for (int pass = 0; set.size() < total && pass < 50; pass++) {
            int need = total - set.size();
            long step = need == 1 ? Long.MAX_VALUE : Long.divideUnsigned(-1L, need);
            // the first pass puts them half a step in; a later one (after collisions) anywhere in the step
            long offset = (long) (step * (pass == 0 ? 0.5 : rnd.nextDouble()));
            for (int j = 0; j < need && set.size() < total; j++) {
                long lo = Long.MIN_VALUE + step * j + offset; // wraps as unsigned arithmetic: monotonic in j
                long hi = lo + MADE_UP_ARC_WIDTH - 1;
                if (hi >= lo && isFree(set, lo, hi)) {
                    set.put(lo, hi);
                }
            }
        }
        List<TokenRange> out = new ArrayList<>(set.size());
        // [lo, hi] is the arc (lo - 1, hi]; lo - 1 of Long.MIN_VALUE wraps to MAX, which reads back as [MIN, hi]
        set.forEach((lo, hi) -> out.add(new TokenRange(lo - 1, hi)));
        return out;
    }

    /** No interval of the disjoint {@code set} meets [lo, hi]. */
    private static boolean isFree(TreeMap<Long, Long> set, long lo, long hi) {
        Map.Entry<Long, Long> below = set.floorEntry(hi);
        return below == null || below.getValue() < lo;
    }

    private static int intervals(List<TokenRange> ranges) {
        int n = 0;
        for (TokenRange r : ranges) {
            n += r.inclusiveIntervals().size();
        }
        return n;
    }

    private static double share(List<TokenRange> ranges) {
        double s = 0;
        for (TokenRange r : ranges) {
            s += r.share();
        }
        return s;
    }

    private static String serverVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
