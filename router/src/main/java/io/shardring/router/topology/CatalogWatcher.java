package io.shardring.router.topology;

import io.shardring.router.jdbc.ShardedDataSource;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
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
    private final ShardedDataSource router;
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

    private CatalogWatcher(DataSource catalogDs, ShardedDataSource router, Duration pollInterval) {
        this.catalogDs = catalogDs;
        this.router = router;
        this.pollMillis = Math.max(10, pollInterval.toMillis());
        this.thread = new Thread(this::run, "shardring-catalog-watcher");
        thread.setDaemon(true);
    }

    /** Starts watching; the router's topology source should be the same catalog. */
    public static CatalogWatcher start(DataSource catalogDs, ShardedDataSource router, Duration pollInterval) {
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

    /** Pools for the nodes of the running move's final topology, opened before its cutovers need them. */
    private void prepareMoveTargets() {
        long running = -1;
        String document = null;
        try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT id, target_document FROM shardring.moves"
                        + " WHERE state = 'running'")) {
            if (rs.next()) {
                running = rs.getLong(1);
                document = rs.getString(2);
            }
        } catch (SQLException e) {
            LOG.debug("cannot read running moves: {}", e.getMessage());
            return;
        }
        if (running == preparedFor) {
            return;
        }
        preparedFor = running;
        try {
            router.prepareNodes(document == null ? java.util.List.of()
                    : ShardringYaml.parse(document, "move " + running).topology().nodes().values());
        } catch (RuntimeException e) {
            LOG.debug("cannot prepare pools for move {}: {}", running, e.getMessage());
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
