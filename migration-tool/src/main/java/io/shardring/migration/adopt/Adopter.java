package io.shardring.migration.adopt;

import io.shardring.migration.move.Locks;
import io.shardring.migration.move.NodePools;
import io.shardring.migration.reference.ReferenceSync;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.schema.Membership;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.schema.ReferenceGuard;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeOrdinals;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Makes a live database the ring's first node, while the application keeps writing to it: the shardring schema and
 * the catalog in its database, ordinal 0, the whole ring owned, the ownership guard on every sharded table and the
 * reference guard on every reference table, its sequences kept to ordinal 0's range, the application's Flyway history
 * baselined (when asked), the key allocator, topology version 1, the reference tables' publication.
 *
 * <p>Every step that locks an application table (a trigger, a sequence) takes its lock with a short lock timeout, in a
 * transaction of its own, and tries again with back-off while writers hold it: a writer waits at most one lock
 * timeout behind it, and a lock that cannot be had changes nothing. Every step is recorded in the catalog
 * ({@code shardring.adoptions}) once done and is harmless to repeat, so an adoption stopped at any point (a killed
 * process) is finished by running it again.
 */
public final class Adopter {
    /** The steps, in order, as {@code shardring.adoptions.steps} records them. */
    public static final List<String> STEPS = List.of("shardring schema", "catalog", "ordinal", "owned ranges", "guard",
            "reference guard", "sequences", "flyway baseline", "key allocator", "topology version 1",
            "reference publication");

    /** Hears each step as it starts and as it is done. */
    public interface Listener {
        void step(String step, String event, String detail);

        Listener NONE = (s, e, d) -> { };
    }

    private final ShardringConfig config;
    private final NodePools pools;
    private final Listener listener;
    private Duration lockTimeout = Duration.ofMillis(200);
    private Duration lockPatience = Duration.ofSeconds(30);

    public Adopter(ShardringConfig config, NodePools pools, Listener listener) {
        this.config = config;
        this.pools = pools;
        this.listener = listener == null ? Listener.NONE : listener;
    }

    /** How long one lock attempt waits (default 200 ms): writers of that table wait behind it that long at most. */
    public Adopter lockTimeout(Duration d) {
        this.lockTimeout = d;
        return this;
    }

    /** How long a step keeps trying for its locks before it gives up, having changed nothing (default 30 s). */
    public Adopter lockPatience(Duration d) {
        this.lockPatience = d;
        return this;
    }

