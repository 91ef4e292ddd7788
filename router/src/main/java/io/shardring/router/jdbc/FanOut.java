package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Work on every shard at once, each shard's value or error kept apart: a query on every primary, a read of every
 * key once from the copies a preference chooses, a health check of every primary. It runs on the router's fan-out
 * threads ({@code router.fanOutThreads}); health checks on a cached pool, so that every node's check starts at once.
 */
final class FanOut {
    private static final Logger LOG = LoggerFactory.getLogger(FanOut.class);

    private final ExecutorService threads;
    private final ExecutorService checks;
    private final ReadChoice reads;

    FanOut(ExecutorService threads, ExecutorService checks, ReadChoice reads) {
        this.threads = threads;
        this.checks = checks;
        this.reads = reads;
    }

    /**
     * Checks every primary of the current topology with one direct connection and {@code SELECT 1} (outside its pool,
     * so that a busy pool is not taken for a dead node), all at once, each within {@code timeout}: for health checks.
     * With replicas or standbys, each entry also carries its copies' lag as the router last sampled it.
     */
    Map<String, NodeHealth> checkNodes(Collection<NodePool> primaries, ReplicaTargets targets, Duration timeout) {
        int seconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toSeconds()));
        Map<String, Future<NodeHealth>> running = new LinkedHashMap<>();
        for (NodePool p : primaries) {
            // the cached pool, not the fixed fan-out threads: every node's check starts at once, however many nodes
            running.put(p.nodeId(), checks.submit(() -> check(p, seconds, targets)));
        }
        Map<String, NodeHealth> result = new LinkedHashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) + TimeUnit.MILLISECONDS.toNanos(500);
        for (Map.Entry<String, Future<NodeHealth>> e : running.entrySet()) {
            NodeHealth h;
            try {
                h = e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException te) {
                e.getValue().cancel(true);
                h = new NodeHealth(e.getKey(), false, "no answer within " + seconds + " s", -1, copyLags(targets,
                        e.getKey()));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while checking the shards", ie);
            } catch (ExecutionException ee) {
                h = new NodeHealth(e.getKey(), false, String.valueOf(ee.getCause()), -1, copyLags(targets, e.getKey()));
            }
            result.put(e.getKey(), h);
        }
        return result;
    }

    private static NodeHealth check(NodePool p, int seconds, ReplicaTargets targets) {
        long start = System.nanoTime();
        try (Connection c = p.direct(seconds, "shardring health"); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
            return new NodeHealth(p.nodeId(), true, null, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                    copyLags(targets, p.nodeId()));
        } catch (SQLException | RuntimeException e) {
            return new NodeHealth(p.nodeId(), false, NodePool.safeMessage(e), -1, copyLags(targets, p.nodeId()));
        }
    }

    private static Map<String, Long> copyLags(ReplicaTargets targets, String nodeId) {
        List<CopyLag> copies = targets.lagsByPrimary.get(nodeId);
        if (copies == null) {
            return Map.of();
        }
        long now = System.nanoTime();
        Map<String, Long> lags = new LinkedHashMap<>();
        for (CopyLag l : copies) {
            long st = l.staleness(now, -2); // the lag itself, whatever layout a store holds
            lags.put(l.copy, st == Long.MAX_VALUE ? -1L : TimeUnit.NANOSECONDS.toMillis(st));
        }
        return lags;
    }

    /**
     * Runs {@code work} so that every key is read once, from the copies {@code preference} chooses: the key space is
     * split by arc, each arc read where the preference sends its keys (a primary, a secondary store, a standby), and
     * {@code work} runs once per target that got arcs, in a read transaction in which
     * {@code current_setting('shardring.read_bounds')} holds that target's share of the hashes (a {@code width_bucket}
     * threshold array). A secondary store keeps the arcs of several primaries, so {@code work}'s query must keep only
     * those rows: {@link CrossShard#ownedRows(String)} of a {@link CrossShard#on(ShardedDataSource, ReadPreference)}
     * says how. Results are keyed by target ({@code primary shard1}, {@code secondary store on shard2 (copy of
     * shard1)}); arcs the preference allows no target for are reported as a failure under their primary's id.
     */
    <T> Map<String, ShardResult<T>> onCopies(Topology topology, ReplicaTargets targets, ReadPreference preference,
            SqlWork<T> work) {
        Map<String, NodePool> pools = new LinkedHashMap<>();
        Map<String, List<long[]>> intervals = new LinkedHashMap<>();
        Map<String, ShardringException> unavailable = new LinkedHashMap<>();
        targets.forEachArc((arcTargets, arc) -> {
            ReadTarget t;
            try {
                t = reads.choose(topology, arcTargets, preference, null);
            } catch (ShardringException e) {
                unavailable.putIfAbsent(arcTargets[0].nodeId, e);
                return;
            }
            String key = t.kind == ReadTarget.Kind.SECONDARY_STORE ? t + " (copy of " + arcTargets[0].nodeId + ")"
                    : t.toString();
            pools.putIfAbsent(key, t.pool);
            intervals.computeIfAbsent(key, k -> new ArrayList<>()).addAll(arc);
        });
        Map<String, Future<T>> futures = new LinkedHashMap<>();
        pools.forEach((key, pool) -> {
            String bounds = OwnershipGuard.boundsLiteral(HashIntervals.normalize(intervals.get(key)));
            futures.put(key, threads.submit(() -> Transactions.inTransaction(pool, c -> {
                try (Statement st = c.createStatement(); PreparedStatement ps = c.prepareStatement(
                        "SELECT set_config('shardring.read_bounds', ?, true)")) {
                    st.execute("SET TRANSACTION READ ONLY");
                    ps.setString(1, bounds);
                    ps.executeQuery().close();
                }
                return work.apply(c);
            })));
        });
        Map<String, ShardResult<T>> out = collect(futures);
        unavailable.forEach((node, e) -> out.put(node, new ShardResult<>(node, null, e)));
        return out;
    }

    /**
     * Runs {@code work} on every node's primary in parallel (auto-commit connections) and returns each
     * node's value or error, by node id in topology order. One shard's failure does not stop the others.
     */
    <T> Map<String, ShardResult<T>> onPrimaries(Collection<NodePool> primaries, SqlWork<T> work) {
        Map<String, Future<T>> futures = new LinkedHashMap<>();
        for (NodePool pool : primaries) {
            futures.put(pool.nodeId(), threads.submit(() -> {
                try (Connection c = pool.getConnection()) {
                    return work.apply(c);
                }
            }));
        }
        return collect(futures);
    }

    /**
     * At start-up, one connection to every primary at once, each within its pool's connection timeout (at most 5 s),
     * so that nodes that cannot be reached are marked down before the first unit of work finds out.
     */
    void probe(Snapshot s) {
        List<Future<?>> probes = new ArrayList<>();
        for (NodeConfig n : s.topology.nodes().values()) {
            int seconds = (int) Math.max(1, Math.min(5, n.pool().connectionTimeout().toSeconds()));
            NodePool pool = s.primaries.get(n.id());
            probes.add(threads.submit(() -> pool.probe(seconds)));
        }
        for (Future<?> f : probes) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException e) {
                LOG.warn("start-up probe failed: {}", NodePool.safeMessage(e));
            }
        }
    }

    private static <T> Map<String, ShardResult<T>> collect(Map<String, Future<T>> futures) {
        Map<String, ShardResult<T>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Future<T>> e : futures.entrySet()) {
            String node = e.getKey();
            try {
                out.put(node, new ShardResult<>(node, e.getValue().get(), null));
            } catch (ExecutionException ex) {
                Throwable cause = ex.getCause();
                ShardringException err = cause instanceof ShardringException ? (ShardringException) cause
                        : new ShardringException(ErrorCode.SHARD_ERROR, "on shard " + node + ": " + cause.getMessage(),
                                cause);
                out.put(node, new ShardResult<>(node, null, err));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new ShardringException(ErrorCode.SHARD_ERROR, "interrupted while waiting for shard " + node, ex);
            }
        }
        return out;
    }
}
