package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.time.Duration;

/** How a router behaves, apart from the topology: health back-off and fan-out limits. */
public final class RouterSettings {
    public static final RouterSettings DEFAULTS = new RouterSettings(Duration.ofSeconds(5), Duration.ofSeconds(30), 8);

    private final Duration downBackoff;
    private final Duration drainTimeout;
    private final int fanOutThreads;

    /**
     * @param downBackoff   how long a node whose connections failed is skipped before it is tried again
     * @param drainTimeout  how long the pool of a removed node waits for borrowed connections before it closes
     * @param fanOutThreads threads that run {@code onAllShards} work in parallel
     */
    public RouterSettings(Duration downBackoff, Duration drainTimeout, int fanOutThreads) {
        if (downBackoff == null || downBackoff.isNegative()) {
            throw new ConfigurationException("router.downBackoff " + downBackoff + " is invalid; use 0s or more");
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new ConfigurationException("router.drainTimeout " + drainTimeout + " is invalid; use 0s or more");
        }
        if (fanOutThreads < 1) {
            throw new ConfigurationException("router.fanOutThreads " + fanOutThreads + " is below 1");
        }
        this.downBackoff = downBackoff;
        this.drainTimeout = drainTimeout;
        this.fanOutThreads = fanOutThreads;
    }

    public Duration downBackoff() {
        return downBackoff;
    }

    public Duration drainTimeout() {
        return drainTimeout;
    }

    public int fanOutThreads() {
        return fanOutThreads;
    }

    public RouterSettings withDownBackoff(Duration d) {
        return new RouterSettings(d, drainTimeout, fanOutThreads);
    }

    public RouterSettings withDrainTimeout(Duration d) {
        return new RouterSettings(downBackoff, d, fanOutThreads);
    }

    public RouterSettings withFanOutThreads(int n) {
        return new RouterSettings(downBackoff, drainTimeout, n);
    }

    @Override
    public String toString() {
        return "router(downBackoff=" + downBackoff + ", drainTimeout=" + drainTimeout + ", fanOutThreads="
                + fanOutThreads + ")";
    }
}
