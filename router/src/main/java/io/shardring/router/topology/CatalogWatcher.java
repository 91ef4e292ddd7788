package io.shardring.router.topology;

import io.shardring.router.jdbc.ShardedDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a router on the catalog's newest topology: it listens for the catalog's {@code NOTIFY} and also
 * polls the version every {@code pollInterval}, because a notification sent while the listener was
 * reconnecting is lost. Runs on one daemon thread with one catalog connection.
 */
public final class CatalogWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogWatcher.class);

    private final DataSource catalogDs;
    private final ShardedDataSource router;
    private final long pollMillis;
    private final Thread thread;
    private volatile boolean closed;

    private CatalogWatcher(DataSource catalogDs, ShardedDataSource router, Duration pollInterval) {
        this.catalogDs = catalogDs;
        this.router = router;
        this.pollMillis = Math.max(50, pollInterval.toMillis());
        this.thread = new Thread(this::run, "shardring-catalog-watcher");
        thread.setDaemon(true);
    }

    /** Starts watching; the router's topology source should be the same catalog. */
    public static CatalogWatcher start(DataSource catalogDs, ShardedDataSource router, Duration pollInterval) {
        CatalogWatcher w = new CatalogWatcher(catalogDs, router, pollInterval);
        w.thread.start();
        return w;
    }

    private void run() {
        while (!closed) {
            try (Connection c = catalogDs.getConnection()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + Catalog.CHANNEL);
                }
                refresh();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] notes = pg.getNotifications((int) pollMillis);
                    if (notes != null && notes.length > 0) {
                        LOG.debug("catalog notified version {}", notes[notes.length - 1].getParameter());
                    }
                    refresh(); // on a notification, and on every poll interval
                }
            } catch (SQLException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("catalog watcher: {}; retrying in {} ms", e.getMessage(), pollMillis);
                    sleep();
                }
            }
        }
    }

    private void refresh() {
        long before = router.topology().version();
        long now = router.refresh();
        if (now != before) {
            LOG.info("router moved from topology version {} to {}", before, now);
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

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
