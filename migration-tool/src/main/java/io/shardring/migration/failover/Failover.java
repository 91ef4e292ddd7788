package io.shardring.migration.failover;

import io.shardring.migration.move.NodePools;
import io.shardring.router.schema.NodeEpoch;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a standby a node's primary. Planned, while the primary answers: fence it (it owns no range, so every write to
 * the node's keys gets SR001 and routers wait), wait until the standby has replayed the primary's last LSN, promote
 * it. Emergency, when the primary is gone: promote the most advanced standby. Both then record the new epoch and the
 * node's owned ranges on the promoted server and publish the topology whose node is the promoted server at that
 * epoch; the old primary keeps the old epoch and owns nothing, so routers and the tool refuse it twice over. Every step
 * checks the servers' state before it acts, so a second run after a crash finishes the journaled failover.
 */
public final class Failover {
    /** Hears each step as it is done. */
    public interface Listener {
        void step(String step, String detail);
    }

    /** What the operator allows. */
    public record Options(String to, boolean acceptDataLoss, boolean synchronousStandby, long maxLagBytes) {
    }

    /** A standby of the node as seen when planning; replayLsn is -1 when it did not answer. */
    public record Candidate(String url, boolean reachable, boolean inRecovery, long replayLsn, Long lagBytes,
            String problem) {
    }

    /** What {@link #execute} will do. */
    public record Plan(String nodeId, String mode, String fromUrl, boolean primaryAnswers, String primaryProblem,
            long primaryLsn, String synchronousStandbyNames, List<Candidate> candidates, String chosen,
            String choice, long newEpoch, Long resumes, Topology from) {
    }

    private static final String APP = "shardring failover";
    private static final int CONNECT_SECONDS = 3;

    private final Catalog catalog;
    private final NodePools pools;
    private final FailoverJournal journal;

    public Failover(Catalog catalog, NodePools pools) {
        this.catalog = catalog;
        this.pools = pools;
        this.journal = new FailoverJournal(catalog);
    }

    /**
     * Plans the failover of {@code nodeId} in {@code topology}, or refuses it with an {@link IllegalArgumentException}
     * whose message says why.
     */
    public Plan plan(Topology topology, String nodeId, String catalogNode, Options o) throws SQLException {
        if (!topology.nodes().containsKey(nodeId)) {
            throw new IllegalArgumentException("unknown node '" + nodeId + "'; the topology's nodes are "
                    + topology.nodes().keySet());
        }
        if (nodeId.equals(catalogNode)) {
            throw new IllegalArgumentException("node '" + nodeId + "' holds the catalog (catalog.node); failing over"
                    + " the catalog's node is not supported yet");
        }
        String move = journal.moveInvolving(nodeId);
        if (move != null) {
            throw new IllegalArgumentException(move + " moves ranges of node '" + nodeId + "' and is still running;"
                    + " finish it (`shardring resume`) or cancel it (`shardring abort`) first");
        }
        NodeConfig node = topology.node(nodeId);
        FailoverJournal.Entry resumed = journal.running(nodeId);
        if (resumed != null && o.to() != null && !o.to().equals(resumed.toUrl())) {
            throw new IllegalArgumentException("failover " + resumed.id() + " of node '" + nodeId + "' to "
                    + NodeConfig.maskUrl(resumed.toUrl()) + " is running; run it again without --to, or with that URL");
        }
        if (resumed != null) {
            long epoch = resumed.newEpoch();
            return new Plan(nodeId, resumed.mode(), resumed.fromUrl(), false, "resuming", -1, null, List.of(),
                    resumed.toUrl(), "journaled by failover " + resumed.id(), epoch, resumed.id(), topology);
        }
        if (o.to() != null && !node.standbys().contains(o.to())) {
            throw new IllegalArgumentException("--to " + NodeConfig.maskUrl(o.to()) + " is not a standby of node '"
                    + nodeId + "'; its configured standbys are " + masked(node.standbys()));
        }
        if (node.standbys().isEmpty()) {
            throw new IllegalArgumentException("node '" + nodeId + "' has no standbys configured (nodes[].standbys);"
                    + " nothing to promote");
        }
        String primaryProblem = null;
        long primaryLsn = -1;
        String primaryId = null;
        String syncNames = null;
        try (Connection c = pools.connectAs(nodeId, node.jdbcUrl(), CONNECT_SECONDS, APP)) {
            primaryLsn = lsn(c, "pg_current_wal_lsn()");
            primaryId = systemIdentifier(c);
            syncNames = text(c, "SELECT current_setting('synchronous_standby_names')");
        } catch (SQLException e) {
            primaryProblem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst()
                    .orElse("");
        }
        boolean primaryAnswers = primaryProblem == null;
        List<Candidate> candidates = new ArrayList<>();
        for (String url : node.standbys()) {
            candidates.add(inspect(nodeId, url, primaryId, primaryLsn));
        }
        Candidate chosen = null;
        for (Candidate k : candidates) {
            if (o.to() != null ? k.url().equals(o.to()) : k.problem() == null
                    && (chosen == null || k.replayLsn() > chosen.replayLsn())) {
                chosen = k;
            }
        }
        if (chosen == null || chosen.problem() != null) {
            throw new IllegalArgumentException("no standby of node '" + nodeId + "' can be promoted: "
                    + describe(candidates));
        }
        if (chosen.lagBytes() != null && chosen.lagBytes() > o.maxLagBytes()) {
            throw new IllegalArgumentException("standby " + NodeConfig.maskUrl(chosen.url()) + " lags "
                    + chosen.lagBytes() + " bytes behind the primary of node '" + nodeId + "', more than --max-lag "
                    + o.maxLagBytes());
        }
        if (!primaryAnswers && !o.acceptDataLoss() && !o.synchronousStandby()) {
            throw new IllegalArgumentException("the primary of node '" + nodeId + "' does not answer ("
                    + primaryProblem + "); standby " + NodeConfig.maskUrl(chosen.url()) + " has replayed up to LSN "
                    + lsnText(chosen.replayLsn()) + ", and writes the primary acknowledged after it are lost unless"
                    + " the standby was synchronous: add --synchronous-standby if it was, or --accept-data-loss");
        }
        String choice = o.to() != null ? "named by --to" : "the highest replay LSN of " + candidates.size()
                + " standby(s); ties go to the first in nodes[].standbys";
        return new Plan(nodeId, primaryAnswers ? "planned" : "emergency", node.jdbcUrl(), primaryAnswers,
                primaryProblem, primaryLsn, syncNames, candidates, chosen.url(), choice,
                Math.max(1, node.epoch() + 1), null, topology);
    }

