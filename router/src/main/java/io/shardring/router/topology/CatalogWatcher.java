package io.shardring.router.topology;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a router on the catalog's newest topology: it listens for the catalog's {@code NOTIFY} and also polls the
 * version every {@code pollInterval}, because a notification sent while the listener was reconnecting is lost. Every
 * notification, also one that publishes no version (a failed cutover gave ranges back), wakes the router's units of
 * work that wait out a cutover. It reports the router in the catalog's registry ({@link RouterRegistry}) at least
 * once a second and whenever the version changes, and removes it on close. Runs on one daemon thread with one
 * catalog connection; while the catalog cannot be reached it keeps the router on the topology it has and retries.
 */
public final class CatalogWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogWatcher.class);
    private static final long REPORT_EVERY_NANOS = Duration.ofSeconds(1).toNanos();

    private final DataSource catalogDs;
    private final TopologyFollower router;
    private final long pollMillis;
    /** Read and write through the listening connection, so that the watcher never waits for a pooled one. */
    private Catalog catalog;
    private RouterRegistry registry;
    private final String id = UUID.randomUUID().toString();
    private final String host = hostName();
    private final Thread thread;
    private volatile boolean closed;
    private long reportedVersion = -1;
    private long reportedAt;
    private boolean registryMissing;
    /** The running move whose nodes have pools prepared; -1 for none. */
    private long preparedFor = -1;
    /** Failures to prepare a move's pools already logged: retried every poll, logged once. */
    private final Set<String> prepareWarned = new HashSet<>();

    private CatalogWatcher(DataSource catalogDs, TopologyFollower router, Duration pollInterval) {
        this.catalogDs = catalogDs;
        this.router = router;
        this.pollMillis = Math.max(10, pollInterval.toMillis());
        this.thread = new Thread(this::run, "shardring-catalog-watcher");
        thread.setDaemon(true);
    }

    /** Starts watching; the router's topology source should be the same catalog. */
    public static CatalogWatcher start(DataSource catalogDs, TopologyFollower router, Duration pollInterval) {
        CatalogWatcher w = new CatalogWatcher(catalogDs, router, pollInterval);
        w.thread.start();
        return w;
    }

    /** This router's id in the catalog's registry. */
    public String routerId() {
        return id;
    }

    private void run() {
        boolean reachable = true;
        while (!closed) {
            try (Connection c = catalogDs.getConnection()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + Catalog.CHANNEL);
                }
                DataSource listening = SingleConnection.of(c);
                catalog = Catalog.attach(listening);
                registry = new RouterRegistry(listening);
                router.catalogReachable(true);
                if (!reachable) {
                    LOG.info("catalog reachable again; router at topology version {}", router.topology().version());
                    reachable = true;
                }
                check(true);
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] notes = pg.getNotifications((int) pollMillis);
                    boolean notified = notes != null && notes.length > 0;
                    if (notified) {
                        LOG.debug("catalog notified {}", notes[notes.length - 1].getParameter());
                    }
                    check(notified); // on a notification, and on every poll interval
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                router.catalogReachable(false);
                if (reachable) {
                    LOG.warn("catalog unreachable ({}); routing by topology version {} and retrying every {} ms",
                            e.getMessage(), router.topology().version(), pollMillis);
                    reachable = false;
                }
                sleep();
            }
        }
        try {
            new RouterRegistry(catalogDs).remove(id);
        } catch (RuntimeException e) {
            LOG.debug("could not remove router {} from the registry: {}", id, e.getMessage());
        }
    }

    /** Switches the router to a newer version if there is one, wakes waiting work if asked, and reports. */
    private void check(boolean wake) {
        long before = router.topology().version();
        if (catalog.version() > before) {
            router.apply(catalog.load());
            LOG.info("router moved from topology version {} to {}", before, router.topology().version());
            wake = true;
        }
        if (wake) {
            router.routingMayHaveChanged();
        }
        prepareMoveTargets();
        report();
    }

    /**
     * Pools for the nodes of the running move's final topology, opened before its cutovers need them. A move whose
     * pools could not all be opened (a password reference not yet resolvable, say) is tried again on the next poll.
     */
    private void prepareMoveTargets() {
        Catalog.RunningMove move;
        Map<String, String> failed;
        try {
            move = catalog.runningMove();
        } catch (SQLException e) {
            LOG.debug("cannot read running moves: {}", e.getMessage());
            return;
        } catch (RuntimeException e) {
            warnPrepare("the running move", "its target topology cannot be read: " + e.getMessage());
            return;
        }
        long running = move == null ? -1 : move.id();
        if (running == preparedFor) {
            return;
        }
        try {
            failed = router.prepareNodes(move == null ? List.of() : move.target().nodes().values());
        } catch (RuntimeException e) {
            warnPrepare("the nodes of move " + running, String.valueOf(e.getMessage()));
            return;
        }
        if (failed.isEmpty()) {
            preparedFor = running;
            prepareWarned.clear();
            return;
        }
        failed.forEach((node, why) -> warnPrepare("node " + node + " of move " + running, why));
    }

    private void warnPrepare(String what, String why) {
        if (prepareWarned.add(what + why)) {
            LOG.warn("cannot open a pool ahead for {}: {}; trying again every poll", what, why);
        }
    }

    private void report() {
        long version = router.topology().version();
        long now = System.nanoTime();
        if (registryMissing || (version == reportedVersion && now - reportedAt < REPORT_EVERY_NANOS)) {
            return;
        }
        try {
            registry.report(id, host, ProcessHandle.current().pid(), version);
            reportedVersion = version;
            reportedAt = now;
        } catch (RuntimeException e) {
            if (closed) {
                return; // the router is closing under us
            }
            // a catalog made before the registry existed: route on, unreported (a move's cleanup cannot wait for us)
            registryMissing = String.valueOf(e.getMessage()).contains("shardring.routers");
            LOG.warn("cannot report this router in the catalog: {}", e.getMessage());
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            String name = ManagementFactory.getRuntimeMXBean().getName(); // pid@host
            return name.substring(name.indexOf('@') + 1);
        }
    }

    private void sleep() {
        try {
            Thread.sleep(pollMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** Stops watching and removes this router from the catalog's registry. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
