package io.shardring.benchmarks.ring;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The baseline: a consistent-hash ring as a hand-written first try looks. A {@code TreeMap} of vnode
 * tokens guarded by a read-write lock (the read lock is taken on every lookup), SHA-256 through a
 * {@link MessageDigest} obtained per hash, the first 8 bytes of the digest (big-endian) as the hash,
 * {@value RingFixtures#CLASSIC_VNODES} vnodes per node of weight 1 at {@code hash(nodeId + "#" + i)},
 * and {@code ceilingEntry} wrapping to the first entry.
 *
 * <p>Deliberately not optimised: it is what the library is measured against.
 */
public final class SeedStyleRing {
    private final TreeMap<Long, String> ring = new TreeMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final int vnodes;

    public SeedStyleRing(int vnodes) {
        this.vnodes = vnodes;
    }

    public void addNode(String nodeId) {
        addNode(nodeId, 1.0);
    }

    /** Adds {@code round(vnodes * weight)} vnodes for the node. */
    public void addNode(String nodeId, double weight) {
        int count = Math.max(1, (int) Math.round(vnodes * weight));
        lock.writeLock().lock();
        try {
            for (int i = 0; i < count; i++) {
                ring.put(hash(nodeId + "#" + i), nodeId);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    public void removeNode(String nodeId) {
        lock.writeLock().lock();
        try {
            ring.values().removeIf(nodeId::equals);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A new weight: the node's vnodes are dropped and placed again, {@code round(vnodes * weight)} of them. */
    public void setWeight(String nodeId, double weight) {
        lock.writeLock().lock();
        try {
            removeNode(nodeId);
            addNode(nodeId, weight);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The node that owns {@code key}: the owner of the first vnode at or after its hash, wrapping. */
    public String route(String key) {
        long h = hash(key);
        lock.readLock().lock();
        try {
            Map.Entry<Long, String> e = ring.ceilingEntry(h);
            if (e == null) {
                e = ring.firstEntry();
            }
            return e.getValue();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A copy of the vnode tokens and their owners. */
    public TreeMap<Long, String> tokens() {
        lock.readLock().lock();
        try {
            return new TreeMap<>(ring);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The first 8 bytes, big-endian, of SHA-256 over the UTF-8 bytes of {@code s}. */
    static long hash(String s) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        byte[] d = md.digest(s.getBytes(StandardCharsets.UTF_8));
        long h = 0;
        for (int i = 0; i < 8; i++) {
            h = (h << 8) | (d[i] & 0xff);
        }
        return h;
    }
}