    /** Carries out {@code plan}; returns the topology version published. */
    public long execute(Plan plan, Duration catchUpTimeout, Listener listener) throws SQLException, InterruptedException {
        String nodeId = plan.nodeId();
        Topology from = plan.from();
        NodeConfig node = from.node(nodeId);
        FailoverJournal.Entry entry = plan.resumes() != null ? journal.running(nodeId)
                : journal.begin(nodeId, plan.fromUrl(), plan.chosen(), plan.newEpoch(), plan.mode());
        if (node.jdbcUrl().equals(entry.toUrl()) && node.epoch() == entry.newEpoch()) {
            journal.finish(entry.id()); // published before a crash: nothing left to do
            listener.step("published", "already published in version " + from.version());
            return from.version();
        }
        boolean inRecovery = isInRecovery(nodeId, entry.toUrl());
        long fencedLsn = inRecovery ? fence(nodeId, entry.fromUrl(), from, listener) : -1;
        if (fencedLsn >= 0) {
            journal.step(entry.id(), "fenced");
            awaitReplay(nodeId, entry.toUrl(), fencedLsn, catchUpTimeout, listener);
            journal.step(entry.id(), "caught-up");
            releaseSynchronousWait(nodeId, entry.fromUrl(), listener);
        }
        if (inRecovery) {
            promote(nodeId, entry.toUrl(), listener);
        } else {
            listener.step("promoted", NodeConfig.maskUrl(entry.toUrl()) + " is already out of recovery");
        }
        journal.step(entry.id(), "promoted");
        Topology next = from.withNode(promoted(node, entry), from.version() + 1);
        try (Connection c = pools.connectAs(nodeId, entry.toUrl(), CONNECT_SECONDS, APP)) {
            c.setAutoCommit(false);
            NodeEpoch.record(c, entry.newEpoch());
            // the fence replicated the empty set to the standby: give the node's arcs back, on its new primary
            OwnershipGuard.setOwnedRanges(c, nodeId, next.version(), from.ringSettings().keyType(),
                    from.ownedRanges(nodeId));
            c.commit();
        }
        journal.step(entry.id(), "epoch-recorded");
        listener.step("epoch-recorded", "epoch " + entry.newEpoch() + " and the node's owned ranges on "
                + NodeConfig.maskUrl(entry.toUrl()));
        catalog.publish(next, "failover " + nodeId + " to " + NodeConfig.maskUrl(entry.toUrl()) + " (epoch "
                + entry.newEpoch() + ")");
        journal.finish(entry.id());
        listener.step("published", "topology version " + next.version());
        return next.version();
    }

    /** The node as the promoted server: its URL, the new epoch, and no longer among its own standbys. */
    private static NodeConfig promoted(NodeConfig node, FailoverJournal.Entry entry) {
        NodeConfig.Builder b = NodeConfig.builder(node.id()).jdbcUrl(entry.toUrl()).user(node.user())
                .password(node.password()).weight(node.weight()).zone(node.zone()).pool(node.pool())
                .epoch(entry.newEpoch()).tokens(node.tokens());
        node.standbys().stream().filter(s -> !s.equals(entry.toUrl())).forEach(b::standby);
        return b.build();
    }

