package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Writers that can see loss: each inserts rows, increments them ({@code val = val + 1}) and deletes them through a
 * router, and remembers what was acknowledged. {@link #check} then asserts that every acknowledged live row is
 * present exactly once, on its owner, with {@code val} equal to its acknowledged increments, and that no
 * acknowledged-deleted row is anywhere. A write whose commit outcome is unknown (the connection broke after the
 * statements ran) is counted as uncertain and retried: a retried insert or delete is idempotent, and a retried
 * increment widens the allowed value by one.
 *
 * <p>The workload also holds a static table, {@code notes}, loaded once and never written: its rows must all
 * survive every move exactly once.
 */
final class Workload {
    /** Ids of writer rows: writer w uses w * ID_SPACE + n, so writers never collide. */
    private static final long ID_SPACE = 1_000_000_000L;

    private enum State { INSERTING, LIVE, DELETING, DELETED }

    /** One row a writer owns; only that writer mutates it, {@link #check} reads it after the writers stopped. */
    private static final class Row {
        final long tenant;
        volatile State state = State.INSERTING;
        volatile long acked;
        volatile long uncertain;

        Row(long tenant) {
            this.tenant = tenant;
        }
    }

    /** The row an increment or delete found missing although its insert was acknowledged: a lost write. */
    static final class LostWrite extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LostWrite(String message) {
            super(message);
        }
    }

    private final ShardedDataSource router;
    private final int tenants;
    private final Map<Long, Row> rows = new ConcurrentHashMap<>();
    private final Map<Long, Long> notes = new HashMap<>();
    private final List<Thread> writers = new ArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong exceptions = new AtomicLong();
    private final AtomicLong ambiguous = new AtomicLong();
    private volatile AtomicLongArray opsByWriter = new AtomicLongArray(0);
    /** A tenant that takes half of the inserts (a whale), or -1. */
    private volatile long hot = -1;
    /** When set, a write that throws is a test failure instead of being retried. */
    private volatile boolean exceptionsFail;

    Workload(ShardedDataSource router, int tenants) {
        this.router = router;
        this.tenants = tenants;
    }

    /** Loads {@code perTenant} notes for every tenant on its owner, in one batch per shard. */
    void loadNotes(int perTenant) throws SQLException {
        List<Long> keys = new ArrayList<>();
        for (long t = 0; t < tenants; t++) {
            keys.add(t);
        }
        for (Map.Entry<String, List<Long>> e : router.groupByShard(keys).entrySet()) {
            try (Connection c = router.node(e.getKey()).getConnection(); PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO notes (tenant_id, id, body) VALUES (?, ?, ?)")) {
                for (long tenant : e.getValue()) {
                    for (int i = 0; i < perTenant; i++) {
                        long id = tenant * 1000 + i;
                        ps.setLong(1, tenant);
                        ps.setLong(2, id);
                        ps.setString(3, "note " + i + " of tenant " + tenant);
                        ps.addBatch();
                        notes.put(id, tenant);
                    }
                }
                ps.executeBatch();
            }
        }
    }

    /** Sends half of the inserts (and so of the increments and deletes) to {@code tenant}. */
    void focus(long tenant) {
        this.hot = tenant;
    }

    /** Acknowledged live rows of one tenant. */
    long acknowledgedLiveRows(long tenant) {
        return rows.values().stream().filter(r -> r.tenant == tenant && r.state == State.LIVE).count();
    }

    /** With {@code true}, any exception a write sees fails the test: the application must never notice a move. */
    void exceptionsFail(boolean fail) {
        this.exceptionsFail = fail;
    }

    void start(int threads) {
        stop.set(false);
        int first = writers.size();
        AtomicLongArray counts = new AtomicLongArray(first + threads);
        for (int i = 0; i < first; i++) {
            counts.set(i, opsByWriter.get(i));
        }
        opsByWriter = counts;
        for (int t = first; t < first + threads; t++) {
            int index = t;
            Thread th = new Thread(() -> write(index), "writer-" + t);
            th.setDaemon(true);
            th.start();
            writers.add(th);
        }
    }

    private void write(int index) {
        SplittableRandom rnd = new SplittableRandom(index * 31L + 7);
        List<Long> mine = new ArrayList<>();
        long next = index * ID_SPACE + 1;
        try {
            while (!stop.get()) {
                int dice = rnd.nextInt(10);
                if (mine.isEmpty() || dice < 4) {
                    long id = next++;
                    long whale = hot;
                    Row row = new Row(whale >= 0 && rnd.nextBoolean() ? whale : rnd.nextInt(tenants));
                    rows.put(id, row);
                    untilAcknowledged(row.tenant, c -> {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (tenant_id, id, val)"
                                + " VALUES (?, ?, 0) ON CONFLICT DO NOTHING")) {
                            ps.setLong(1, row.tenant);
                            ps.setLong(2, id);
                            ps.executeUpdate();
                        }
                    });
                    row.state = State.LIVE;
                    mine.add(id);
                } else if (dice < 8) {
                    long id = mine.get(rnd.nextInt(mine.size()));
                    Row row = rows.get(id);
                    int unknown = untilAcknowledged(row.tenant, c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "UPDATE events SET val = val + 1 WHERE tenant_id = ? AND id = ?")) {
                            ps.setLong(1, row.tenant);
                            ps.setLong(2, id);
                            if (ps.executeUpdate() != 1) {
                                throw new LostWrite("acknowledged row " + id + " of tenant " + row.tenant
                                        + " is missing on " + router.nodeFor(row.tenant) + " (increment)");
                            }
                        }
                    });
                    row.acked++;
                    row.uncertain += unknown;
                } else {
                    long id = mine.remove(rnd.nextInt(mine.size()));
                    Row row = rows.get(id);
                    row.state = State.DELETING;
                    boolean[] maybeDone = {false};
                    untilAcknowledged(row.tenant, c -> {
                        try (PreparedStatement ps = c.prepareStatement(
                                "DELETE FROM events WHERE tenant_id = ? AND id = ?")) {
                            ps.setLong(1, row.tenant);
                            ps.setLong(2, id);
                            // after an attempt whose commit is unknown, the row may be gone already
                            if (ps.executeUpdate() != 1 && !maybeDone[0]) {
                                throw new LostWrite("acknowledged row " + id + " of tenant " + row.tenant
                                        + " is missing on " + router.nodeFor(row.tenant) + " (delete)");
                            }
                        }
                    }, maybeDone);
                    row.state = State.DELETED;
                }
                opsByWriter.incrementAndGet(index);
            }
        } catch (Throwable e) {
            failures.add(e);
        }
    }

    private interface Write {
        void apply(Connection c) throws SQLException;
    }

    private int untilAcknowledged(long tenant, Write w) throws InterruptedException {
        return untilAcknowledged(tenant, w, new boolean[1]);
    }

    /**
     * Runs the write through {@code inTransaction} until it is acknowledged; returns how many attempts failed after
     * their statements had run (commit outcome unknown); {@code maybeDone[0]} becomes true at the first such attempt.
     */
    private int untilAcknowledged(long tenant, Write w, boolean[] maybeDone) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int unknown = 0;
        while (true) {
            boolean[] ran = {false};
            try {
                router.inTransaction(tenant, c -> {
                    ran[0] = false;
                    w.apply(c);
                    ran[0] = true;
                    return null;
                });
                return unknown;
            } catch (LostWrite e) {
                throw e;
            } catch (RuntimeException e) {
                exceptions.incrementAndGet();
                if (exceptionsFail) {
                    throw new AssertionError("the application saw an exception for tenant " + tenant, e);
                }
                if (ran[0]) {
                    unknown++;
                    ambiguous.incrementAndGet();
                    maybeDone[0] = true;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a write for tenant " + tenant + " was refused for 60 s", e);
                }
                Thread.sleep(5);
            }
        }
    }

    long ops() {
        long sum = 0;
        AtomicLongArray a = opsByWriter;
        for (int i = 0; i < a.length(); i++) {
            sum += a.get(i);
        }
        return sum;
    }

    long[] opsByWriter() {
        AtomicLongArray a = opsByWriter;
        long[] out = new long[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i);
        }
        return out;
    }

    /** Exceptions the writers saw (and retried, unless {@link #exceptionsFail}). */
    long exceptions() {
        return exceptions.get();
    }

    long ambiguousCommits() {
        return ambiguous.get();
    }

    long acknowledgedLiveRows() {
        return rows.values().stream().filter(r -> r.state == State.LIVE).count();
    }

    long acknowledgedDeletes() {
        return rows.values().stream().filter(r -> r.state == State.DELETED).count();
    }

    void awaitOps(long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (ops() < atLeast && System.nanoTime() < deadline) {
            failFast();
            Thread.sleep(20);
        }
        failFast();
        assertThat(ops()).as("writer operations within 120 s").isGreaterThanOrEqualTo(atLeast);
    }

    /**
     * Waits until every writer has done {@code more} operations beyond {@code from}; returns null on success, else
     * which writer did not within {@code bound}.
     */
    String awaitEachWriter(long[] from, int more, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            long[] now = opsByWriter();
            String behind = null;
            for (int i = 0; i < from.length; i++) {
                if (now[i] - from[i] < more) {
                    behind = "writer-" + i + " did " + (now[i] - from[i]) + " operations (wanted " + more + ")";
                    break;
                }
            }
            if (behind == null) {
                return null;
            }
            if (!failures.isEmpty() || System.nanoTime() > deadline) {
                return behind + " within " + bound.toMillis() + " ms"
                        + (failures.isEmpty() ? "" : "; a writer failed: " + failures.get(0));
            }
            Thread.sleep(5);
        }
    }

    private void failFast() {
        if (!failures.isEmpty()) {
            throw new AssertionError("a writer failed", failures.get(0));
        }
    }

    /** Stops the writers; each must finish its current operation and end within 70 s. */
    void stop() throws InterruptedException {
        stop.set(true);
        for (Thread t : writers) {
            t.join(70_000);
        }
        for (Thread t : writers) {
            assertThat(t.isAlive()).as("%s still running 70 s after stop", t.getName()).isFalse();
        }
        failFast();
    }

    /**
     * Every acknowledged live row present exactly once, on its owner in {@code topology}, with val in [acknowledged
     * increments, + uncertain ones]; no acknowledged-deleted row anywhere; no row nobody wrote; every note present
     * exactly once on its owner. Shards outside the topology must hold no rows.
     */
    void check(Topology topology, List<PgShard> shards) throws SQLException {
        Map<Long, Integer> copies = new HashMap<>();
        Map<Long, Integer> noteCopies = new HashMap<>();
        for (PgShard s : shards) {
            boolean member = topology.nodes().containsKey(s.name());
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                try (ResultSet r = st.executeQuery("SELECT to_regclass('public.events') IS NOT NULL")) {
                    r.next();
                    if (!r.getBoolean(1)) {
                        continue; // a shard that never held the tables
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT tenant_id, id, val FROM events")) {
                    while (rs.next()) {
                        long tenant = rs.getLong(1);
                        long id = rs.getLong(2);
                        assertThat(member).as("row %s of tenant %s on %s, which left the ring", id, tenant, s.name())
                                .isTrue();
                        assertThat(topology.ring().route(tenant).id()).as("owner of tenant %s (row %s found on %s)",
                                tenant, id, s.name()).isEqualTo(s.name());
                        Row row = rows.get(id);
                        assertThat(row).as("row %s of tenant %s on %s, which no writer wrote", id, tenant, s.name())
                                .isNotNull();
                        assertThat(row.state).as("row %s of tenant %s on %s was deleted (acknowledged)", id, tenant,
                                s.name()).isNotEqualTo(State.DELETED);
                        assertThat(rs.getLong(3)).as("val of row %s (tenant %s) on %s: %s acknowledged increments,"
                                + " %s uncertain", id, tenant, s.name(), row.acked, row.uncertain)
                                .isBetween(row.acked, row.acked + row.uncertain);
                        copies.merge(id, 1, Integer::sum);
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT tenant_id, id FROM notes")) {
                    while (rs.next()) {
                        long tenant = rs.getLong(1);
                        assertThat(topology.ring().route(tenant).id()).as("owner of note %s of tenant %s found on %s",
                                rs.getLong(2), tenant, s.name()).isEqualTo(s.name());
                        noteCopies.merge(rs.getLong(2), 1, Integer::sum);
                    }
                }
            }
        }
        rows.forEach((id, row) -> {
            if (row.state == State.LIVE) {
                assertThat(copies.get(id)).as("copies of acknowledged row %s of tenant %s", id, row.tenant)
                        .isEqualTo(1);
            }
        });
        copies.forEach((id, n) -> assertThat(n).as("copies of row %s", id).isEqualTo(1));
        assertThat(noteCopies.keySet()).as("notes").isEqualTo(notes.keySet());
        noteCopies.forEach((id, n) -> assertThat(n).as("copies of note %s", id).isEqualTo(1));
    }
}
