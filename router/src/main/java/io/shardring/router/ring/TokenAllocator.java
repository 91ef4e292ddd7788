package io.shardring.router.ring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Chooses tokens for {@link TokenPlacement#ALLOCATED} rings. A change names which nodes may receive and
 * which may give; each receiver takes its deficit from the most loaded donors' largest ranges, by
 * inserting a token inside a range (taking its first part) or by taking a whole range. The keyspace
 * moved therefore equals the receivers' deficit, which is the optimum, and no key moves between two
 * nodes that the change does not concern.
 */
final class TokenAllocator {
    private static final double TWO_64 = 18446744073709551616.0;
    private static final double EPSILON = 1e-15;

    private final TreeMap<Long, String> owner;
    private final Map<String, Double> share = new HashMap<>();

    TokenAllocator(TreeMap<Long, String> tokens) {
        this.owner = tokens;
        recomputeShares();
    }

    TreeMap<Long, String> tokens() {
        return owner;
    }

    /** The first node of an empty ring: {@code vnodes} evenly spaced tokens. */
    static TreeMap<Long, String> firstNode(String nodeId, int vnodes) {
        TreeMap<Long, String> tokens = new TreeMap<>();
        long step = Long.divideUnsigned(-1L, vnodes);
        for (int i = 0; i < vnodes; i++) {
            tokens.put(Long.MIN_VALUE + step * (i + 1), nodeId);
        }
        return tokens;
    }

    /**
     * Moves ownership from {@code donors} to {@code receivers} until each receiver reaches its target share,
     * using about {@code budget} new tokens per receiver,
     * or one per loaded donor when there are more of those.
     */
    void transfer(Map<String, Double> targets, Set<String> receivers, Set<String> donors, int budget) {
        List<String> order = new ArrayList<>(receivers);
        order.sort(Comparator.comparingDouble((String r) -> share(r) - targets.get(r)).thenComparing(r -> r));
        for (String r : order) {
            double need = targets.get(r) - share(r);
            // one token takes from one donor: with fewer tokens than loaded donors, some would stay loaded
            int loaded = 0;
            for (String d : donors) {
                if (!d.equals(r) && share(d) - targets.get(d) > EPSILON) {
                    loaded++;
                }
            }
            int left = Math.max(budget, loaded);
            while (need > EPSILON) {
                String donor = mostLoaded(targets, donors, r);
                if (donor == null) {
                    break;
                }
                Map.Entry<Long, Long> range = largestRange(donor);
                if (range == null) {
                    break;
                }
                long token = range.getKey();
                long prev = range.getValue();
                double len = rangeShare(prev, token);
                double excess = share(donor) - targets.get(donor);
                double chunk = left > 1 ? need / left : need;
                double amount = Math.min(len, Math.min(need, Math.max(excess, chunk)));
                if (amount >= len) {
                    owner.put(token, r);
                } else {
                    long units = (long) (amount * TWO_64 / 2) * 2; // stays below 2^63 * 2 without overflow
                    if (Long.compareUnsigned(units, 1) < 0) {
                        break;
                    }
                    long split = prev + units;
                    if (split == token || owner.containsKey(split)) {
                        break;
                    }
                    owner.put(split, r);
                    amount = rangeShare(prev, split);
                }
                share.merge(donor, -amount, Double::sum);
                share.merge(r, amount, Double::sum);
                need -= amount;
                left--;
            }
        }
    }

    /** Gives every remaining range of {@code leaving} to the receiver that is furthest below its target. */
    void evict(String leaving, Map<String, Double> targets, Set<String> receivers) {
        for (Map.Entry<Long, String> e : new ArrayList<>(owner.entrySet())) {
            if (e.getValue().equals(leaving)) {
                String best = null;
                double bestDeficit = Double.NEGATIVE_INFINITY;
                for (String r : receivers) {
                    double deficit = targets.get(r) - share(r);
                    if (deficit > bestDeficit || (deficit == bestDeficit && r.compareTo(best) < 0)) {
                        best = r;
                        bestDeficit = deficit;
                    }
                }
                double len = rangeShare(prevToken(e.getKey()), e.getKey());
                owner.put(e.getKey(), best);
                share.merge(best, len, Double::sum);
            }
        }
        share.remove(leaving);
    }

    /** Drops tokens whose successor has the same owner: ownership is unchanged, the token list shorter. */
    void coalesce() {
        if (owner.size() < 2) {
            return;
        }
        List<Long> drop = new ArrayList<>();
        for (Map.Entry<Long, String> e : owner.entrySet()) {
            Map.Entry<Long, String> next = owner.higherEntry(e.getKey());
            if (next == null) {
                next = owner.firstEntry();
            }
            if (next.getKey().longValue() != e.getKey().longValue() && next.getValue().equals(e.getValue())) {
                drop.add(e.getKey());
            }
        }
        if (drop.size() == owner.size()) {
            drop.remove(drop.size() - 1);
        }
        for (Long t : drop) {
            owner.remove(t);
        }
    }

    private String mostLoaded(Map<String, Double> targets, Set<String> donors, String receiver) {
        String best = null;
        double bestExcess = Double.NEGATIVE_INFINITY;
        for (String d : donors) {
            if (d.equals(receiver) || share(d) <= EPSILON) {
                continue;
            }
            double excess = share(d) - targets.get(d);
            if (excess > bestExcess || (excess == bestExcess && d.compareTo(best) < 0)) {
                best = d;
                bestExcess = excess;
            }
        }
        return best;
    }

    /** The donor's largest range as (token, previous token). */
    private Map.Entry<Long, Long> largestRange(String node) {
        long bestToken = 0;
        long bestPrev = 0;
        double bestLen = -1;
        long prev = owner.lastKey();
        for (Map.Entry<Long, String> e : owner.entrySet()) {
            long t = e.getKey();
            if (e.getValue().equals(node)) {
                double len = rangeShare(prev, t);
                if (len > bestLen) {
                    bestLen = len;
                    bestToken = t;
                    bestPrev = prev;
                }
            }
            prev = t;
        }
        return bestLen < 0 ? null : Map.entry(bestToken, bestPrev);
    }

    private long prevToken(long token) {
        Long p = owner.lowerKey(token);
        return p != null ? p : owner.lastKey();
    }

    private double rangeShare(long prev, long token) {
        return prev == token ? 1.0 : TokenRange.unsignedToDouble(token - prev) / TWO_64;
    }

    private double share(String node) {
        return share.getOrDefault(node, 0.0);
    }

    private void recomputeShares() {
        share.clear();
        if (owner.isEmpty()) {
            return;
        }
        long prev = owner.lastKey();
        for (Map.Entry<Long, String> e : owner.entrySet()) {
            share.merge(e.getValue(), rangeShare(prev, e.getKey()), Double::sum);
            prev = e.getKey();
        }
    }

    static Map<String, Double> targets(Map<String, Double> weights) {
        double total = 0;
        for (double w : weights.values()) {
            total += w;
        }
        Map<String, Double> t = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : weights.entrySet()) {
            t.put(e.getKey(), e.getValue() / total);
        }
        return t;
    }
}
