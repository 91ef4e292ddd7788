package io.shardring.router.jdbc;

import io.shardring.router.ShardUnavailableException;
import io.shardring.router.topology.Topology;
import java.util.concurrent.TimeUnit;

/**
 * Which copy of a key's rows a read goes to: its primary, a secondary store of its arc, or one of the primary's
 * standbys, as the read's preference allows, skipping copies over its staleness bound and nodes that are down. It
 * decides from what the router sampled in the background (each target's lag and down mark): no lock, no allocation,
 * no I/O.
 */
final class ReadChoice {
    private final String zone;
    private final RouterMetrics metrics;

    /** @param zone the router's zone ({@code router.zone}), or null */
    ReadChoice(String zone, RouterMetrics metrics) {
        this.zone = zone;
        this.metrics = metrics;
    }

    /**
     * The target for a read of a key whose targets are {@code targets} (its primary first), never {@code failed}
     * (a target that failed within this read).
     *
     * @throws ShardUnavailableException when the preference allows no target that is up and within its bound
     */
    ReadTarget choose(Topology topology, ReadTarget[] targets, ReadPreference preference, ReadTarget failed) {
        ReadTarget primary = targets[0];
        ReadPreference.Mode mode = preference.mode();
        if (mode == ReadPreference.Mode.PRIMARY) {
            return primary;
        }
        long now = System.nanoTime();
        long bound = preference.maxStalenessNanos();
        long version = topology.version();
        boolean primaryUp = primary != failed && !primary.pool.isDown();
        switch (mode) {
            case PRIMARY_PREFERRED:
                if (primaryUp) {
                    return primary;
                }
                ReadTarget copy = firstCopy(targets, now, bound, version, failed, null);
                return copy != null ? copy : primary; // the primary then fails fast, naming the node
            case SECONDARY:
                copy = firstCopy(targets, now, bound, version, failed, null);
                if (copy == null) {
                    throw noCopy(topology, targets, preference, now);
                }
                return copy;
            case SECONDARY_PREFERRED:
                copy = firstCopy(targets, now, bound, version, failed, null);
                return copy != null ? copy : primary;
            default: // NEAREST
                if (zone != null) {
                    if (primaryUp && zone.equals(primary.zone)) {
                        return primary;
                    }
                    copy = firstCopy(targets, now, bound, version, failed, zone);
                    if (copy != null) {
                        return copy;
                    }
                }
                if (primaryUp) {
                    return primary;
                }
                copy = firstCopy(targets, now, bound, version, failed, null);
                return copy != null ? copy : primary;
        }
    }

    private static ReadTarget firstCopy(ReadTarget[] targets, long now, long bound, long version, ReadTarget failed,
            String zone) {
        for (int i = 1; i < targets.length; i++) {
            ReadTarget t = targets[i];
            if (t == failed || t.pool.isDown() || (zone != null && !zone.equals(t.zone))) {
                continue;
            }
            long staleness = t.staleness(now, version);
            // Long.MAX_VALUE: never sampled, or a store on another topology version; unusable even without a bound
            if (staleness != Long.MAX_VALUE && staleness <= bound) {
                return t;
            }
        }
        return null;
    }

    private ShardUnavailableException noCopy(Topology topology, ReadTarget[] targets, ReadPreference preference,
            long now) {
        metrics.unavailable.increment();
        long version = topology.version();
        StringBuilder sb = new StringBuilder("no copy of the key's arc qualifies for a ").append(preference)
                .append(" read (primary ").append(targets[0].nodeId).append(")");
        if (targets.length == 1) {
            sb.append(": the node has no secondary stores (ring.replicationFactor is ")
                    .append(topology.ringSettings().replicationFactor()).append(") and no standbys");
        }
        for (int i = 1; i < targets.length; i++) {
            ReadTarget t = targets[i];
            long st = t.staleness(now, version);
            sb.append(i == 1 ? ": " : "; ").append(t).append(t.pool.isDown() ? " is down" : st == Long.MAX_VALUE
                    ? (t.lag.version() != version && t.kind == ReadTarget.Kind.SECONDARY_STORE
                            ? " holds topology version " + t.lag.version() + ", not " + version
                                    + " (run `shardring replicas sync`)"
                            : " has not been sampled (no heartbeat applied yet)")
                    : " is " + TimeUnit.NANOSECONDS.toMillis(st) + " ms behind");
        }
        sb.append("; use SECONDARY_PREFERRED to fall back to the primary, or a larger maxStaleness");
        return new ShardUnavailableException(targets[0].nodeId, sb.toString(), null);
    }
}
