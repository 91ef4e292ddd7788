package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.time.Duration;

/**
 * How a router behaves, apart from the topology: health back-off, pool draining, fan-out, how long a unit of work
 * waits out a move's cutover, and how often a router that follows the catalog polls it.
 */
public final class RouterSettings {
    public static final RouterSettings DEFAULTS = new RouterSettings(Duration.ofSeconds(5), Duration.ofSeconds(30), 8,
            Duration.ofSeconds(5), Duration.ofSeconds(1));

    private final Duration downBackoff;
    private final Duration drainTimeout;
    private final int fanOutThreads;
    private final Duration cutoverWait;
    private final Duration catalogPoll;
    private final String zone;
    private final Duration replicaInterval;
    private final String user;
    private final Secret password;

    /**
     * @param downBackoff   how long a node whose connections failed is skipped before it is tried again
     * @param drainTimeout  how long the pool of a removed node waits for borrowed connections before it closes
     * @param fanOutThreads threads that run {@code onAllShards} work in parallel
     */
    public RouterSettings(Duration downBackoff, Duration drainTimeout, int fanOutThreads) {
        this(downBackoff, drainTimeout, fanOutThreads, DEFAULTS.cutoverWait, DEFAULTS.catalogPoll);
    }

    /**
     * @param cutoverWait how long {@code inTransaction} waits for a key whose shard is fenced by a move's cutover to
     *                    become writable again (a new topology version, or the ranges given back) before it throws
     * @param catalogPoll how often a router that follows the catalog reads its version, besides listening for its
     *                    notifications (which are not durable); also how often it reports itself there
     */
    public RouterSettings(Duration downBackoff, Duration drainTimeout, int fanOutThreads, Duration cutoverWait,
            Duration catalogPoll) {
        if (downBackoff == null || downBackoff.isNegative()) {
            throw new ConfigurationException("router.downBackoff " + downBackoff + " is invalid; use 0s or more");
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new ConfigurationException("router.drainTimeout " + drainTimeout + " is invalid; use 0s or more");
        }
        if (fanOutThreads < 1) {
            throw new ConfigurationException("router.fanOutThreads " + fanOutThreads + " is below 1");
        }
        if (cutoverWait == null || cutoverWait.isNegative() || cutoverWait.isZero()) {
            throw new ConfigurationException("router.cutoverWait " + cutoverWait + " is invalid: a unit of work must"
                    + " be able to wait out a move's cutover; use a positive duration such as 5s (the default)");
        }
        if (catalogPoll == null || catalogPoll.toMillis() < 10) {
            throw new ConfigurationException("router.catalogPoll " + catalogPoll + " is invalid; use 10ms or more"
                    + " (default 1s)");
        }
        this.downBackoff = downBackoff;
        this.drainTimeout = drainTimeout;
        this.fanOutThreads = fanOutThreads;
        this.cutoverWait = cutoverWait;
        this.catalogPoll = catalogPoll;
        this.zone = null;
        this.replicaInterval = Duration.ofMillis(100);
        this.user = null;
        this.password = null;
    }

    private RouterSettings(RouterSettings b, String zone, Duration replicaInterval, String user, Secret password) {
        if (replicaInterval == null || replicaInterval.toMillis() < 10 || replicaInterval.toMillis() > 10_000) {
            throw new ConfigurationException("router.replicaInterval " + replicaInterval + " is invalid; use 10ms to"
                    + " 10s (default 100ms): it bounds how soon a down primary's reads fail over");
        }
        this.downBackoff = b.downBackoff;
        this.drainTimeout = b.drainTimeout;
        this.fanOutThreads = b.fanOutThreads;
        this.cutoverWait = b.cutoverWait;
        this.catalogPoll = b.catalogPoll;
        if (user != null && user.isBlank()) {
            throw new ConfigurationException("router.user is blank; name the role the application connects as, or"
                    + " leave router.user out to connect as each node's user");
        }
        if (password != null && user == null) {
            throw new ConfigurationException("router.password is set without router.user; set both, or neither");
        }
        if (password != null && password.isLiteral()) {
            throw new ConfigurationException("router.password must be a reference, ${ENV_VAR} or file:/path, never"
                    + " the password itself");
        }
        this.zone = zone == null || zone.isBlank() ? null : zone;
        this.replicaInterval = replicaInterval;
        this.user = user;
        this.password = password;
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

    public Duration cutoverWait() {
        return cutoverWait;
    }

    public Duration catalogPoll() {
        return catalogPoll;
    }

    /** The application's zone, for NEAREST reads; null when not set. */
    public String zone() {
        return zone;
    }

    /**
     * How often the router writes a heartbeat on each primary and samples each copy's staleness (default 100 ms): a
     * down primary is noticed within about this time, and a copy's estimated staleness exceeds its true lag by at most
     * about twice this.
     */
    public Duration replicaInterval() {
        return replicaInterval;
    }

    /**
     * The role the router connects as, instead of each node's {@code user}; null when not set. The nodes' users are
     * the operator's (the catalog stores the topology the {@code shardring} tool wrote, with the tool's role, which
     * may write past the ownership guard); an application sets its own role here.
     */
    public String user() {
        return user;
    }

    /** The password reference of {@link #user()}; null without one. */
    public Secret password() {
        return password;
    }

    public RouterSettings withZone(String zone) {
        return new RouterSettings(this, zone, replicaInterval, user, password);
    }

    public RouterSettings withReplicaInterval(Duration d) {
        return new RouterSettings(this, zone, d, user, password);
    }

    /**
     * Connect to every node (primaries, secondary stores, standbys, the catalog) as {@code user} with {@code
     * password} (a reference, {@code ${ENV_VAR}} or {@code file:/path}, or null), whatever user the topology names.
     */
    public RouterSettings withCredentials(String user, Secret password) {
        return new RouterSettings(this, zone, replicaInterval, user, password);
    }

    /** {@code node} as this router connects to it: with {@link #user()} and its password when set. */
    public NodeConfig connectAs(NodeConfig node) {
        return user == null || node == null ? node : node.toBuilder().user(user).password(password).build();
    }

    private RouterSettings keep(RouterSettings next) {
        return new RouterSettings(next, zone, replicaInterval, user, password);
    }

    public RouterSettings withDownBackoff(Duration d) {
        return keep(new RouterSettings(d, drainTimeout, fanOutThreads, cutoverWait, catalogPoll));
    }

    public RouterSettings withDrainTimeout(Duration d) {
        return keep(new RouterSettings(downBackoff, d, fanOutThreads, cutoverWait, catalogPoll));
    }

    public RouterSettings withFanOutThreads(int n) {
        return keep(new RouterSettings(downBackoff, drainTimeout, n, cutoverWait, catalogPoll));
    }

    public RouterSettings withCutoverWait(Duration d) {
        return keep(new RouterSettings(downBackoff, drainTimeout, fanOutThreads, d, catalogPoll));
    }

    public RouterSettings withCatalogPoll(Duration d) {
        return keep(new RouterSettings(downBackoff, drainTimeout, fanOutThreads, cutoverWait, d));
    }

    @Override
    public String toString() {
        return "router(downBackoff=" + downBackoff + ", drainTimeout=" + drainTimeout + ", fanOutThreads="
                + fanOutThreads + ", cutoverWait=" + cutoverWait + ", catalogPoll=" + catalogPoll + ", zone=" + zone
                + ", replicaInterval=" + replicaInterval + (user == null ? "" : ", user=" + user + ", password="
                + password) + ")";
    }
}