    /**
     * Fences the old primary when it answers: it owns nothing from now on. Returns its WAL position after the fence,
     * which the standby must replay, or -1 when it does not answer (an emergency).
     */
    private long fence(String nodeId, String primaryUrl, Topology from, Listener listener) throws SQLException {
        Connection c;
        try {
            c = pools.connectAs(nodeId, primaryUrl, CONNECT_SECONDS, APP);
        } catch (SQLException gone) {
            listener.step("fenced", "the old primary does not answer; nothing to fence");
            return -1;
        }
        try (c) {
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, nodeId, from.version(), from.ringSettings().keyType(), List.of());
            c.commit();
            c.setAutoCommit(true);
            long lsn = lsn(c, "pg_current_wal_lsn()");
            listener.step("fenced", "the old primary owns no range from now on; its WAL ends at " + lsnText(lsn));
            return lsn;
        }
    }

    /**
     * Stops the fenced old primary from waiting for the standby about to be promoted: a commit there (a router's
     * heartbeat; guarded writes are refused) would otherwise hang until its socket times out, and the router would
     * mark the whole node down instead of waiting out the failover. The old primary owns nothing, so no write of the
     * node's keys commits there without the standby.
     */
    private void releaseSynchronousWait(String nodeId, String primaryUrl, Listener listener) {
        try (Connection c = pools.connectAs(nodeId, primaryUrl, CONNECT_SECONDS, APP); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET synchronous_standby_names = ''");
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            listener.step("caught-up", "could not clear synchronous_standby_names on the old primary (" + e.getMessage()
                    + "); its commits wait for a standby that is about to be promoted");
        }
    }

    private void awaitReplay(String nodeId, String url, long lsn, Duration timeout, Listener listener)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = pools.connectAs(nodeId, url, CONNECT_SECONDS, APP)) {
            long replayed;
            while ((replayed = lsn(c, "pg_last_wal_replay_lsn()")) < lsn) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("standby " + NodeConfig.maskUrl(url) + " replayed up to "
                            + lsnText(replayed) + " but not " + lsnText(lsn) + " within " + timeout + "; the old"
                            + " primary stays fenced: run the command again to go on waiting");
                }
                Thread.sleep(10);
            }
            listener.step("caught-up", NodeConfig.maskUrl(url) + " replayed up to " + lsnText(replayed));
        }
    }

    private void promote(String nodeId, String url, Listener listener) throws SQLException {
        try (Connection c = pools.connectAs(nodeId, url, 65, APP); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_promote(true, 60)")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new IllegalStateException("standby " + NodeConfig.maskUrl(url) + " was not promoted within 60"
                        + " s; run the command again");
            }
        }
        listener.step("promoted", NodeConfig.maskUrl(url) + " is the node's primary");
    }

    private boolean isInRecovery(String nodeId, String url) throws SQLException {
        try (Connection c = pools.connectAs(nodeId, url, CONNECT_SECONDS, APP)) {
            return text(c, "SELECT pg_is_in_recovery()::text").startsWith("t");
        }
    }

    private Candidate inspect(String nodeId, String url, String primaryId, long primaryLsn) {
        try (Connection c = pools.connectAs(nodeId, url, CONNECT_SECONDS, APP)) {
            boolean recovering = text(c, "SELECT pg_is_in_recovery()::text").startsWith("t");
            long replay = recovering ? lsn(c, "pg_last_wal_replay_lsn()") : -1;
            String problem = !recovering ? "not in recovery: it is a primary already"
                    : primaryId != null && !primaryId.equals(systemIdentifier(c))
                            ? "a different system identifier: not a standby of the node's primary" : null;
            Long lag = primaryLsn >= 0 && replay >= 0 ? Math.max(0, primaryLsn - replay) : null;
            return new Candidate(url, true, recovering, replay, lag, problem);
        } catch (SQLException e) {
            return new Candidate(url, false, false, -1, null, "does not answer: " + e.getMessage());
        }
    }

    private static String describe(List<Candidate> candidates) {
        List<String> out = new ArrayList<>();
        candidates.forEach(k -> out.add(NodeConfig.maskUrl(k.url()) + " " + (k.problem() == null ? "ok"
                : k.problem())));
        return String.join("; ", out);
    }

    private static List<String> masked(List<String> urls) {
        return urls.stream().map(NodeConfig::maskUrl).toList();
    }

    private static long lsn(Connection c, String expression) throws SQLException {
        String v = text(c, "SELECT pg_wal_lsn_diff(" + expression + ", '0/0')::bigint::text");
        return v == null ? -1 : Long.parseLong(v);
    }

    private static String systemIdentifier(Connection c) throws SQLException {
        return text(c, "SELECT system_identifier::text FROM pg_control_system()");
    }

    private static String text(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** An LSN as PostgreSQL prints it. */
    public static String lsnText(long lsn) {
        return lsn < 0 ? "unknown" : Long.toHexString(lsn >>> 32).toUpperCase() + "/"
                + Long.toHexString(lsn & 0xffffffffL).toUpperCase();
    }
}
