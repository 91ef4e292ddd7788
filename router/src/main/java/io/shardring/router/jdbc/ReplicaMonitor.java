package io.shardring.router.jdbc;

import io.shardring.router.Failures;
import io.shardring.router.StaleEpochException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's background watch over replicas, so that reads never wait for it: every interval it writes a heartbeat
 * on each primary (which also tells at once when a primary is down, and when it is back), and samples each secondary
 * store's and standby's staleness from the heartbeats they applied. Each pool has its own connection outside HikariCP
 * and at most one probe in flight: a node that hangs delays only itself.
 */
final class ReplicaMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaMonitor.class);

    private static final String HEARTBEAT_SQL = "INSERT INTO shardring.heartbeat (pub, node, at)"
            + " SELECT p.pubname, ?, clock_timestamp() FROM pg_publication p WHERE p.pubname LIKE 'shardring\\_r\\_%'"
            + " UNION ALL SELECT '', ?, clock_timestamp()"
            + " ON CONFLICT (pub) DO UPDATE SET at = EXCLUDED.at, node = EXCLUDED.node"
            // many routers write the same rows: a row another router refreshed within half an interval is left alone
            + " WHERE shardring.heartbeat.at < EXCLUDED.at - make_interval(secs => ?)";
    private static final String STORE_SQL = "SELECT h.node,"
            + " (extract(epoch FROM clock_timestamp() - min(h.at)) * 1000000)::bigint,"
            + " (SELECT s.topology_version FROM shardring.secondary_store s)"
            + " FROM shardring.heartbeat h WHERE h.pub <> '' GROUP BY h.node";
    private static final String STANDBY_SQL = "SELECT pg_is_in_recovery(),"
            + " (SELECT (extract(epoch FROM clock_timestamp() - h.at) * 1000000)::bigint FROM shardring.heartbeat h"
            + " WHERE h.pub = '')";

    private final Supplier<ReplicaTargets> targets;
    private final long intervalNanos;
    private final ScheduledExecutorService timer;
    private final ExecutorService probes;
    private final Map<NodePool, Probe> byPool = new IdentityHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** One pool's connection and whether a probe of it is running. */
    private static final class Probe {
        final AtomicBoolean busy = new AtomicBoolean();
        Connection connection;
    }

    ReplicaMonitor(Supplier<ReplicaTargets> targets, long intervalNanos, ThreadFactory threads) {
        this.targets = targets;
        this.intervalNanos = intervalNanos;
        this.timer = Executors.newSingleThreadScheduledExecutor(threads);
        this.probes = Executors.newCachedThreadPool(threads);
        timer.scheduleWithFixedDelay(this::tick, 0, intervalNanos, TimeUnit.NANOSECONDS);
    }

    private void tick() {
        try {
            ReplicaTargets t = targets.get();
            if (closed || t == null || !t.monitored()) {
                return;
            }
            Map<NodePool, Probe> live = new IdentityHashMap<>();
            for (Map.Entry<String, List<CopyLag>> e : t.lagsByPrimary.entrySet()) {
                NodePool p = t.primaries.get(e.getKey());
                if (p != null) {
                    submit(live, p, c -> heartbeat(c, p, e.getValue()));
                }
            }
            for (Map.Entry<String, Map<String, CopyLag>> e : t.storeLinks.entrySet()) {
                NodePool store = t.stores.get(e.getKey());
                if (store != null) {
                    submit(live, store, c -> sampleStore(c, store, e.getValue()));
                }
            }
            t.standbyLags.forEach((pool, lag) -> submit(live, pool, c -> sampleStandby(c, pool, lag)));
            synchronized (byPool) {
                byPool.entrySet().removeIf(e -> {
                    if (live.containsKey(e.getKey())) {
                        return false;
                    }
                    closeQuietly(e.getValue());
                    return true;
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("replica monitor tick failed: {}", e.toString());
        }
    }

    private interface Step {
        void run(Connection c) throws SQLException;
    }

    private void submit(Map<NodePool, Probe> live, NodePool pool, Step step) {
        Probe probe;
        synchronized (byPool) {
            probe = byPool.computeIfAbsent(pool, k -> new Probe());
        }
        live.put(pool, probe);
        if (!probe.busy.compareAndSet(false, true)) {
            return; // the last probe of this pool still runs: a slow node delays only itself
        }
        probes.execute(() -> {
            try {
                if (probe.connection == null) {
                    probe.connection = pool.direct(timeoutSeconds(), "shardring monitor");
                }
                step.run(probe.connection);
            } catch (SQLException | RuntimeException e) {
                closeQuietly(probe);
                failed(pool, e);
            } finally {
                probe.busy.set(false);
            }
        });
    }

    private int timeoutSeconds() {
        return (int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(intervalNanos * 10));
    }

    private void heartbeat(Connection c, NodePool primary, List<CopyLag> lags) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(HEARTBEAT_SQL)) {
            ps.setString(1, primary.nodeId());
            ps.setString(2, primary.nodeId());
            ps.setDouble(3, intervalNanos / 2e9);
            ps.executeUpdate();
        }
        if (primary.markUp()) {
            LOG.info("node {} answers again: its keys are read and written there", primary.nodeId());
        }
        lags.forEach(CopyLag::primaryUp);
    }

    private void sampleStore(Connection c, NodePool store, Map<String, CopyLag> links) throws SQLException {
        long sent = System.nanoTime();
        Map<String, long[]> rows = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(STORE_SQL); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long v = rs.getLong(3);
                rows.put(rs.getString(1), new long[] {rs.getLong(2) * 1000, rs.wasNull() ? -1 : v});
            }
        }
        store.markUp();
        links.forEach((primary, lag) -> {
            if (lag.primaryIsDown()) {
                return; // nothing is written there: the copy's last sample stays its distance from the primary
            }
            long[] row = rows.get(primary);
            if (row == null) {
                lag.unusable();
            } else {
                lag.sampled(sent, row[0], row[1]);
            }
        });
    }

    private void sampleStandby(Connection c, NodePool standby, CopyLag lag) throws SQLException {
        long sent = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(STANDBY_SQL); ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (!rs.getBoolean(1)) {
                lag.unusable();
                if (warned.add(standby.poolName())) {
                    LOG.warn("{} is not a standby (pg_is_in_recovery() is false): it is not used for reads; fix the"
                            + " standbys of node {}", standby.poolName(), standby.nodeId());
                }
                return;
            }
            long micros = rs.getLong(2);
            if (rs.wasNull()) {
                lag.unusable(); // no heartbeat has reached it yet
            } else if (!lag.primaryIsDown()) {
                lag.sampled(sent, micros * 1000, 0);
            }
        }
        standby.markUp();
    }

    private void failed(NodePool pool, Exception e) {
        // a server refused for its epoch (an old primary) is as unusable as one that cannot be reached
        boolean unreachable = Failures.isConnectionFailure(e) || e instanceof StaleEpochException;
        ReplicaTargets t = targets.get();
        if (t != null && t.primaries.get(pool.nodeId()) == pool) {
            if (unreachable) {
                boolean wasUp = !pool.isDown();
                pool.markDown();
                long now = System.nanoTime();
                t.lagsByPrimary.getOrDefault(pool.nodeId(), List.of()).forEach(l -> l.primaryDown(now));
                if (wasUp) {
                    LOG.warn("node {} is down ({}): reads that allow it go to its copies, writes fail fast",
                            pool.nodeId(), NodePool.safeMessage(e));
                }
            } else if (warned.add("heartbeat " + pool.nodeId())) {
                LOG.warn("cannot write the heartbeat on node {} ({}); run `shardring schema migrate` there",
                        pool.nodeId(), NodePool.safeMessage(e));
            }
            return;
        }
        if (unreachable) {
            pool.markDown();
        }
        if (t != null) {
            Map<String, CopyLag> links = t.storeLinks.get(pool.nodeId());
            if (links != null && t.stores.get(pool.nodeId()) == pool) {
                links.values().forEach(CopyLag::unusable);
            }
            CopyLag standby = t.standbyLags.get(pool);
            if (standby != null) {
                standby.unusable();
            }
        }
        LOG.debug("replica probe of {} failed: {}", pool.poolName(), NodePool.safeMessage(e));
    }

    private static void closeQuietly(Probe probe) {
        Connection c = probe.connection;
        probe.connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the server is gone or the connection is broken: nothing to release
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        probes.shutdownNow();
        synchronized (byPool) {
            byPool.values().forEach(ReplicaMonitor::closeQuietly);
            byPool.clear();
        }
    }
}
