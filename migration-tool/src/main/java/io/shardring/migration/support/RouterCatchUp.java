package io.shardring.migration.support;

import io.shardring.router.topology.RouterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Waits for the routers that follow the catalog to acknowledge a topology version, as its router registry tells:
 * every router heard from within the grace period counts; one silent for longer (stopped, crashed, cut off) does not,
 * and with no router registered there is nothing to wait for.
 */
public final class RouterCatchUp {
    private RouterCatchUp() {
    }

    /** Told whom the wait waits for. */
    @FunctionalInterface
    public interface Listener {
        void behind(List<RouterRegistry.Entry> routers) throws SQLException;
    }

    /**
     * Returns the routers still behind {@code version} when {@code bound} ran out, or an empty list once none is.
     *
     * @param whileBehind told the routers behind after every ask that finds some
     */
    public static List<RouterRegistry.Entry> await(RouterRegistry registry, long version, Duration grace,
            Duration bound, Listener whileBehind) throws SQLException {
        AtomicReference<List<RouterRegistry.Entry>> last = new AtomicReference<>(List.of());
        List<RouterRegistry.Entry> caughtUp = Poll.until(bound, Duration.ofMillis(10), Duration.ofMillis(100), () -> {
            List<RouterRegistry.Entry> behind = registry.behind(version, grace);
            if (behind.isEmpty()) {
                return behind;
            }
            last.set(behind);
            whileBehind.behind(behind);
            return null;
        });
        return caughtUp != null ? caughtUp : last.get();
    }

    /** The routers as a message names them: host, pid, version and when each was last heard from. */
    public static String describe(List<RouterRegistry.Entry> routers) {
        return String.join("; ", routers.stream().map(Object::toString).toList());
    }
}
