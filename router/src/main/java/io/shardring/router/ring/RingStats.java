package io.shardring.router.ring;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How evenly a ring spreads the keyspace. Each node's load is its owned share divided by its weight
 * share, so a perfectly balanced ring has every load at 1.0 whatever the weights.
 */
public final class RingStats {
    private final Map<String, Double> shares;
    private final double peakToMean;
    private final double coefficientOfVariation;

    private RingStats(Map<String, Double> shares, double peakToMean, double cv) {
        this.shares = Collections.unmodifiableMap(shares);
        this.peakToMean = peakToMean;
        this.coefficientOfVariation = cv;
    }

    static RingStats of(List<RingNode> nodes, Arcs arcs) {
        Map<String, Double> shares = new LinkedHashMap<>();
        double totalWeight = 0;
        for (RingNode n : nodes) {
            shares.put(n.id(), 0.0);
            totalWeight += n.weight();
        }
        int count = arcs.count();
        for (int i = 0; i < count; i++) {
            long prev = arcs.tokenAt((i + count - 1) % count);
            shares.merge(arcs.ownerAt(i).id(), new TokenRange(prev, arcs.tokenAt(i)).share(), Double::sum);
        }
        double max = 0;
        double sum = 0;
        double sumSq = 0;
        for (RingNode n : nodes) {
            double load = shares.get(n.id()) / (n.weight() / totalWeight);
            max = Math.max(max, load);
            sum += load;
            sumSq += load * load;
        }
        int k = nodes.size();
        double mean = sum / k;
        double variance = Math.max(0, sumSq / k - mean * mean);
        return new RingStats(shares, max / mean, Math.sqrt(variance) / mean);
    }

    /** Each node's owned share of the keyspace, in [0, 1], by node id. */
    public Map<String, Double> shares() {
        return shares;
    }

    /** The most loaded node's load over the mean load; 1.0 is perfect balance. */
    public double peakToMean() {
        return peakToMean;
    }

    /** Standard deviation of the loads over their mean. */
    public double coefficientOfVariation() {
        return coefficientOfVariation;
    }

    @Override
    public String toString() {
        return String.format("RingStats(peakToMean=%.4f, cv=%.4f, shares=%s)", peakToMean, coefficientOfVariation,
                shares);
    }
}
