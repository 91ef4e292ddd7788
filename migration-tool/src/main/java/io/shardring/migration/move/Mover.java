package io.shardring.migration.move;

import io.shardring.migration.plan.MoveJob;
import io.shardring.migration.plan.Plan;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.Sql;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves key ranges between shards online, each phase journaled in the catalog so that {@link #resume}
 * and {@link #abort} work after a crash at any point.
 *
 * <p>Per job (ranges from one source to one target): <b>prepare</b> (target schema by Flyway, guard
 * installed, leftovers of the ranges removed) → <b>copy</b> (a publication on the source whose row filter
 * is the range predicate, a subscription on the target with {@code copy_data}; PostgreSQL copies and
 * then streams changes) → <b>cutover</b> (fence the ranges on the source, wait until the target applied
 * the source's WAL position taken after the fence, take a snapshot on the target, give the target the
 * ranges, publish the next topology version; writes to the moving keys pause only here) →
 * <b>verify</b> (row count and an order-independent checksum per table, the target's snapshot against
 * the fenced source) → <b>cleanup</b> (subscription, slot and publication dropped; moved rows deleted on
 * the source in batches). Copies of all jobs run at the same time; cutovers one after another, each
 * publishing a topology version in which exactly the jobs cut over so far have moved.
 */
public final class Mover {
    private static final Logger LOG = LoggerFactory.getLogger(Mover.class);

    /** Settings of a mover. */
    public static final class Options {
        private String[] appLocations = {};
        private int deleteBatch = 10_000;
        private Duration syncTimeout = Duration.ofMinutes(30);
        private Duration catchUpTimeout = Duration.ofSeconds(60);

        /** The application's Flyway locations, applied to a target before data moves there. */
        public Options appLocations(String... locations) {
            this.appLocations = locations.clone();
            return this;
        }

        public Options deleteBatch(int rows) {
            this.deleteBatch = rows;
            return this;
        }

        public Options syncTimeout(Duration d) {
            this.syncTimeout = d;
            return this;
        }

        public Options catchUpTimeout(Duration d) {
            this.catchUpTimeout = d;
            return this;
        }
    }

    /** COPY pipes per job; two keep both cores of a small machine busy, more only contend. */
    private static final int COPY_STREAMS = 2;

    /** Phases of a job whose ranges the target owns already. */
    private static final java.util.Set<String> CUT_OVER = java.util.Set.of("verify", "cleanup", "done");

    private final Catalog catalog;
    private final NodePools nodes;
    private final Options options;
    private final MoveListener listener;

    public Mover(Catalog catalog, NodePools nodes, Options options, MoveListener listener) {
        this.catalog = catalog;
        this.nodes = nodes;
        this.options = options;
        this.listener = listener == null ? MoveListener.NONE : listener;
    }

    /** Records and runs a plan; returns the move's id. */
    public long execute(Plan plan) {
        long id = start(plan);
        run(id);
        return id;
    }

    /**
     * Records a plan as a running move. Refuses while another move runs, naming it, and when the catalog
     * moved on since the plan was made.
     */
    public long start(Plan plan) {
        if (!plan.isExecutable()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the plan cannot be executed: "
                    + String.join("; ", plan.errors()));
        }
        Optional<RunningMove> running = running();
        if (running.isPresent()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + running.get().id + " ("
                    + running.get().change + ") is still running; resume or abort it first");
        }
        long current = catalog.version();
        if (current != plan.before().version()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the plan starts from topology version "
                    + plan.before().version() + " but the catalog is at version " + current + "; plan again");
        }
        try (Connection c = catalog.dataSource().getConnection()) {
            c.setAutoCommit(false);
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.moves (change, from_version,"
                    + " target_document, state) VALUES (?, ?, ?, 'running') RETURNING id")) {
                ps.setString(1, plan.change());
                ps.setLong(2, plan.before().version());
                ps.setString(3, ShardringYaml.write(plan.after().withStoredTokens(), null));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            int j = 0;
            for (MoveJob job : plan.jobs()) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_jobs (move_id, job, source,"
                        + " target, ranges, phase) VALUES (?, ?, ?, ?, ?, 'prepare')")) {
                    ps.setLong(1, id);
                    ps.setInt(2, j++);
                    ps.setString(3, job.source());
                    ps.setString(4, job.target());
                    ps.setString(5, Intervals.json(job.ranges()));
                    ps.executeUpdate();
                }
            }
            journal(c, id, null, "plan", "info", plan.change() + ": " + plan.jobs().size() + " jobs, "
                    + String.format(java.util.Locale.ROOT, "%.2f%%", 100 * plan.movedShare()) + " of the keyspace");
            c.commit();
            return id;
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                RunningMove r = running().orElse(null);
                throw new ShardringException(ErrorCode.RING_CONSTRAINT, "another move is running"
                        + (r == null ? "" : ": move " + r.id + " (" + r.change + ")") + "; resume or abort it first", e);
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot record the move: " + e.getMessage(), e);
        }
    }

    /** A move in state running. */
    public static final class RunningMove {
        public final long id;
        public final String change;

        RunningMove(long id, String change) {
            this.id = id;
            this.change = change;
        }
    }

    public Optional<RunningMove> running() {
        try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, change FROM shardring.moves WHERE state = 'running'")) {
            return rs.next() ? Optional.of(new RunningMove(rs.getLong(1), rs.getString(2))) : Optional.empty();
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read moves: " + e.getMessage(), e);
        }
    }

    /** Continues the running move from its journal. */
    public long resume() {
        RunningMove r = running().orElseThrow(() -> new ShardringException(ErrorCode.RING_CONSTRAINT,
                "no move is running; nothing to resume"));
        run(r.id);
        return r.id;
    }

    private static final class Job {
        final int index;
        final String source;
        final String target;
        final List<TokenRange> ranges;
        String phase;
        /** The target's repeatable-read transaction from the cutover, held until verify. */
        Connection snapshot;

        Job(int index, String source, String target, List<TokenRange> ranges, String phase) {
            this.index = index;
            this.source = source;
            this.target = target;
            this.ranges = ranges;
            this.phase = phase;
        }

        String name(long moveId) {
            return "shardring_m" + moveId + "_j" + index;
        }
    }

    private static List<Job> loadJobs(Connection c, long moveId) throws SQLException {
        List<Job> jobs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT job, source, target, ranges, phase FROM"
                + " shardring.move_jobs WHERE move_id = ? ORDER BY job")) {
            ps.setLong(1, moveId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(new Job(rs.getInt(1), rs.getString(2), rs.getString(3),
                            Intervals.parseJson(rs.getString(4)), rs.getString(5)));
                }
            }
        }
        return jobs;
    }

    /** Runs the remaining phases of a move. */
    public void run(long moveId) {
        try (MoveLock lock = MoveLock.take(catalog, moveId)) {
            runLocked(moveId);
        }
    }

    private void runLocked(long moveId) {
        Topology after;
        Topology before;
        List<Job> jobs = new ArrayList<>();
        try (Connection c = catalog.dataSource().getConnection()) {
            long fromVersion;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT from_version, target_document, state FROM shardring.moves WHERE id = ?")) {
                ps.setLong(1, moveId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShardringException(ErrorCode.RING_CONSTRAINT, "no move " + moveId);
                    }
                    if (!"running".equals(rs.getString(3))) {
                        throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + moveId + " is "
                                + rs.getString(3) + ", not running");
                    }
                    fromVersion = rs.getLong(1);
                    after = ShardringYaml.parse(rs.getString(2), "move " + moveId).topology();
                }
            }
            before = catalog.load(fromVersion);
            jobs.addAll(loadJobs(c, moveId));
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read move " + moveId + ": " + e.getMessage(), e);
        }
        before.nodes().values().forEach(nodes::add);
        after.nodes().values().forEach(nodes::add);
        for (Job job : jobs) {
            if (job.phase.equals("verify_failed")) {
                throw new ShardringException(ErrorCode.RING_CONSTRAINT, "job " + job.index + " of move " + moveId
                        + " (" + job.source + " -> " + job.target + ") failed verify: the target's rows differ from"
                        + " the source's, which keeps them. Compare the two by hand before anything deletes them;"
                        + " neither resume nor abort continues this move");
            }
        }
        KeyType keyType = before.ring().keyType();
        List<ShardedTable> tables = after.tables();
        try {
            for (Job job : jobs) {
                if (job.phase.equals("prepare")) {
                    step(moveId, job, "prepare", () -> prepare(moveId, job, after, keyType, tables));
                    setPhase(moveId, job, "copy");
                }
            }
            for (Job job : jobs) {
                if (job.phase.equals("copy")) {
                    step(moveId, job, "copy", () -> startCopy(moveId, job, tables, keyType));
                }
            }
            for (Job job : jobs) {
                if (job.phase.equals("copy")) {
                    step(moveId, job, "copy", () -> awaitSync(moveId, job, tables));
                    setPhase(moveId, job, "cutover");
                }
            }
            for (Job job : jobs) {
                if (job.phase.equals("cutover")) {
                    step(moveId, job, "cutover", () -> cutover(moveId, job, jobs, before, after, keyType, tables));
                }
                if (job.phase.equals("verify")) {
                    step(moveId, job, "verify", () -> verify(moveId, job, keyType, tables));
                    setPhase(moveId, job, "cleanup");
                }
            }
            for (Job job : jobs) {
                if (job.phase.equals("cleanup")) {
                    step(moveId, job, "cleanup", () -> cleanup(moveId, job, keyType, tables));
                    setPhase(moveId, job, "done");
                }
            }
            finish(moveId, "done");
        } catch (SQLException | RuntimeException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "move " + moveId + " stopped: " + e.getMessage()
                    + "; fix the cause and run resume, or abort", e);
        }
    }

    private interface Step {
        void run() throws SQLException;
    }

    private void step(long moveId, Job job, String phase, Step step) throws SQLException {
        listener.on(moveId, job.index, phase, "started", job.source + " -> " + job.target, -1, -1);
        journal(moveId, job.index, phase, "started", job.source + " -> " + job.target);
        try {
            step.run();
        } catch (SQLException | RuntimeException e) {
            try {
                journal(moveId, job.index, phase, "failed", e.getMessage());
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            listener.on(moveId, job.index, phase, "failed", e.getMessage(), -1, -1);
            throw e;
        }
        journal(moveId, job.index, phase, "finished", null);
        listener.on(moveId, job.index, phase, "finished", job.source + " -> " + job.target, -1, -1);
    }

    // ---- prepare ----

    private void prepare(long moveId, Job job, Topology after, KeyType keyType, List<ShardedTable> tables)
            throws SQLException {
        ShardedFlyway.configure(after, Map.of(job.target, nodes.apply(job.target))).locations(options.appLocations)
                .ownershipGuard(false).load().migrate().orThrow();
        // the source needs the current shardring schema too (the move markers)
        ShardedFlyway.shardringFlyway(nodes.apply(job.source)).migrate();
        try (Connection c = nodes.apply(job.target).getConnection()) {
            c.setAutoCommit(false);
            if (OwnershipGuard.identity(c) == null) {
                OwnershipGuard.setOwnedRanges(c, job.target, after.version(), keyType, List.of());
            }
            OwnershipGuard.install(c, job.target, keyType, tables);
            c.commit();
            // rows of these ranges on the target are leftovers of an earlier attempt: it does not own them
            bypassGuard(c);
            for (ShardedTable t : tables) {
                try (Statement s = c.createStatement()) {
                    int n = s.executeUpdate("DELETE FROM " + t.quotedName() + " WHERE "
                            + TokenRange.toSql(job.ranges, keyType, t.keyColumn()));
                    if (n > 0) {
                        journal(moveId, job.index, "prepare", "info", "removed " + n + " leftover rows of "
                                + t.displayName() + " on " + job.target);
                    }
                }
            }
            c.commit();
        }
    }

    // ---- copy ----

    /**
     * The copy, done once per job: a logical slot is created on a replication connection, which exports a
     * snapshot; the ranges' rows are copied in that snapshot with COPY, piped from source to target; then
     * a subscription without {@code copy_data} streams every change after the snapshot from that slot.
     * PostgreSQL's own {@code copy_data} would decode the WAL of the copy window twice (table sync and
     * apply) and copy more slowly.
     */
    private void startCopy(long moveId, Job job, List<ShardedTable> tables, KeyType keyType) throws SQLException {
        if (!logicalReplication(job.source)) {
            journal(moveId, job.index, "copy", "info", job.source + " has no logical replication (wal_level):"
                    + " its rows are copied with COPY under the fence at cutover");
            return;
        }
        String name = job.name(moveId);
        try (Connection c = nodes.apply(job.source).getConnection(); Statement s = c.createStatement()) {
            if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", name)) {
                StringBuilder sql = new StringBuilder("CREATE PUBLICATION ").append(Sql.quote(name)).append(" FOR TABLE ");
                for (ShardedTable t : tables) {
                    sql.append(t.quotedName()).append(" WHERE (")
                            .append(TokenRange.toSql(job.ranges, keyType, t.keyColumn())).append("), ");
                }
                // no TRUNCATE: row filters do not apply to it, it would empty the whole table on the target
                sql.append("shardring.move_markers WHERE (name = ").append(Sql.literal(name))
                        .append(") WITH (publish = 'insert, update, delete')");
                s.execute(sql.toString());
            }
        }
        try (Connection t = nodes.apply(job.target).getConnection()) {
            if (exists(t, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                return; // copied and streaming already: a resume after the copy
            }
        }
        // an earlier attempt that stopped during the copy left a slot whose snapshot is gone, and some rows
        try (Connection c = nodes.apply(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", name)) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(name) + ")");
            }
        }
        deleteOnTarget(job, tables, keyType);
        try (Connection replication = replicationConnection(job.source)) {
            org.postgresql.replication.ReplicationSlotInfo slot = replication.unwrap(org.postgresql.PGConnection.class)
                    .getReplicationAPI().createReplicationSlot().logical().withSlotName(name)
                    .withOutputPlugin("pgoutput").make();
            long rows = copyInSnapshot(moveId, job, slot.getSnapshotName(), tables, keyType);
            updateRows(moveId, job, rows);
        } // the exported snapshot ends here; the slot stays and holds the changes since it
        try (Connection t = nodes.apply(job.target).getConnection(); Statement s = t.createStatement()) {
            // the statement carries the source's password: keep it out of the target's server log
            t.setAutoCommit(false);
            try {
                s.execute("SET LOCAL log_statement = 'none'");
                s.execute("SET LOCAL log_min_error_statement = 'panic'");
            } catch (SQLException notAllowed) {
                t.rollback();
            }
            s.execute("CREATE SUBSCRIPTION " + Sql.quote(name) + " CONNECTION " + Sql.literal(conninfo(job.source))
                    + " PUBLICATION " + Sql.quote(name) + " WITH (copy_data = false, create_slot = false, slot_name = "
                    + Sql.literal(name) + ")");
            t.commit();
            t.setAutoCommit(true);
        }
    }

    /** Removes rows of the job's ranges from the target, which does not own them yet. */
    private void deleteOnTarget(Job job, List<ShardedTable> tables, KeyType keyType) throws SQLException {
        try (Connection t = nodes.apply(job.target).getConnection()) {
            bypassGuard(t);
            for (ShardedTable tb : tables) {
                try (Statement s = t.createStatement()) {
                    s.executeUpdate("DELETE FROM " + tb.quotedName() + " WHERE "
                            + TokenRange.toSql(job.ranges, keyType, tb.keyColumn()));
                }
            }
        }
    }

    /**
     * Copies the job's rows with {@value #COPY_STREAMS} COPY pipes at once, each over half of every range,
     * all in the same snapshot of the source (the slot's exported one, or, under a fence, any: nothing
     * changes there). The target's transactions commit only when every stream succeeded.
     */
    private long copyInSnapshot(long moveId, Job job, String snapshot, List<ShardedTable> tables, KeyType keyType)
            throws SQLException {
        List<List<TokenRange>> parts = split(job.ranges, COPY_STREAMS);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "shardring-copy");
            t.setDaemon(true);
            return t;
        });
        List<Connection> sources = new ArrayList<>();
        List<Connection> targets = new ArrayList<>();
        long total = 0;
        try {
            for (int i = 0; i < COPY_STREAMS; i++) {
                Connection src = nodes.apply(job.source).getConnection();
                sources.add(src);
                src.setAutoCommit(false);
                try (Statement s = src.createStatement()) {
                    s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                    if (snapshot != null) {
                        s.execute("SET TRANSACTION SNAPSHOT " + Sql.literal(snapshot));
                    }
                }
                Connection dst = nodes.apply(job.target).getConnection();
                targets.add(dst);
                dst.setAutoCommit(false);
                skipTriggers(dst);
            }
            for (ShardedTable t : tables) {
                String columns = columns(sources.get(0), t);
                String insert = "COPY " + t.quotedName() + " (" + columns + ") FROM STDIN (FORMAT binary)";
                List<java.util.concurrent.Future<Long>> streams = new ArrayList<>();
                for (int i = 0; i < COPY_STREAMS; i++) {
                    String select = "COPY (SELECT " + columns + " FROM " + t.quotedName() + " WHERE "
                            + TokenRange.toSql(parts.get(i), keyType, t.keyColumn()) + ") TO STDOUT (FORMAT binary)";
                    org.postgresql.copy.CopyManager out = sources.get(i).unwrap(org.postgresql.PGConnection.class)
                            .getCopyAPI();
                    org.postgresql.copy.CopyManager in = targets.get(i).unwrap(org.postgresql.PGConnection.class)
                            .getCopyAPI();
                    streams.add(threads.submit(() -> pipe(threads, out, select, in, insert)));
                }
                try {
                    for (java.util.concurrent.Future<Long> f : streams) {
                        total += await(f);
                    }
                } catch (SQLException | RuntimeException e) {
                    // stop the other stream before its connections close under it
                    for (java.util.concurrent.Future<Long> f : streams) {
                        f.cancel(true);
                    }
                    for (Connection c : sources) {
                        cancelQuietly(c);
                    }
                    for (Connection c : targets) {
                        cancelQuietly(c);
                    }
                    throw e;
                }
                listener.on(moveId, job.index, "copy", "progress", t.displayName() + " copied", total, -1);
            }
            for (Connection dst : targets) {
                dst.commit();
            }
            for (Connection src : sources) {
                src.commit();
            }
        } finally {
            for (Connection c : targets) {
                c.close(); // an uncommitted stream rolls back
            }
            for (Connection c : sources) {
                c.close();
            }
            threads.shutdownNow();
        }
        return total;
    }

    private static void cancelQuietly(Connection c) {
        try {
            c.unwrap(org.postgresql.PGConnection.class).cancelQuery();
        } catch (SQLException ignored) {
            // the connection is closed next anyway
        }
    }

    /** Each range cut into {@code n} consecutive pieces; piece i of every range goes to list i. */
    static List<List<TokenRange>> split(List<TokenRange> ranges, int n) {
        List<List<TokenRange>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new ArrayList<>());
        }
        for (TokenRange r : ranges) {
            long size = r.sizeUnsigned(); // 0 is the whole ring, 2^64
            long step = size == 0 ? Long.divideUnsigned(-1L, n) : Long.divideUnsigned(size, n);
            long start = r.startExclusive();
            for (int i = 0; i < n; i++) {
                long end = i == n - 1 ? r.endInclusive() : start + step;
                if (step == 0 && i < n - 1) {
                    continue; // a range smaller than n hashes stays whole, in the last piece
                }
                out.get(i).add(new TokenRange(start, end));
                start = end;
            }
        }
        return out;
    }

    private static long await(java.util.concurrent.Future<Long> f) throws SQLException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while copying", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof SQLException) {
                throw (SQLException) e.getCause();
            }
            if (e.getCause() instanceof RuntimeException) {
                throw (RuntimeException) e.getCause();
            }
            throw new SQLException("copy failed: " + e.getCause(), e.getCause());
        }
    }

    private static long pipe(java.util.concurrent.ExecutorService threads, org.postgresql.copy.CopyManager out,
            String select, org.postgresql.copy.CopyManager in, String insert) throws SQLException {
        try {
            java.io.PipedInputStream reader = new java.io.PipedInputStream(1 << 20);
            java.io.PipedOutputStream writer = new java.io.PipedOutputStream(reader);
            java.util.concurrent.Future<Long> sent = threads.submit(() -> {
                try (writer) {
                    return out.copyOut(select, writer);
                }
            });
            long received;
            try (reader) {
                received = in.copyIn(insert, reader);
            }
            long rows = await(sent);
            if (rows != received) {
                throw new ShardringException(ErrorCode.SHARD_ERROR, "copy sent " + rows + " rows but the target took "
                        + received);
            }
            return rows;
        } catch (java.io.IOException e) {
            throw new SQLException("copy pipe failed: " + e.getMessage(), e);
        }
    }

    /** The table's columns in order, quoted, for COPY on both sides (same migrations, same columns). */
    private static String columns(Connection c, ShardedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
                + " FROM pg_attribute WHERE attrelid = (quote_ident(?) || '.' || quote_ident(?))::regclass AND attnum > 0"
                + " AND NOT attisdropped AND attgenerated = ''")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Rows copied by the mover are not the application's writes: no guard, no triggers, where allowed. */
    private static void skipTriggers(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
            s.execute("SAVEPOINT role");
            try {
                s.execute("SET LOCAL session_replication_role = replica");
                s.execute("RELEASE SAVEPOINT role");
            } catch (SQLException notSuperuser) {
                s.execute("ROLLBACK TO SAVEPOINT role");
            }
        }
    }

    private Connection replicationConnection(String nodeId) throws SQLException {
        NodeConfig n = nodes.config(nodeId);
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", n.user());
        String password = nodes.password(nodeId);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("replication", "database");
        props.setProperty("assumeMinServerVersion", "10");
        props.setProperty("preferQueryMode", "simple");
        return java.sql.DriverManager.getConnection(n.jdbcUrl(), props);
    }

    private boolean logicalReplication(String nodeId) throws SQLException {
        try (Connection c = nodes.apply(nodeId).getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            return "logical".equals(rs.getString(1));
        }
    }

    private void awaitSync(long moveId, Job job, List<ShardedTable> tables) throws SQLException {
        if (!logicalReplication(job.source)) {
            return;
        }
        // the subscription streams from the snapshot: wait until it keeps up, so that the fence is short
        long deadline = System.nanoTime() + options.syncTimeout.toNanos();
        while (true) {
            long start = System.nanoTime();
            long seq = writeMarker(moveId, job);
            awaitMarker(moveId, job, seq, options.syncTimeout);
            long roundTripMs = (System.nanoTime() - start) / 1_000_000;
            listener.on(moveId, job.index, "copy", "progress", "caught up; marker round trip " + roundTripMs + " ms",
                    -1, -1);
            if (roundTripMs < 250 || System.nanoTime() > deadline) {
                return;
            }
        }
    }

    // ---- cutover ----

    private void cutover(long moveId, Job job, List<Job> jobs, Topology before, Topology after, KeyType keyType,
            List<ShardedTable> tables) throws SQLException {
        long nextVersion = catalog.version() + 1;
        List<long[]> moving = Intervals.of(job.ranges);
        long fenceStart = System.nanoTime();
        // 1. fence: the source stops owning the ranges; the table locks wait for writes in flight
        try (Connection c = nodes.apply(job.source).getConnection()) {
            c.setAutoCommit(false);
            List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(c));
            OwnershipGuard.setOwnedRanges(c, job.source, nextVersion, keyType,
                    Intervals.toRanges(Intervals.minus(owned, moving)));
            c.commit();
        }
        journal(moveId, job.index, "cutover", "info", "fenced " + job.ranges.size() + " ranges on " + job.source);
        listener.on(moveId, job.index, "cutover", "fenced", job.source, -1, -1);
        // 2. wait until the target applied everything the source committed before the fence: a marker
        // written after it arrives through the same subscription, which applies in commit order
        if (logicalReplication(job.source)) {
            long seq = writeMarker(moveId, job);
            awaitMarker(moveId, job, seq, options.catchUpTimeout);
        } else {
            // the fallback: nothing can change these ranges on the source now, so copy them while fenced
            deleteOnTarget(job, tables, keyType);
            long rows = copyInSnapshot(moveId, job, null, tables, keyType);
            updateRows(moveId, job, rows);
        }
        // 3. a snapshot of the target at exactly that point, for verify, before the target takes writes
        Connection snapshot = nodes.apply(job.target).getConnection();
        boolean kept = false;
        try {
            snapshot.setAutoCommit(false);
            snapshot.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement s = snapshot.createStatement()) {
                s.executeQuery("SELECT 1").close();
            }
            // 4. the target owns the ranges; 5. publish the topology in which this job has moved
            try (Connection c = nodes.apply(job.target).getConnection()) {
                c.setAutoCommit(false);
                List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(c));
                OwnershipGuard.setOwnedRanges(c, job.target, nextVersion, keyType,
                        Intervals.toRanges(Intervals.union(owned, moving)));
                c.commit();
            }
            boolean last = jobs.stream().allMatch(j -> j == job || CUT_OVER.contains(j.phase));
            List<Job> moved = new ArrayList<>();
            for (Job j : jobs) {
                if (j == job || CUT_OVER.contains(j.phase)) {
                    moved.add(j);
                }
            }
            Topology published = last ? renumber(after, nextVersion) : intermediate(before, after, moved, nextVersion);
            try (Connection c = catalog.dataSource().getConnection()) {
                c.setAutoCommit(false);
                catalog.publish(c, published, "move " + moveId + " job " + job.index + ": " + job.source + " -> "
                        + job.target);
                setPhase(c, moveId, job, "verify");
                c.commit();
            }
            job.phase = "verify";
            job.snapshot = snapshot;
            kept = true;
            long pauseMs = (System.nanoTime() - fenceStart) / 1_000_000;
            journal(moveId, job.index, "cutover", "info", "topology version " + nextVersion + " published; writes"
                    + " to the moving keys paused " + pauseMs + " ms");
            listener.on(moveId, job.index, "cutover", "info", "paused " + pauseMs + " ms", -1, 0);
        } finally {
            if (!kept) {
                snapshot.close();
            }
        }
    }

    /** Writes this job's marker on the source, flushed at once so that it is sent without delay. */
    private long writeMarker(long moveId, Job job) throws SQLException {
        long seq = System.nanoTime();
        try (Connection c = nodes.apply(job.source).getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL synchronous_commit = on");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_markers (name, seq) VALUES (?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq, written_at = now()")) {
                ps.setString(1, job.name(moveId));
                ps.setLong(2, seq);
                ps.executeUpdate();
            }
            c.commit();
        }
        return seq;
    }

    /** Waits until the marker arrived on the target: everything the source committed before it is applied. */
    private void awaitMarker(long moveId, Job job, long seq, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = nodes.apply(job.target).getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT seq FROM shardring.move_markers WHERE name = ?")) {
            ps.setString(1, job.name(moveId));
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getLong(1) == seq) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "the target " + job.target + " did not catch"
                            + " up with " + job.source + " within " + timeout + "; resume to retry, or abort to give"
                            + " the ranges back to " + job.source);
                }
                sleep(2);
            }
        }
    }

    /**
     * Verify: row count and checksum per table, the target's snapshot taken at the cutover against the
     * fenced source. A crash between cutover and verify loses that snapshot; the target has taken writes
     * since, so verify is then skipped and journaled as such.
     */
    private void verify(long moveId, Job job, KeyType keyType, List<ShardedTable> tables) throws SQLException {
        Connection targetSnapshot = job.snapshot;
        if (targetSnapshot == null) {
            journal(moveId, job.index, "verify", "info", "skipped: the target's cutover snapshot was lost when the"
                    + " mover stopped; the target has taken writes since");
            listener.on(moveId, job.index, "verify", "info", "skipped after a restart", -1, -1);
            return;
        }
        try (targetSnapshot; Connection source = nodes.apply(job.source).getConnection()) {
            for (ShardedTable t : tables) {
                String where = " FROM " + t.quotedName() + " x WHERE " + TokenRange.toSql(job.ranges, keyType,
                        t.keyColumn());
                // hash_record_extended is twice as fast as hashing the row's text, but needs a hash function
                // for every column type (json has none): try it on one row of the source first
                String rowHash = "hash_record_extended(x, 0)";
                try (Statement probe = source.createStatement()) {
                    probe.executeQuery("SELECT " + rowHash + " FROM " + t.quotedName() + " x LIMIT 1").close();
                } catch (SQLException noHash) {
                    rowHash = "hashtextextended(x::text, 0)";
                }
                String sql = "SELECT count(*), coalesce(sum(" + rowHash + "::numeric), 0)::text" + where;
                String[][] sums = bothSides(source, targetSnapshot, sql);
                String[] src = sums[0];
                String[] dst = sums[1];
                if (!src[0].equals(dst[0]) || !src[1].equals(dst[1])) {
                    // resume and abort must not clean this job up: the source's rows are the good copy
                    setPhase(moveId, job, "verify_failed");
                    throw new ShardringException(ErrorCode.SHARD_ERROR, "verify failed for " + t.displayName()
                            + " in job " + job.index + ": " + job.source + " has " + src[0] + " rows (checksum " + src[1]
                            + "), " + job.target + " has " + dst[0] + " (checksum " + dst[1] + "); the source keeps its"
                            + " rows; investigate before resuming");
                }
                journal(moveId, job.index, "verify", "info", t.displayName() + ": " + src[0] + " rows, checksums equal");
                listener.on(moveId, job.index, "verify", "info", t.displayName() + " " + src[0] + " rows equal",
                        Long.parseLong(src[0]), -1);
            }
        }
    }

    /** The same checksum on the source and on the target's snapshot, at the same time. */
    private static String[][] bothSides(Connection source, Connection target, String sql) throws SQLException {
        java.util.concurrent.CompletableFuture<String[]> src = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return checksum(source, sql);
            } catch (SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        String[] dst = checksum(target, sql);
        try {
            return new String[][] {src.join(), dst};
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof SQLException) {
                throw (SQLException) e.getCause();
            }
            throw e;
        }
    }

    private static String[] checksum(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return new String[] {String.valueOf(rs.getLong(1)), rs.getString(2)};
        }
    }

    // ---- cleanup ----

    private void cleanup(long moveId, Job job, KeyType keyType, List<ShardedTable> tables) throws SQLException {
        dropReplication(moveId, job);
        try (Connection c = nodes.apply(job.source).getConnection()) {
            bypassGuard(c);
            for (ShardedTable t : tables) {
                String pred = TokenRange.toSql(job.ranges, keyType, t.keyColumn());
                long total = 0;
                while (true) {
                    int n;
                    try (Statement s = c.createStatement()) {
                        n = s.executeUpdate("DELETE FROM " + t.quotedName() + " WHERE ctid IN (SELECT ctid FROM "
                                + t.quotedName() + " WHERE " + pred + " LIMIT " + options.deleteBatch + ")");
                    }
                    total += n;
                    if (n < options.deleteBatch) {
                        break;
                    }
                }
                journal(moveId, job.index, "cleanup", "info", "deleted " + total + " moved rows of " + t.displayName()
                        + " on " + job.source);
            }
        }
    }

    private void dropReplication(long moveId, Job job) throws SQLException {
        String name = job.name(moveId);
        try (Connection c = nodes.apply(job.target).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                s.execute("DROP SUBSCRIPTION " + Sql.quote(name)); // drops the slot on the source too
            }
        }
        try (Connection c = nodes.apply(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", name)) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(name) + ")");
            }
            s.execute("DROP PUBLICATION IF EXISTS " + Sql.quote(name));
        }
    }

    // ---- abort ----

    /**
     * Abandons the running move: jobs not yet cut over lose their subscription, publication and copied
     * rows, and a fenced source gets its ranges back. Jobs already cut over stay moved (their data is
     * safely on the new owner); plan the reverse change to move them back.
     */
    public void abort(long moveId) {
        try (MoveLock lock = MoveLock.take(catalog, moveId); Connection c = catalog.dataSource().getConnection()) {
            List<Job> jobs = new ArrayList<>();
            String target;
            jobs.addAll(loadJobs(c, moveId));
            try (PreparedStatement ps = c.prepareStatement("SELECT target_document, from_version FROM shardring.moves"
                    + " WHERE id = ? AND state = 'running'")) {
                ps.setLong(1, moveId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShardringException(ErrorCode.RING_CONSTRAINT, "move " + moveId + " is not running");
                    }
                    target = rs.getString(1);
                    catalog.load(rs.getLong(2)).nodes().values().forEach(nodes::add);
                }
            }
            Topology after = ShardringYaml.parse(target, "move " + moveId).topology();
            after.nodes().values().forEach(nodes::add);
            KeyType keyType = after.ring().keyType();
            for (Job job : jobs) {
                if (job.phase.equals("verify_failed")) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "job " + job.index + " failed verify;"
                            + " abort would delete one of two differing copies: compare them by hand first");
                }
            }
            for (Job job : jobs) {
                if (job.phase.equals("done") || job.phase.equals("aborted")) {
                    continue;
                }
                if (job.phase.equals("cleanup") || job.phase.equals("verify")) {
                    // cut over already: its data lives on the target now; finish its cleanup
                    cleanup(moveId, job, keyType, after.tables());
                    setPhase(moveId, job, "done");
                    continue;
                }
                boolean targetReachable = nodeReachableWithShardring(job.target);
                if (!targetReachable && job.phase.equals("cutover")) {
                    // the target may already own the ranges; giving them back to the source now would leave two
                    // owners
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "job " + job.index + " stopped in its"
                            + " cutover and its target " + job.target + " is unreachable: it may already own the"
                            + " ranges. Bring " + job.target + " back, then run abort (or resume) again");
                }
                dropReplicationTolerant(moveId, job);
                List<long[]> moving = Intervals.of(job.ranges);
                if (targetReachable) {
                    try (Connection t = nodes.apply(job.target).getConnection()) {
                        t.setAutoCommit(false);
                        List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(t));
                        if (!Intervals.same(Intervals.minus(owned, moving), owned)) {
                            OwnershipGuard.setOwnedRanges(t, job.target, catalog.version(), keyType,
                                    Intervals.toRanges(Intervals.minus(owned, moving)));
                        }
                        t.commit();
                        bypassGuard(t);
                        for (ShardedTable tb : after.tables()) {
                            if (!exists(t, "SELECT 1 WHERE to_regclass(?) IS NOT NULL", tb.quotedName())) {
                                continue; // prepare stopped before the application's migrations made it
                            }
                            try (Statement s = t.createStatement()) {
                                s.executeUpdate("DELETE FROM " + tb.quotedName() + " WHERE "
                                        + TokenRange.toSql(job.ranges, keyType, tb.keyColumn()));
                            }
                        }
                        t.commit();
                    }
                }
                try (Connection s = nodes.apply(job.source).getConnection()) {
                    s.setAutoCommit(false);
                    List<long[]> owned = Intervals.of(OwnershipGuard.readOwned(s));
                    OwnershipGuard.setOwnedRanges(s, job.source, catalog.version(), keyType,
                            Intervals.toRanges(Intervals.union(owned, moving)));
                    s.commit();
                }
                setPhase(moveId, job, "aborted");
                journal(moveId, job.index, "abort", "finished", "ranges stay on " + job.source);
            }
            finish(moveId, "aborted");
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "abort of move " + moveId + " stopped: "
                    + e.getMessage() + "; run abort again", e);
        }
    }

    /** Like dropReplication, but an unreachable target does not stop an abort: its leftovers are journaled. */
    private void dropReplicationTolerant(long moveId, Job job) throws SQLException {
        String name = job.name(moveId);
        try (Connection c = nodes.apply(job.target).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_subscription WHERE subname = ?", name)) {
                s.execute("DROP SUBSCRIPTION " + Sql.quote(name));
            }
        } catch (SQLException | RuntimeException e) {
            journal(moveId, job.index, "abort", "info", "target " + job.target + " unreachable (" + e.getMessage()
                    + "); drop subscription " + name + " there by hand if it exists");
        }
        try (Connection c = nodes.apply(job.source).getConnection(); Statement s = c.createStatement()) {
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", name)) {
                s.execute("SELECT pg_drop_replication_slot(" + Sql.literal(name) + ")");
            }
            s.execute("DROP PUBLICATION IF EXISTS " + Sql.quote(name));
        }
    }

    private boolean nodeReachableWithShardring(String nodeId) {
        try (Connection c = nodes.apply(nodeId).getConnection()) {
            return exists(c, "SELECT 1 FROM pg_namespace WHERE nspname = ?", "shardring")
                    && exists(c, "SELECT 1 FROM pg_class WHERE relname = ?", "owned_ranges");
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    // ---- topology versions during a move ----

    /** {@code after} under another version number. */
    static Topology renumber(Topology after, long version) {
        return after.toBuilder().version(version).build().withStoredTokens();
    }

    /**
     * The topology in which exactly the given jobs have moved: the union of both rings' tokens, each arc
     * owned by its new owner if a moved job covers it, by its old owner otherwise.
     */
    static Topology intermediate(Topology before, Topology after, List<Job> moved, long version) {
        TreeSet<Long> points = new TreeSet<>();
        for (long t : before.ring().tokens()) {
            points.add(t);
        }
        for (long t : after.ring().tokens()) {
            points.add(t);
        }
        Map<String, List<Long>> tokens = new LinkedHashMap<>();
        for (long p : points) {
            boolean isMoved = false;
            for (Job j : moved) {
                for (TokenRange r : j.ranges) {
                    if (r.contains(p)) {
                        isMoved = true;
                        break;
                    }
                }
            }
            String owner = (isMoved ? after : before).ring().nodeForHash(p).id();
            tokens.computeIfAbsent(owner, k -> new ArrayList<>()).add(p);
        }
        Topology.Builder b = Topology.builder().version(version).ring(before.ringSettings());
        Map<String, NodeConfig> configs = new LinkedHashMap<>(before.nodes());
        after.nodes().forEach(configs::put);
        for (NodeConfig n : configs.values()) {
            List<Long> ts = tokens.get(n.id());
            if (ts != null) {
                b.node(n.toBuilder().tokens(ts.stream().mapToLong(Long::longValue).toArray()).build());
            }
        }
        after.tables().forEach(b::table);
        return b.build();
    }

    // ---- catalog bookkeeping ----

    private void setPhase(long moveId, Job job, String phase) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection()) {
            setPhase(c, moveId, job, phase);
        }
        job.phase = phase;
    }

    private static void setPhase(Connection c, long moveId, Job job, String phase) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE shardring.move_jobs SET phase = ?, updated_at = now()"
                + " WHERE move_id = ? AND job = ?")) {
            ps.setString(1, phase);
            ps.setLong(2, moveId);
            ps.setInt(3, job.index);
            ps.executeUpdate();
        }
    }

    private void updateRows(long moveId, Job job, long rows) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.move_jobs SET rows_copied = ? WHERE move_id = ? AND job = ?")) {
            ps.setLong(1, rows);
            ps.setLong(2, moveId);
            ps.setInt(3, job.index);
            ps.executeUpdate();
        }
    }

    private void finish(long moveId, String state) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.moves SET state = ?, updated_at = now() WHERE id = ?")) {
            ps.setString(1, state);
            ps.setLong(2, moveId);
            ps.executeUpdate();
        }
        journal(moveId, null, "move", state, null);
        LOG.info("move {} {}", moveId, state);
    }

    private void journal(long moveId, Integer job, String phase, String event, String detail) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection()) {
            journal(c, moveId, job, phase, event, detail);
        }
    }

    private static void journal(Connection c, long moveId, Integer job, String phase, String event, String detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.move_journal (move_id, job, phase, event,"
                + " detail) VALUES (?, ?, ?, ?, ?)")) {
            ps.setLong(1, moveId);
            if (job == null) {
                ps.setNull(2, java.sql.Types.INTEGER);
            } else {
                ps.setInt(2, job);
            }
            ps.setString(3, phase);
            ps.setString(4, event);
            ps.setString(5, detail);
            ps.executeUpdate();
        }
    }

    // ---- helpers ----

    private static void bypassGuard(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET shardring.bypass_guard = on");
        }
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** A libpq connection string for the target's subscription to the source. */
    private String conninfo(String nodeId) {
        NodeConfig n = nodes.config(nodeId);
        JdbcUrl url = JdbcUrl.parse(n.jdbcUrl());
        StringBuilder sb = new StringBuilder();
        sb.append("host=").append(quoteConninfo(url.host)).append(" port=").append(url.port).append(" dbname=")
                .append(quoteConninfo(url.database)).append(" user=").append(quoteConninfo(n.user()))
                .append(" application_name=shardring_mover");
        url.ssl.forEach((k, v) -> sb.append(' ').append(k).append('=').append(quoteConninfo(v)));
        String password = nodes.password(nodeId);
        if (password != null) {
            sb.append(" password=").append(quoteConninfo(password));
        }
        return sb.toString();
    }

    private static String quoteConninfo(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted; resume the move to continue", e);
        }
    }
}
