package io.shardring.router.ring;

import io.shardring.router.ConfigurationException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A node of the ring as the ring sees it: an id, a weight that scales its share, and a zone for
 * zone-diverse preference lists. Connection details live in the topology, not here.
 */
public final class RingNode {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    /** The zone of nodes configured without one. */
    public static final String DEFAULT_ZONE = "default";
    /** Weights are relative; this range keeps derived vnode counts and allocated shares meaningful. */
    public static final double MIN_WEIGHT = 0.001;
    public static final double MAX_WEIGHT = 1000;

    private final String id;
    private final double weight;
    private final String zone;

    private RingNode(String id, double weight, String zone) {
        this.id = id;
        this.weight = weight;
        this.zone = zone;
    }

    /**
     * @param id     1 to 63 characters of letters, digits, '_', '.', '-', starting with a letter or digit
     * @param weight finite and greater than zero; 1.0 is the usual share
     * @param zone   a failure domain such as an availability zone; null means {@link #DEFAULT_ZONE}
     * @throws ConfigurationException naming the bad value
     */
    public static RingNode of(String id, double weight, String zone) {
        checkId(id);
        checkWeight(id, weight);
        String z = zone == null || zone.isBlank() ? DEFAULT_ZONE : zone.trim();
        return new RingNode(id, weight, z);
    }

    public static RingNode of(String id) {
        return of(id, 1.0, null);
    }

    static void checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new ConfigurationException("invalid node id '" + id + "': use 1 to 63 letters, digits, '_', '.'"
                    + " or '-', starting with a letter or digit");
        }
    }

    static void checkWeight(String id, double weight) {
        if (!(weight >= MIN_WEIGHT && weight <= MAX_WEIGHT)) {
            throw new ConfigurationException("invalid weight " + weight + " for node '" + id + "': a weight must be"
                    + " a number from " + MIN_WEIGHT + " to " + MAX_WEIGHT + " (1.0 is the usual share)");
        }
    }

    public String id() {
        return id;
    }

    public double weight() {
        return weight;
    }

    public String zone() {
        return zone;
    }

    RingNode withWeight(double w) {
        checkWeight(id, w);
        return new RingNode(id, w, zone);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RingNode)) {
            return false;
        }
        RingNode n = (RingNode) o;
        return id.equals(n.id) && Double.compare(weight, n.weight) == 0 && zone.equals(n.zone);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, weight, zone);
    }

    @Override
    public String toString() {
        return id + "(weight=" + weight + ", zone=" + zone + ")";
    }
}
