package io.shardring.router.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shardring.router.InvalidKeyException;
import io.shardring.router.ShardringException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PinTest {
    private static HashRing ring() {
        return HashRing.builder(KeyType.BIGINT).vnodes(16)
                .node("a", 1, "z1").node("b", 1, "z2").node("c", 1, "z3").node("d", 1, "z1").build();
    }

    @Test
    void pinnedKeysRouteToTheirNodeAndEveryOtherKeyAsWithoutPins() {
        HashRing plain = ring();
        HashRing pinned = plain;
        SplittableRandom rnd = new SplittableRandom(7);
        Map<Long, String> pins = new HashMap<>();
        String[] ids = {"a", "b", "c", "d"};
        for (int i = 0; i < 1000; i++) {
            long key = rnd.nextLong();
            String node = ids[rnd.nextInt(4)];
            pins.put(key, node);
        }
        HashRing.Builder b = HashRing.builder(KeyType.BIGINT).vnodes(16);
        plain.nodes().forEach(n -> b.node(n, plain.tokensOf(n.id())));
        pins.forEach(b::pin);
        pinned = b.build();
        assertEquals(1000, pinned.pins().size());
        assertTrue(java.util.Arrays.equals(plain.tokens(), pinned.tokens()), "pins are not vnode tokens");
        for (Map.Entry<Long, String> e : pins.entrySet()) {
            assertEquals(e.getValue(), pinned.route(e.getKey()).id(), "pinned key " + e.getKey());
            assertEquals(e.getValue(), pinned.pinOf(e.getKey()).node());
        }
        int checked = 0;
        for (int i = 0; i < 300_000; i++) {
            long key = rnd.nextLong();
            if (pins.containsKey(key)) {
                continue;
            }
            assertEquals(plain.route(key).id(), pinned.route(key).id(), "unpinned key " + key);
            long h = PgHash.hashInt8(key);
            // the hashes right next to a pin keep their arc's owner
            for (long near : new long[] {h - 1, h + 1}) {
                if (!pins.containsKey(near)) {
                    checked++;
                }
            }
        }
        for (Long key : pins.keySet()) {
            long h = PgHash.hashInt8(key);
            for (long near : new long[] {h - 1, h + 1}) {
                boolean isPin = false;
                for (Long k : pins.keySet()) {
                    isPin |= PgHash.hashInt8(k) == near;
                }
                if (!isPin) {
                    assertEquals(plain.nodeForHash(near).id(), pinned.nodeForHash(near).id(), "hash next to a pin");
                }
            }
        }
        assertTrue(checked > 0);
        assertEquals(plain.unpinned().route(42L).id(), pinned.unpinned().route(42L).id());
        assertTrue(pinned.unpinned().pins().isEmpty());
    }

    @Test
    void aPinMovesExactlyItsKeysHash() {
        HashRing ring = ring();
        long key = 4242L;
        String owner = ring.route(key).id();
        String other = owner.equals("a") ? "b" : "a";
        HashRing pinned = ring.withPin(key, other);
        RingDiff diff = HashRing.diff(ring, pinned);
        assertEquals(1, diff.moves().size());
        RingDiff.Move m = diff.moves().get(0);
        long h = PgHash.hashInt8(key);
        assertEquals(h - 1, m.range().startExclusive());
        assertEquals(h, m.range().endInclusive());
        assertEquals(owner, m.from().id());
        assertEquals(other, m.to().id());
        assertTrue(pinned.rangesOf(other).stream().anyMatch(r -> r.contains(h)));
        assertTrue(pinned.rangesOf(owner).stream().noneMatch(r -> r.contains(h)));
        assertTrue(ring.rangesOf(owner).stream().anyMatch(r -> r.contains(h)));
        // unpinning moves it back, and nothing else
        RingDiff back = HashRing.diff(pinned, pinned.withoutPin(key));
        assertEquals(1, back.moves().size());
        assertEquals(owner, back.moves().get(0).to().id());
        // Integer and Long of one value are one key on a bigint ring
        assertEquals(other, pinned.pinOf(4242).node());
        assertNull(pinned.pinOf(4243L));
        // pinning to the owner moves nothing, but keeps the key there through later changes
        assertTrue(HashRing.diff(ring, ring.withPin(key, owner)).moves().isEmpty());
    }

    @Test
    void rebalancesKeepPinnedKeysWherePinned() {
        HashRing ring = ring();
        List<Long> keys = new ArrayList<>();
        HashRing pinned = ring;
        for (long k = 1; k <= 200; k++) {
            keys.add(k);
            pinned = pinned.withPin(k, "b");
        }
        HashRing[] changes = {pinned.withNode(RingNode.of("e", 1, "z2")), pinned.withoutNode("c"),
            pinned.withWeight("a", 3.0), pinned.withWeight("b", 0.2)};
        for (HashRing next : changes) {
            for (long k : keys) {
                assertEquals("b", next.route(k).id(), "pinned key " + k + " after " + next);
            }
            long moved = 0;
            for (RingDiff.Move m : HashRing.diff(pinned, next).moves()) {
                for (long k : keys) {
                    assertTrue(!m.range().contains(PgHash.hashInt8(k)), "a rebalance moves pinned key " + k);
                }
                moved++;
            }
            assertTrue(moved > 0);
            assertEquals(200, next.pins().size());
        }
        ShardringException e = assertThrows(ShardringException.class, () -> ring.withPin(1L, "b").withoutNode("b"));
        assertTrue(e.getMessage().contains("pinned to it") && e.getMessage().contains("unpin"), e.getMessage());
    }

    @Test
    void badPins() {
        HashRing ring = ring();
        assertTrue(assertThrows(ShardringException.class, () -> ring.withPin(1L, "x")).getMessage().contains("'x'"));
        assertThrows(InvalidKeyException.class, () -> ring.withPin("tenant-1", "a"));
        assertTrue(assertThrows(InvalidKeyException.class, () -> KeyType.BIGINT.parseKey("abc")).getMessage()
                .contains("'abc' is not a bigint"));
        assertTrue(assertThrows(InvalidKeyException.class, () -> KeyType.UUID.parseKey("12")).getMessage()
                .contains("'12' is not a uuid"));
        assertEquals(12L, KeyType.BIGINT.parseKey(" 12"));
        assertThrows(InvalidKeyException.class, () -> KeyType.INTEGER.parseKey("3000000000"));
        ShardringException e = assertThrows(ShardringException.class, () -> ring.withoutPin(5L));
        assertTrue(e.getMessage().contains("not pinned"));
    }

    @Test
    void textAndUuidPins() {
        HashRing ring = HashRing.builder(KeyType.TEXT).node("a").node("b").node("c").build();
        String key = "whale-tenant";
        String owner = ring.route(key).id();
        String other = owner.equals("a") ? "b" : "a";
        HashRing pinned = ring.withPin(new StringBuilder(key), other);
        assertEquals(other, pinned.route(key).id());
        assertEquals(key, pinned.pins().get(0).key());
        java.util.UUID u = java.util.UUID.fromString("123e4567-e89b-12d3-a456-426614174000");
        HashRing uuids = HashRing.builder(KeyType.UUID).node("a").node("b").build();
        String target = uuids.route(u).id().equals("a") ? "b" : "a";
        assertEquals(target, uuids.withPin(u, target).route(u).id());
    }

    @Test
    void replicasOfAPinnedKeyNeverIncludeItsPinNode() {
        HashRing ring = ring();
        HashRing pinned = ring;
        for (long k = 1; k <= 50; k++) {
            String owner = ring.route(k).id();
            pinned = pinned.withPin(k, owner.equals("c") ? "d" : "c");
        }
        ReplicaLayout layout = ReplicaLayout.of(pinned, 3);
        for (long k = 1; k <= 50; k++) {
            List<RingNode> copies = pinned.preferenceList(k, 3);
            String pinNode = pinned.pinOf(k).node();
            assertEquals(pinNode, copies.get(0).id());
            assertEquals(3, copies.stream().map(RingNode::id).distinct().count());
            long h = PgHash.hashInt8(k);
            ReplicaLayout.Arc arc = layout.arcs().stream().filter(a -> a.range().contains(h)).findFirst().orElseThrow();
            assertEquals(pinNode, arc.primary().id());
            assertTrue(arc.secondaries().stream().noneMatch(n -> n.id().equals(pinNode)));
            assertNotEquals(null, arc);
        }
    }
}
