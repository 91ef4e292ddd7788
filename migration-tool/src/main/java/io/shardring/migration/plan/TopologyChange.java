package io.shardring.migration.plan;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.RingNode;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.Topology;
import java.util.ArrayList;
import java.util.List;

/** A change an operator asks for: add a node, remove a node, or set a node's weight. */
public interface TopologyChange {

    /** The next topology version: the new ring (tokens allocated and stored) with this change applied. */
    Topology apply(Topology current);

    /** A short description for plans and the journal, e.g. "add-node pg-d (weight 1.0, zone eu-1a)". */
    String describe();

    /**
     * Several changes as one plan, one topology version: the move takes exactly the keys whose owner differs between
     * the current ring and the ring after the last change (adding three nodes to one moves 75% of the keys, where three
     * changes one after another would copy 1/2 + 1/3 + 1/4 of them). Tokens are allocated change by change, in order.
     */
    static TopologyChange all(List<TopologyChange> changes) {
        if (changes.isEmpty()) {
            throw new ConfigurationException("no change to plan; name at least one");
        }
        if (changes.size() == 1) {
            return changes.get(0);
        }
        List<TopologyChange> list = List.copyOf(changes);
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                Topology t = current;
                for (TopologyChange c : list) {
                    t = c.apply(t);
                }
                return t.toBuilder().version(current.version() + 1).build();
            }

            @Override
            public String describe() {
                List<String> each = new ArrayList<>();
                list.forEach(c -> each.add(c.describe()));
                return String.join("; ", each);
            }
        };
    }

    static TopologyChange addNode(NodeConfig node) {
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                if (current.nodes().containsKey(node.id())) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "node '" + node.id()
                            + "' is already in topology version " + current.version()
                            + "; choose another id, or use set-weight to change it");
                }
                HashRing ring = current.ring().withNode(RingNode.of(node.id(), node.weight(), node.zone()));
                Topology.Builder b = Topology.builder().version(current.version() + 1).ring(current.ringSettings());
                current.nodes().values().forEach(b::node);
                b.node(node);
                current.tables().forEach(b::table);
                b.referenceOf(current);
                return b.build().withRing(ring, current.version() + 1);
            }

            @Override
            public String describe() {
                return "add-node " + node.id() + " (weight " + node.weight() + ", zone "
                        + (node.zone() == null ? RingNode.DEFAULT_ZONE : node.zone()) + ")";
            }
        };
    }

    static TopologyChange removeNode(String nodeId) {
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                current.node(nodeId);
                if (current.nodes().size() == 1) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "cannot remove '" + nodeId
                            + "': it is the last node; add another node first");
                }
                if (nodeId.equals(current.referenceNode())) {
                    throw new ShardringException(ErrorCode.RING_CONSTRAINT, "cannot remove '" + nodeId + "': it holds"
                            + " the writable copy of the reference tables (reference.node); name another node there"
                            + " first");
                }
                HashRing ring = current.ring().withoutNode(nodeId);
                Topology.Builder b = Topology.builder().version(current.version() + 1).ring(current.ringSettings());
                current.nodes().values().stream().filter(n -> !n.id().equals(nodeId)).forEach(b::node);
                current.tables().forEach(b::table);
                b.referenceOf(current);
                return b.build().withRing(ring, current.version() + 1);
            }

            @Override
            public String describe() {
                return "remove-node " + nodeId;
            }
        };
    }

    static TopologyChange setWeight(String nodeId, double weight) {
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new ConfigurationException("weight " + weight + " for node '" + nodeId
                    + "' is invalid; use a number greater than 0 (1.0 is the usual share)");
        }
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                current.node(nodeId);
                HashRing ring = current.ring().withWeight(nodeId, weight);
                return current.withRing(ring, current.version() + 1);
            }

            @Override
            public String describe() {
                return "set-weight " + nodeId + " " + weight;
            }
        };
    }

    /**
     * Places one key on a named node, overriding the ring: only that key's rows move (one job, the key's hash as its
     * one range). Later rebalances keep it there until {@link #unpin}.
     *
     * @param key the key as the ring's key type takes it ({@link io.shardring.router.ring.KeyType#parseKey})
     */
    static TopologyChange pin(Object key, String nodeId) {
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                current.node(nodeId);
                return current.withRing(current.ring().withPin(key, nodeId), current.version() + 1);
            }

            @Override
            public String describe() {
                return "pin " + key + " to " + nodeId;
            }
        };
    }

    /** Gives a pinned key back to the ring: its rows move to the owner of its arc. */
    static TopologyChange unpin(Object key) {
        return new TopologyChange() {
            @Override
            public Topology apply(Topology current) {
                return current.withRing(current.ring().withoutPin(key), current.version() + 1);
            }

            @Override
            public String describe() {
                return "unpin " + key;
            }
        };
    }
}
