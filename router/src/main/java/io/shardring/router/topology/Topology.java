package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.Pin;
import io.shardring.router.ring.RingNode;
import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A version of the cluster's layout: the ring's settings and tokens, the nodes and how to reach them,
 * and the sharded tables. Immutable; a change makes a new version.
 */
public final class Topology {
    private final long version;
    private final RingSettings ring;
    private final Map<String, NodeConfig> nodes;
    private final List<ShardedTable> tables;
    private final String referenceNode;
    private final List<ReferenceTable> referenceTables;
    private final HashRing hashRing;

    private Topology(Builder b) {
        this.version = b.version;
        this.ring = b.ring;
        this.nodes = Collections.unmodifiableMap(new LinkedHashMap<>(b.nodes));
        this.tables = List.copyOf(b.tables);
        this.referenceTables = List.copyOf(b.referenceTables);
        this.referenceNode = referenceTables.isEmpty() ? null
                : b.referenceNode != null ? b.referenceNode : nodes.keySet().iterator().next();
        HashRing.Builder rb = HashRing.builder(ring.keyType()).vnodes(ring.vnodes()).placement(ring.placement());
        for (NodeConfig n : nodes.values()) {
            RingNode rn = RingNode.of(n.id(), n.weight(), n.zone());
            long[] stored = n.tokens();
            if (stored != null) {
                rb.node(rn, stored);
            } else {
                rb.node(rn);
            }
        }
        for (Pin p : b.pins) {
            rb.pin(p.key(), p.node());
        }
        this.hashRing = rb.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().version(version).ring(ring);
        nodes.values().forEach(b::node);
        tables.forEach(b::table);
        b.pins.addAll(hashRing.pins());
        b.referenceNode = referenceNode;
        b.referenceTables.addAll(referenceTables);
        return b;
    }

    public long version() {
        return version;
    }

    public RingSettings ringSettings() {
        return ring;
    }

    public HashRing ring() {
        return hashRing;
    }

    public Map<String, NodeConfig> nodes() {
        return nodes;
    }

