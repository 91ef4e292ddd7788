package io.shardring.router.jdbc;

import io.shardring.router.ConfigurationException;
import java.time.Duration;
import java.util.Locale;

/**
 * Where a read of a key may go: its primary, the secondary stores of its arc (ring.replicationFactor >= 2), or its
 * primary's physical standbys, and how stale a copy it accepts.
 *
 * <pre>{@code
 * shards.read(tenant, ReadPreference.secondaryPreferred().maxStaleness(Duration.ofMillis(500)), c -> report(c));
 * }</pre>
 *
 * <p>A copy's staleness is sampled by the router in the background from the heartbeats it applied; a copy over the
 * bound, or one whose store does not hold the router's topology version, is skipped. Immutable; the constants and
 * factories return shared instances when no bound is set.
 */
public final class ReadPreference {
    /** Which copies a read may use, and in what order. */
    public enum Mode {
        /** The primary only. Writes always use it. */
        PRIMARY,
        /** The primary; a copy within the bound when the primary is down. */
        PRIMARY_PREFERRED,
        /** A copy within the bound; never the primary (an error naming the copies' lag when none qualifies). */
        SECONDARY,
        /** A copy within the bound; the primary when none qualifies. */
        SECONDARY_PREFERRED,
        /** The first qualifying copy in the router's zone (router.zone), the primary counting as a copy of lag 0. */
        NEAREST
    }

    public static final ReadPreference PRIMARY = new ReadPreference(Mode.PRIMARY, 0);
    public static final ReadPreference PRIMARY_PREFERRED = new ReadPreference(Mode.PRIMARY_PREFERRED, 0);
    public static final ReadPreference SECONDARY = new ReadPreference(Mode.SECONDARY, 0);
    public static final ReadPreference SECONDARY_PREFERRED = new ReadPreference(Mode.SECONDARY_PREFERRED, 0);
    public static final ReadPreference NEAREST = new ReadPreference(Mode.NEAREST, 0);

    private final Mode mode;
    /** The bound in nanoseconds; 0 for none. */
    private final long maxStalenessNanos;

    private ReadPreference(Mode mode, long maxStalenessNanos) {
        this.mode = mode;
        this.maxStalenessNanos = maxStalenessNanos;
    }

    public static ReadPreference primary() {
        return PRIMARY;
    }

    public static ReadPreference primaryPreferred() {
        return PRIMARY_PREFERRED;
    }

    public static ReadPreference secondary() {
        return SECONDARY;
    }

    public static ReadPreference secondaryPreferred() {
        return SECONDARY_PREFERRED;
    }

    public static ReadPreference nearest() {
        return NEAREST;
    }

    /** The preference of a mode's name as configuration writes it: {@code secondary_preferred}, SECONDARY_PREFERRED. */
    public static ReadPreference of(String mode) {
        try {
            return of(Mode.valueOf(mode.trim().toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ConfigurationException("read preference '" + mode + "' is unknown; use primary,"
                    + " primary_preferred, secondary, secondary_preferred or nearest");
        }
    }

    public static ReadPreference of(Mode mode) {
        switch (mode) {
            case PRIMARY:
                return PRIMARY;
            case PRIMARY_PREFERRED:
                return PRIMARY_PREFERRED;
            case SECONDARY:
                return SECONDARY;
            case SECONDARY_PREFERRED:
                return SECONDARY_PREFERRED;
            default:
                return NEAREST;
        }
    }

    /**
     * The same preference, skipping copies whose last applied heartbeat is older than {@code bound}. The primary is
     * never stale; PRIMARY ignores the bound.
     */
    public ReadPreference maxStaleness(Duration bound) {
        if (bound == null || bound.isNegative() || bound.isZero()) {
            throw new ConfigurationException("maxStaleness must be positive, was " + bound
                    + "; leave it out to accept any lag");
        }
        return new ReadPreference(mode, bound.toNanos());
    }

    public Mode mode() {
        return mode;
    }

    /** The bound, or null for none. */
    public Duration maxStaleness() {
        return maxStalenessNanos == 0 ? null : Duration.ofNanos(maxStalenessNanos);
    }

    long maxStalenessNanos() {
        return maxStalenessNanos == 0 ? Long.MAX_VALUE : maxStalenessNanos;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReadPreference && ((ReadPreference) o).mode == mode
                && ((ReadPreference) o).maxStalenessNanos == maxStalenessNanos;
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + Long.hashCode(maxStalenessNanos);
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase(Locale.ROOT) + (maxStalenessNanos == 0 ? ""
                : "(maxStaleness=" + Duration.ofNanos(maxStalenessNanos).toMillis() + "ms)");
    }
}
