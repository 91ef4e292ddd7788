package io.shardring.migration.move;

import io.shardring.router.topology.Catalog;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The mover in a process of its own, for tests that kill it with SIGKILL: it runs (or resumes) a recorded move and,
 * when the mover reaches the named point, prints {@code AT <point> rows=<n>} and waits there to be killed.
 *
 * <p>Arguments: catalog JDBC URL, user, move id, point ({@code phase/event/job}, with an optional
 * {@code /detail-suffix}), or {@code none} to run to the end.
 */
public final class MoverProcess {
    private MoverProcess() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(args[0]);
        ds.setUser(args[1]);
        String password = System.getenv("SHARDRING_TEST_CATALOG_PASSWORD");
        if (password != null) {
            ds.setPassword(password);
        }
        long moveId = Long.parseLong(args[2]);
        String[] point = args[3].split("/", 4);
        MoveListener listener = (m, job, phase, event, detail, rows, lag) -> {
            if (point.length >= 3 && phase.equals(point[0]) && event.equals(point[1])
                    && job == Integer.parseInt(point[2])
                    && (point.length < 4 || (detail != null && detail.endsWith(point[3])))) {
                out.println("AT " + args[3] + " rows=" + rows);
                while (true) {
                    try {
                        Thread.sleep(60_000); // until SIGKILL
                    } catch (InterruptedException ignored) {
                        // nothing interrupts this process but its end
                    }
                }
            }
        };
        try (NodePools pools = new NodePools(System::getenv)) {
            Catalog catalog = Catalog.attach(ds); // made by the test already; a CLI would open (migrate) it
            new Mover(catalog, pools, new Mover.Options().appLocations(MoveFixture.LOCATION).deleteBatch(50),
                    listener).run(moveId);
            out.println("DONE");
        } catch (RuntimeException e) {
            out.println("FAILED " + e.getMessage());
            System.exit(1);
        }
    }

    /** Starts the child JVM on this JVM's class path; its log goes to {@code log}. */
    static Process start(MoveFixture f, long moveId, String point, Path log) throws java.io.IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1"); // a short-lived process: start fast rather than peak
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MoverProcess.class.getName());
        cmd.add(f.cluster.shard(0).jdbcUrl());
        cmd.add(f.cluster.shard(0).user());
        cmd.add(String.valueOf(moveId));
        cmd.add(point);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        String password = f.cluster.shard(0).password();
        if (password != null && !password.isEmpty()) {
            pb.environment().put("SHARDRING_TEST_CATALOG_PASSWORD", password); // not on the command line
        }
        return pb.start();
    }
}