    public NodeConfig node(String id) {
        NodeConfig n = nodes.get(id);
        if (n == null) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "unknown node '" + id + "'; topology version "
                    + version + " has " + nodes.keySet());
        }
        return n;
    }

    public List<ShardedTable> tables() {
        return tables;
    }

    /**
     * The node that holds the writable copy of the {@link #referenceTables()}, or null when there are none. Every
     * other node holds a read-only copy kept by logical replication.
     */
    public String referenceNode() {
        return referenceNode;
    }

    /** The tables replicated whole to every node, written only on the {@link #referenceNode()}. */
    public List<ReferenceTable> referenceTables() {
        return referenceTables;
    }

    /** The keys placed on a named node, overriding the ring, in hash order. */
    public List<Pin> pins() {
        return hashRing.pins();
    }

    /** The arcs a node owns in this version, its pinned keys' one-hash arcs included. */
    public List<TokenRange> ownedRanges(String nodeId) {
        return hashRing.rangesOf(node(nodeId).id());
    }

    /** This topology with every node's tokens stored, so that saving and loading it reproduces the ring. */
    public Topology withStoredTokens() {
        Builder b = new Builder().version(version).ring(ring);
        Map<String, long[]> tokens = hashRing.tokensByNode();
        for (NodeConfig n : nodes.values()) {
            b.node(n.toBuilder().tokens(tokens.get(n.id())).build());
        }
        return withTablesAndReference(b, hashRing.pins()).build();
    }

    /**
     * A new version in which {@code replacement} takes the place of the node of the same id, keeping that node's
     * tokens: a failover's, whose node gets another primary URL and epoch but owns the same arcs.
     */
    public Topology withNode(NodeConfig replacement, long newVersion) {
        Builder b = new Builder().version(newVersion).ring(ring);
        Map<String, long[]> tokens = hashRing.tokensByNode();
        node(replacement.id());
        for (NodeConfig n : nodes.values()) {
            NodeConfig kept = n.id().equals(replacement.id()) ? replacement : n;
            b.node(kept.toBuilder().tokens(tokens.get(n.id())).build());
        }
        return withTablesAndReference(b, hashRing.pins()).build();
    }

    /** A new version whose ring is {@code next} (same nodes by id, tokens and pins from it). */
    public Topology withRing(HashRing next, long newVersion) {
        Builder b = new Builder().version(newVersion).ring(ring);
        Map<String, long[]> tokens = next.tokensByNode();
        for (RingNode rn : next.nodes()) {
            NodeConfig n = node(rn.id());
            b.node(n.toBuilder().weight(rn.weight()).tokens(tokens.get(rn.id())).build());
        }
        return withTablesAndReference(b, next.pins()).build();
    }

    /** {@code b} with this topology's tables, reference tables and {@code pins}: what a new version keeps. */
    private Builder withTablesAndReference(Builder b, List<Pin> pins) {
        tables.forEach(b::table);
        b.pins.addAll(pins);
        b.referenceNode = referenceNode;
        b.referenceTables.addAll(referenceTables);
        return b;
    }

    @Override
    public String toString() {
        return "Topology(version " + version + ", " + ring + ", nodes " + nodes.keySet() + ", tables " + tables
                + (hashRing.pins().isEmpty() ? "" : ", " + hashRing.pins().size() + " pins") + ")";
    }

    public static final class Builder {
        private long version = 1;
        private RingSettings ring;
        private final Map<String, NodeConfig> nodes = new LinkedHashMap<>();
        private final List<ShardedTable> tables = new ArrayList<>();
        private final List<Pin> pins = new ArrayList<>();
        private String referenceNode;
        private final List<ReferenceTable> referenceTables = new ArrayList<>();

        private Builder() {
        }

        public Builder version(long version) {
            if (version < 1) {
                throw new ConfigurationException("version " + version + " is invalid; versions start at 1");
            }
            this.version = version;
            return this;
        }

        public Builder ring(RingSettings ring) {
            this.ring = ring;
            return this;
        }

        public Builder node(NodeConfig node) {
            if (nodes.putIfAbsent(node.id(), node) != null) {
                throw new ConfigurationException("duplicate node id '" + node.id() + "'; each node needs its own id");
            }
            return this;
        }

        public Builder table(ShardedTable table) {
            for (ShardedTable t : tables) {
                if (t.schema().equals(table.schema()) && t.name().equals(table.name())) {
                    throw new ConfigurationException("sharded table '" + table.displayName() + "' is listed twice");
                }
            }
            tables.add(table);
            return this;
        }

        /**
         * Places {@code key} on the node {@code nodeId}, overriding the ring. The key must fit the ring's key type
         * and the node must be one of this topology's.
         */
        public Builder pin(Object key, String nodeId) {
            pins.add(new Pin(key, 0, nodeId));
            return this;
        }

        /** The node of the reference tables' writable copy; the first node when not given. */
        public Builder referenceNode(String nodeId) {
            this.referenceNode = nodeId;
            return this;
        }

        /** The reference node and tables of {@code other}, for a version built from scratch. */
        public Builder referenceOf(Topology other) {
            if (!other.referenceTables.isEmpty()) {
                referenceNode = other.referenceNode;
                referenceTables.clear();
                referenceTables.addAll(other.referenceTables);
            }
            return this;
        }

        /** A table replicated whole to every node; see {@link ReferenceTable}. */
        public Builder referenceTable(ReferenceTable table) {
            if (referenceTables.contains(table)) {
                throw new ConfigurationException("reference table '" + table + "' is listed twice");
            }
            referenceTables.add(table);
            return this;
        }

        public Builder referenceTable(String qualifiedName) {
            return referenceTable(ReferenceTable.of(qualifiedName));
        }

        public Builder table(String qualifiedName, String keyColumn) {
            return table(ShardedTable.of(qualifiedName, keyColumn));
        }

        public Topology build() {
            if (ring == null) {
                throw new ConfigurationException("ring settings are missing; set ring.keyType at least");
            }
            if (nodes.isEmpty()) {
                throw new ConfigurationException("the topology has no nodes; add at least one node");
            }
            if (ring.replicationFactor() > nodes.size()) {
                throw new ConfigurationException("ring.replicationFactor " + ring.replicationFactor()
                        + " exceeds the number of nodes (" + nodes.size() + "); add nodes or lower it");
            }
            if (referenceNode != null && !referenceTables.isEmpty() && !nodes.containsKey(referenceNode)) {
                throw new ConfigurationException("reference.node '" + referenceNode + "' is not one of the nodes "
                        + nodes.keySet() + "; name the node that holds the reference tables' writable copy");
            }
            for (ReferenceTable r : referenceTables) {
                for (ShardedTable t : tables) {
                    if (t.schema().equals(r.schema()) && t.name().equals(r.name())) {
                        throw new ConfigurationException("table '" + r + "' is both sharded and a reference table;"
                                + " a table is either split by key (tables) or copied whole (reference.tables)");
                    }
                }
            }
            return new Topology(this);
        }
    }
}
