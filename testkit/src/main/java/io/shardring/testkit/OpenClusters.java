package io.shardring.testkit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Clusters not yet closed, so that one JVM shutdown hook can stop their servers and delete their directories when
 * a test forgets {@code close()} or the JVM exits early (e.g. Ctrl-C). One hook for all clusters, registered lazily,
 * instead of one per server, so long test runs do not pile up hooks holding dead clusters.
 */
final class OpenClusters {

    private static final Set<PgCluster> OPEN = new LinkedHashSet<>();
    private static boolean hookRegistered;

    private OpenClusters() {
    }

    static synchronized void add(PgCluster cluster) {
        if (!hookRegistered) {
            Runtime.getRuntime().addShutdownHook(new Thread(OpenClusters::closeAll, "shardring-testkit-shutdown"));
            hookRegistered = true;
        }
        OPEN.add(cluster);
    }

    static synchronized void remove(PgCluster cluster) {
        OPEN.remove(cluster);
    }

    private static void closeAll() {
        List<PgCluster> open;
        synchronized (OpenClusters.class) {
            open = new ArrayList<>(OPEN);
        }
        for (PgCluster cluster : open) { // close() calls remove(); iterate over a copy
            try {
                cluster.close();
            } catch (RuntimeException e) {
                System.err.println("shardring testkit: could not close " + cluster + " at JVM exit: " + e);
            }
        }
    }
}