    /**
     * Adopts the plan's database (or finishes an adoption begun before); returns the topology version recorded.
     *
     * @throws ShardringException naming what blocks the plan when it is not executable, or the step that failed
     */
    public long execute(AdoptionPlan plan, String baselineVersion) {
        if (plan.state() == AdoptionPlan.State.ADOPTED) {
            return plan.adoptedVersion;
        }
        if (!plan.executable()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "adoption of " + plan.node() + " is not"
                    + " executable: " + String.join("; ", plan.blockers()));
        }
        String node = plan.node();
        Topology v1 = Adoption.firstVersion(config, node);
        DataSource ds = pools.apply(node);
        String step = STEPS.get(0);
        try {
            run(step, () -> {
                ShardedFlyway.shardringFlyway(ds).migrate();
                return "shardring schema installed";
            });
            step = "catalog";
            Catalog catalog = Catalog.open(ds);
            String baseline = begin(ds, node, baselineVersion);
            done(ds, node, step, "catalog schema installed");
            step = "ordinal";
            run(ds, node, step, () -> {
                NodeOrdinals ordinals = new NodeOrdinals(ds);
                int ordinal = ordinals.assign(node);
                if (ordinal != 0) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "node " + node + " got ordinal " + ordinal
                            + ", not 0: the catalog has given ordinals before; adopt a database without a catalog");
                }
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    new Membership(ordinals.catalogId(), node, 0).write(c);
                    c.commit();
                }
                return "ordinal 0: ids " + SequenceRanges.low(0) + ".." + SequenceRanges.high(0);
            });
            step = "owned ranges";
            run(ds, node, step, () -> {
                try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    if (OwnershipGuard.identity(c) == null) {
                        // nothing is guarded yet, so this takes no lock of an application table
                        OwnershipGuard.setOwnedRanges(c, node, v1.version(), v1.ring().keyType(), v1.ownedRanges(node));
                    }
                    c.commit();
                }
                return node + " owns the whole ring";
            });
            step = "guard";
            run(ds, node, step, () -> {
                int n = 0;
                for (ShardedTable t : v1.tables()) {
                    if (!guarded(ds, t)) {
                        withLocks(ds, "the ownership guard on " + t.displayName(), c -> OwnershipGuard.install(c, node,
                                v1.ring().keyType(), List.of(t)));
                        n++;
                    }
                }
                return n + " of " + v1.tables().size() + " sharded tables guarded now";
            });
            step = "reference guard";
            run(ds, node, step, () -> {
                withLocks(ds, "the reference guard", c -> ReferenceGuard.install(c, node, v1));
                return v1.referenceTables().size() + " reference tables guarded (writable copy)";
            });
            step = "sequences";
            run(ds, node, step, () -> {
                AtomicReference<List<String>> ranged = new AtomicReference<>(List.of());
                withLocks(ds, "the sequences", c -> ranged.set(SequenceRanges.apply(c, node, 0, v1.tables(),
                        lockTimeout)));
                return ranged.get().isEmpty() ? "every sequence ranged already" : String.join("; ", ranged.get());
            });
            step = "flyway baseline";
            run(ds, node, step, () -> baseline(ds, baseline));
            step = "key allocator";
            run(ds, node, step, () -> "new keys from " + KeyAllocatorSetup.ensure(ds, v1, 0, true));
            step = "topology version 1";
            run(ds, node, step, () -> catalog.initialize(v1) ? "topology version 1 stored: " + node
                    + " owns the whole ring" : "topology version 1 was stored already");
            step = "reference publication";
            run(ds, node, step, () -> {
                if (v1.referenceTables().isEmpty()) {
                    return "no reference tables";
                }
                List<String> done = new ReferenceSync(v1, pools, Duration.ofMinutes(30)).sync();
                return done.isEmpty() ? "published already" : String.join("; ", done);
            });
            finish(ds, node);
            return catalog.version();
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "adoption of " + node + " stopped at step '" + step
                    + "': " + e.getMessage() + ". Fix the cause and run adopt --execute again: the steps done are not"
                    + " repeated, and this one finishes what it had not done", e);
        }
    }

    private interface StepWork {
        String run() throws SQLException;
    }

    /** A step before the catalog exists: not recorded, harmless to repeat. */
    private void run(String step, StepWork work) throws SQLException {
        listener.step(step, "started", null);
        String detail = work.run();
        listener.step(step, "done", detail);
    }

    /** A step recorded in the catalog: skipped once done. */
    private void run(DataSource ds, String node, String step, StepWork work) throws SQLException {
        if (stepsDone(ds, node).contains(step)) {
            listener.step(step, "skipped", "done before");
            return;
        }
        listener.step(step, "started", null);
        String detail = work.run();
        done(ds, node, step, detail);
    }

    private void done(DataSource ds, String node, String step, String detail) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE shardring.adoptions"
                + " SET steps = CASE WHEN ? = ANY (steps) THEN steps ELSE array_append(steps, ?) END WHERE node_id = ?")) {
            ps.setString(1, step);
            ps.setString(2, step);
            ps.setString(3, node);
            ps.executeUpdate();
        }
        listener.step(step, "done", detail);
    }

    private static List<String> stepsDone(DataSource ds, String node) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT steps FROM shardring.adoptions WHERE node_id = ?")) {
            ps.setString(1, node);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return List.of();
                }
                return List.of((String[]) rs.getArray(1).getArray());
            }
        }
    }

    /** Records the adoption's start (once); returns the baseline version it was begun with. */
    private static String begin(DataSource ds, String node, String baselineVersion) throws SQLException {
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.adoptions (node_id, baseline_version,"
                    + " steps) VALUES (?, ?, ARRAY['shardring schema']) ON CONFLICT (node_id) DO NOTHING")) {
                ps.setString(1, node);
                ps.setString(2, baselineVersion);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT baseline_version FROM shardring.adoptions WHERE node_id = ?")) {
                ps.setString(1, node);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return baselineVersion != null ? baselineVersion : rs.getString(1);
                }
            }
        }
    }

    private void finish(DataSource ds, String node) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.adoptions SET finished_at = now() WHERE node_id = ? AND finished_at IS NULL")) {
            ps.setString(1, node);
            ps.executeUpdate();
        }
        listener.step("adopted", "done", node + " is the ring's first node");
    }

    /** Whether the table carries all three of the guard's triggers already. */
    private static boolean guarded(DataSource ds, ShardedTable t) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM"
                + " pg_trigger WHERE tgrelid = to_regclass(?) AND tgname = ANY (?)")) {
            ps.setString(1, t.quotedName());
            ps.setArray(2, c.createArrayOf("text", OwnershipGuard.TRIGGERS.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == OwnershipGuard.TRIGGERS.size();
            }
        }
    }

    private void withLocks(DataSource ds, String what, Locks.Work work) throws SQLException {
        Locks.retry(ds, lockTimeout, lockPatience, "the tables for " + what, "Find it in pg_stat_activity, then run"
                + " adopt --execute again", work);
    }

    /** Flyway's baseline at the operator's version, when given and the database has no history yet. */
    private String baseline(DataSource ds, String version) throws SQLException {
        if (version == null) {
            return "no --baseline-version: Flyway's history left as it is";
        }
        try (Connection c = ds.getConnection()) {
            FlywayHistory h = FlywayHistory.read(c);
            if (h != null) {
                return "history " + h.describe() + " kept";
            }
        }
        Flyway.configure(Adopter.class.getClassLoader()).dataSource(ds)
                .locations(config.schemaLocations().toArray(new String[0])).baselineVersion(version)
                .baselineDescription("shardring adopt").load().baseline();
        return "Flyway's history baselined at version " + version;
    }
}
