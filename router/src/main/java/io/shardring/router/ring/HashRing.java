package io.shardring.router.ring;

import io.shardring.router.ConfigurationException;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * An immutable consistent-hash ring of weighted, zoned nodes over PostgreSQL-compatible key hashes.
 *
 * <p>Lookup is lock-free and allocation-free: the key hash selects a bucket of an index on the hash's
 * top bits, which points into the sorted token array, and a short forward scan finds the first token
 * at or after the hash. A topology change builds a new ring ({@link #withNode}, {@link #withoutNode},
 * {@link #withWeight}); callers swap a reference.
 *
 * <pre>{@code
 * HashRing ring = HashRing.builder(KeyType.BIGINT).vnodes(64)
 *     .node("pg-a", 1.0, "eu-1a").node("pg-b", 1.0, "eu-1b").node("pg-c", 1.0, "eu-1c")
 *     .build();
 * RingNode owner = ring.route(42L);
 * RingDiff plan = HashRing.diff(ring, ring.withNode(RingNode.of("pg-d", 1.0, "eu-1a")));
 * }</pre>
 */
public final class HashRing {
    /** Enough vnodes for a few percent of balance with allocated tokens; derived tokens want more. */
    public static final int DEFAULT_VNODES = 64;

    private final KeyType keyType;
    private final TokenPlacement placement;
    private final int vnodes;
    private final List<RingNode> nodes;
    private final Map<String, RingNode> byId;
    /** The nodes' own tokens (vnodes), as the topology stores them: what allocation and storage work on. */
    private final TreeMap<Long, String> vnodeTokens;
    /** Pins by hash. */
    private final TreeMap<Long, Pin> pins;
    /** The arcs lookups use: the vnode tokens with each pin cut in as a one-hash arc. */
    private final Arcs arcs;
    /** The arcs' own arrays, held here too so that a lookup loads them from the ring directly. */
    private final long[] tokens;
    private final RingNode[] owners;
    private final int[] index;
    private final int shift;

    private HashRing(KeyType keyType, TokenPlacement placement, int vnodes, List<RingNode> nodes,
            TreeMap<Long, String> tokenOwners, TreeMap<Long, Pin> pins) {
        this.keyType = keyType;
        this.placement = placement;
        this.vnodes = vnodes;
        this.nodes = Collections.unmodifiableList(new ArrayList<>(nodes));
        Map<String, RingNode> ids = new LinkedHashMap<>();
        for (RingNode n : nodes) {
            ids.put(n.id(), n);
        }
        this.byId = Collections.unmodifiableMap(ids);
        this.vnodeTokens = tokenOwners;
        this.pins = pins; // every pin's node is in the ring: the builder, withPin and withoutNode see to it
        this.arcs = new Arcs(pins.isEmpty() ? tokenOwners : withPins(tokenOwners, pins), ids);
        this.tokens = arcs.tokens();
        this.owners = arcs.owners();
        this.index = arcs.index();
        this.shift = arcs.shift();
    }

    /**
     * Cuts each pin into the vnode arcs as an arc of one hash: the pin's hash becomes a token of its node, and the
     * hash before it a token of the node that owned that hash, so the arcs on both sides keep their owners. Lookups
     * then cost what they cost without pins: a pin is two more tokens in the same sorted array.
     */
    private static TreeMap<Long, String> withPins(TreeMap<Long, String> vnodes, TreeMap<Long, Pin> pins) {
        TreeMap<Long, String> arcs = new TreeMap<>(vnodes);
        for (Pin pin : pins.values()) {
            long before = pin.hash() - 1; // wraps to Long.MAX_VALUE for a pin at Long.MIN_VALUE, as the ring does
            if (!pins.containsKey(before)) {
                arcs.put(before, ownerOf(vnodes, before));
            }
        }
        for (Pin pin : pins.values()) {
            arcs.put(pin.hash(), pin.node());
        }
        return arcs;
    }

    private static String ownerOf(TreeMap<Long, String> vnodes, long hash) {
        Map.Entry<Long, String> e = vnodes.ceilingEntry(hash);
        return (e != null ? e : vnodes.firstEntry()).getValue();
    }

    public static Builder builder(KeyType keyType) {
        return new Builder(keyType);
    }

    /** The pinned keys, in hash order. */
    public List<Pin> pins() {
        return List.copyOf(pins.values());
    }

    /** The pins of one node, in hash order. */
    public List<Pin> pinsOf(String nodeId) {
        List<Pin> out = new ArrayList<>();
        for (Pin p : pins.values()) {
            if (p.node().equals(nodeId)) {
                out.add(p);
            }
        }
        return out;
    }

    /** The pin of a key, or null when the key follows the ring. */
    public Pin pinOf(Object key) {
        Pin p = pins.get(keyType.hash(key));
        return p != null && sameKey(p.key(), key) ? p : null;
    }

    /**
     * This ring with {@code key} placed on {@code nodeId}; the vnode tokens are unchanged, so only the key's arc of
     * one hash changes owner.
     *
     * @throws InvalidKeyException  when the key does not fit the key type
     * @throws ShardringException   when the node is not in the ring, or another key of the same hash is pinned
     */
    public HashRing withPin(Object key, String nodeId) {
        node(nodeId);
        long hash = keyType.hash(key);
        Pin existing = pins.get(hash);
        if (existing != null && !sameKey(existing.key(), key)) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "key " + key + " has the hash of pinned key "
                    + existing.key() + " (" + hash + "), so it is already on " + existing.node() + " with it");
        }
        TreeMap<Long, Pin> next = new TreeMap<>(pins);
        next.put(hash, new Pin(normalized(key), hash, nodeId));
        return new HashRing(keyType, placement, vnodes, nodes, vnodeTokens, next);
    }

    /** This ring without the key's pin: the key goes back to its arc's owner. */
    public HashRing withoutPin(Object key) {
        Pin p = pinOf(key);
        if (p == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "key " + key + " is not pinned; pinned keys: "
                    + (pins.size() <= 10 ? pins.values().toString() : pins.size() + " keys"));
        }
        TreeMap<Long, Pin> next = new TreeMap<>(pins);
        next.remove(p.hash());
        return new HashRing(keyType, placement, vnodes, nodes, vnodeTokens, next);
    }

    /** This ring without any pin: every key on its arc's owner. */
    public HashRing unpinned() {
        return pins.isEmpty() ? this : new HashRing(keyType, placement, vnodes, nodes, vnodeTokens, new TreeMap<>());
    }

    private Object normalized(Object key) {
        if (keyType == KeyType.BIGINT && (key instanceof Integer || key instanceof Short)) {
            return Long.valueOf(((Number) key).longValue());
        }
        return key instanceof CharSequence ? key.toString() : key;
    }

    private static boolean sameKey(Object a, Object b) {
        if (a instanceof Number && b instanceof Number) {
            return ((Number) a).longValue() == ((Number) b).longValue();
        }
        return a.toString().contentEquals(b.toString());
    }

    public KeyType keyType() {
        return keyType;
    }

    public TokenPlacement placement() {
        return placement;
    }

    public int vnodes() {
        return vnodes;
    }

    public List<RingNode> nodes() {
        return nodes;
    }

    public RingNode node(String id) {
        RingNode n = byId.get(id);
        if (n == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "unknown node '" + id + "'; the ring has "
                    + byId.keySet());
        }
        return n;
    }

    public boolean contains(String nodeId) {
        return byId.containsKey(nodeId);
    }

    /** The node that owns a key hash: the owner of the first token at or after it, wrapping. */
    public RingNode nodeForHash(long hash) {
        return Arcs.ownerOf(tokens, owners, index, shift, hash);
    }

    /** Routes a {@code bigint} (or {@code integer}) key. */
    public RingNode route(long key) {
        if (keyType == KeyType.BIGINT) {
            return nodeForHash(PgHash.hashInt8(key));
        }
        if (keyType == KeyType.INTEGER && key == (int) key) {
            // hashint8extended equals hashint4extended on values that fit in an int
            return nodeForHash(PgHash.hashUint32((int) key));
        }
        throw new InvalidKeyException("shard key " + key + " (long) does not fit key type " + keyType);
    }

    /** Routes a {@code text} key. */
    public RingNode route(CharSequence key) {
        if (keyType != KeyType.TEXT || key == null) {
            return route((Object) key);
        }
        return nodeForHash(KeyType.hashText(key));
    }

    /** Routes a {@code uuid} key. */
    public RingNode route(UUID key) {
        return route((Object) key);
    }

    /** Routes a key of any supported Java type; it must fit the ring's {@link #keyType()}. */
    public RingNode route(Object key) {
        return nodeForHash(keyType.hash(key));
    }

    /**
     * The key's {@code n} copies as {@code ReplicaLayout} places them: element 0 the key's owner, then its
     * secondaries, each from a zone without a copy while there is one. Ranks every node for the key's slice on each
     * call; a router that reads from secondaries keeps a {@code ReplicaLayout} instead.
     */
    public List<RingNode> preferenceList(Object key, int n) {
        if (n < 1 || n > nodes.size()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "preferenceList asked for " + n
                    + " nodes but the ring has " + nodes.size() + "; ask for 1 to " + nodes.size());
        }
        long hash = keyType.hash(key);
        return new ReplicaRanking(nodes, zoneCount()).nodes(ReplicaRanking.sliceOf(hash), nodeForHash(hash), n);
    }

    /** The number of distinct zones of the ring's nodes. */
    public int zoneCount() {
        Set<String> zones = new HashSet<>();
        for (RingNode node : nodes) {
            zones.add(node.zone());
        }
        return zones.size();
    }

    /** Groups keys by owner, keeping each group's keys in input order; for batched statements. */
    public <K> Map<RingNode, List<K>> groupByNode(Collection<K> keys) {
        Map<RingNode, List<K>> groups = new LinkedHashMap<>();
        for (K key : keys) {
            groups.computeIfAbsent(route((Object) key), x -> new ArrayList<>()).add(key);
        }
        return groups;
    }

    /** The sorted vnode tokens of the ring, as the topology stores them; pins are not tokens (a copy). */
    public long[] tokens() {
        long[] out = new long[vnodeTokens.size()];
        int i = 0;
        for (long t : vnodeTokens.keySet()) {
            out[i++] = t;
        }
        return out;
    }

    /** The vnode tokens of a node, sorted (a copy). */
    public long[] tokensOf(String nodeId) {
        String id = node(nodeId).id();
        return vnodeTokens.entrySet().stream().filter(e -> e.getValue().equals(id)).mapToLong(Map.Entry::getKey)
                .toArray();
    }

    /**
     * Every node's tokens, sorted, by node id, in one pass: storing a topology of a thousand nodes with
     * {@link #tokensOf} would pass over all tokens once per node.
     */
    public Map<String, long[]> tokensByNode() {
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (RingNode n : nodes) {
            counts.put(n.id(), new int[1]);
        }
        for (String owner : vnodeTokens.values()) {
            counts.get(owner)[0]++;
        }
        Map<String, long[]> out = new LinkedHashMap<>();
        counts.forEach((id, c) -> {
            out.put(id, new long[c[0]]);
            c[0] = 0; // from here on, where the node's next token goes
        });
        for (Map.Entry<Long, String> e : vnodeTokens.entrySet()) {
            String id = e.getValue();
            out.get(id)[counts.get(id)[0]++] = e.getKey();
        }
        return out;
    }

    /** The arcs a node owns, its pins included, adjacent arcs merged, in token order. */
    public List<TokenRange> rangesOf(String nodeId) {
        return arcs.rangesOf(node(nodeId));
    }

    public RingStats stats() {
        return RingStats.of(nodes, arcs);
    }

    /** The arcs, for the ring's own algorithms. */
    Arcs arcs() {
        return arcs;
    }

    /** A new ring with {@code node} joined: allocated rings take its share from the most loaded ranges. */
    public HashRing withNode(RingNode node) {
        if (byId.containsKey(node.id())) {
            throw new ConfigurationException("duplicate node id '" + node.id() + "': the ring already has it");
        }
        List<RingNode> next = new ArrayList<>(nodes);
        next.add(node);
        TreeMap<Long, String> map = tokenMap();
        if (placement == TokenPlacement.ALLOCATED) {
            TokenAllocator alloc = new TokenAllocator(map, weights(nodes));
            alloc.join(node.id(), node.weight(), vnodes);
            map = alloc.tokens();
        } else {
            addDerived(map, node, placement, vnodes);
        }
        return new HashRing(keyType, placement, vnodes, next, map, pins);
    }

    /** A new ring without the node; only its keys move. Pinned keys stay where they are pinned. */
    public HashRing withoutNode(String nodeId) {
        RingNode gone = node(nodeId);
        if (nodes.size() == 1) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "cannot remove '" + nodeId
                    + "': it is the last node of the ring; add another node first");
        }
        List<Pin> held = pinsOf(nodeId);
        if (!held.isEmpty()) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "cannot remove '" + nodeId + "': "
                    + held.size() + " key(s) are pinned to it (" + (held.size() <= 5 ? held : held.subList(0, 5) + "...")
                    + "); unpin them (shardring unpin KEY) or pin them to another node first");
        }
        List<RingNode> next = new ArrayList<>(nodes);
        next.remove(gone);
        TreeMap<Long, String> map = tokenMap();
        if (placement == TokenPlacement.ALLOCATED) {
            TokenAllocator alloc = new TokenAllocator(map, weights(nodes));
            alloc.remove(nodeId, vnodes);
            map = alloc.tokens();
        } else {
            map.values().removeIf(nodeId::equals);
        }
        return new HashRing(keyType, placement, vnodes, next, map, pins);
    }

    /** A new ring with the node's weight changed; keys move only between it and other nodes. */
    public HashRing withWeight(String nodeId, double weight) {
        RingNode old = node(nodeId);
        RingNode updated = old.withWeight(weight);
        List<RingNode> next = new ArrayList<>(nodes);
        next.set(next.indexOf(old), updated);
        TreeMap<Long, String> map = tokenMap();
        if (placement == TokenPlacement.ALLOCATED) {
            TokenAllocator alloc = new TokenAllocator(map, weights(nodes));
            alloc.reweight(nodeId, weight, vnodes);
            map = alloc.tokens();
        } else {
            map.values().removeIf(nodeId::equals);
            addDerived(map, updated, placement, vnodes);
        }
        return new HashRing(keyType, placement, vnodes, next, map, pins);
    }

    /** The exact arcs whose owner differs between two rings, with their old and new owners. */
    public static RingDiff diff(HashRing before, HashRing after) {
        if (before.keyType != after.keyType) {
            throw new ConfigurationException("cannot diff rings of key types " + before.keyType + " and "
                    + after.keyType + "; a ring's key type never changes");
        }
        return RingDiff.of(before.arcs, after.arcs);
    }

    private TreeMap<Long, String> tokenMap() {
        return new TreeMap<>(vnodeTokens);
    }

    private static void addDerived(TreeMap<Long, String> map, RingNode node, TokenPlacement placement, int vnodes) {
        int count = Math.max(1, (int) Math.round(vnodes * node.weight()));
        for (int i = 0; i < count; i++) {
            long t = placement.derive(node.id(), i);
            // a collision of two 64-bit tokens is astronomically rare; the smaller id keeps it, deterministically
            map.merge(t, node.id(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
        }
    }

    private static Map<String, Double> weights(List<RingNode> nodes) {
        Map<String, Double> w = new LinkedHashMap<>();
        for (RingNode n : nodes) {
            w.put(n.id(), n.weight());
        }
        return w;
    }

    @Override
    public String toString() {
        return "HashRing(" + keyType + ", " + placement + ", " + nodes.size() + " nodes, " + vnodeTokens.size()
                + " tokens" + (pins.isEmpty() ? "" : ", " + pins.size() + " pins") + ")";
    }

    /**
     * Builds a ring. Nodes with stored tokens ({@link #node(RingNode, long...)}) keep their arcs; the
     * others join in the order given, allocated or derived as the placement says. When nodes join by
     * allocation, adjacent tokens of one owner may be merged: ownership is unchanged, the token list
     * shorter. A ring of stored tokens only is rebuilt token for token.
     */
    public static final class Builder {
        private final KeyType keyType;
        private TokenPlacement placement = TokenPlacement.ALLOCATED;
        private int vnodes = DEFAULT_VNODES;
        private final Map<String, RingNode> nodes = new LinkedHashMap<>();
        private final Map<String, long[]> stored = new LinkedHashMap<>();
        private final List<Object[]> pins = new ArrayList<>();

        private Builder(KeyType keyType) {
            if (keyType == null) {
                throw new ConfigurationException("key type is null; use one of bigint, integer, text, uuid");
            }
            this.keyType = keyType;
        }

        public Builder placement(TokenPlacement placement) {
            if (placement == null) {
                throw new ConfigurationException("token placement is null; use one of "
                        + Arrays.toString(TokenPlacement.values()));
            }
            this.placement = placement;
            return this;
        }

        /** Vnodes per node of weight 1 (derived), or new tokens per join (allocated); at least 1. */
        public Builder vnodes(int vnodes) {
            if (vnodes < 1 || vnodes > 65536) {
                throw new ConfigurationException("invalid vnodes " + vnodes + ": use 1 to 65536 (64 is usual)");
            }
            this.vnodes = vnodes;
            return this;
        }

        public Builder node(String id) {
            return node(RingNode.of(id));
        }

        public Builder node(String id, double weight, String zone) {
            return node(RingNode.of(id, weight, zone));
        }

        public Builder node(RingNode node) {
            if (nodes.putIfAbsent(node.id(), node) != null) {
                throw new ConfigurationException("duplicate node id '" + node.id() + "': each node needs its own id");
            }
            return this;
        }

        /** A node with the tokens stored in the topology, kept exactly. */
        public Builder node(RingNode node, long... tokens) {
            if (tokens == null || tokens.length == 0) {
                throw new ConfigurationException("node '" + node.id() + "' has no stored tokens; give at least one"
                        + " or add it without tokens to have them placed");
            }
            node(node);
            stored.put(node.id(), tokens.clone());
            return this;
        }

        /** Places {@code key} on {@code nodeId}, overriding the ring; see {@link HashRing#withPin}. */
        public Builder pin(Object key, String nodeId) {
            pins.add(new Object[] {key, nodeId});
            return this;
        }

        public HashRing build() {
            if (nodes.isEmpty()) {
                throw new ConfigurationException("the ring has no nodes; add at least one node");
            }
            TreeMap<Long, String> map = new TreeMap<>();
            List<RingNode> placed = new ArrayList<>();
            for (Map.Entry<String, long[]> e : stored.entrySet()) {
                for (long t : e.getValue()) {
                    String previous = map.put(t, e.getKey());
                    if (previous != null) {
                        throw new ConfigurationException("token " + t + " is stored for both '" + previous
                                + "' and '" + e.getKey() + "'; each token has one owner");
                    }
                }
                placed.add(nodes.get(e.getKey()));
            }
            // one allocator for all joins: each join then costs O(vnodes log tokens), not a pass over the ring
            TokenAllocator alloc = placement == TokenPlacement.ALLOCATED && placed.size() < nodes.size()
                    ? new TokenAllocator(map, weights(placed)) : null;
            for (RingNode n : nodes.values()) {
                if (stored.containsKey(n.id())) {
                    continue;
                }
                if (alloc != null) {
                    alloc.join(n.id(), n.weight(), vnodes);
                } else {
                    addDerived(map, n, placement, vnodes);
                }
            }
            if (alloc != null) {
                map = alloc.tokens();
            }
            // keep the configured order of nodes, whatever the order of placement
            HashRing ring = new HashRing(keyType, placement, vnodes, new ArrayList<>(nodes.values()), map,
                    new TreeMap<>());
            if (pins.isEmpty()) {
                return ring;
            }
            TreeMap<Long, Pin> placedPins = new TreeMap<>();
            for (Object[] p : pins) {
                String nodeId = (String) p[1];
                if (!nodes.containsKey(nodeId)) {
                    throw new ConfigurationException("key " + p[0] + " is pinned to '" + nodeId + "', which is not"
                            + " in the ring " + nodes.keySet() + "; pin it to one of those or remove the pin");
                }
                long hash = keyType.hash(p[0]);
                Pin existing = placedPins.get(hash);
                if (existing != null) {
                    throw new ConfigurationException("keys " + existing.key() + " and " + p[0] + " are both pinned"
                            + " and have the same hash (" + hash + "); pin one of them only");
                }
                placedPins.put(hash, new Pin(ring.normalized(p[0]), hash, nodeId));
            }
            return new HashRing(keyType, placement, vnodes, new ArrayList<>(nodes.values()), map, placedPins);
        }
    }
}
