package io.shardring.migration.adopt;

import io.shardring.migration.move.NodePools;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code adopt --execute} in a process of its own, for a test that kills it with SIGKILL: when the adoption reaches
 * the named step's start it prints {@code AT <step>} and waits there to be killed. Arguments: the configuration file,
 * the step.
 */
public final class AdoptProcess {
    private AdoptProcess() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        ShardringConfig config = ShardringYaml.load(Path.of(args[0]));
        Adopter.Listener listener = (step, event, detail) -> {
            if (step.equals(args[1]) && event.equals("started")) {
                out.println("AT " + step);
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
            config.topology().nodes().values().forEach(pools::add);
            AdoptionPlan plan = Adoption.inspect(config, null, pools, null);
            new Adopter(config, pools, listener).execute(plan, null);
            out.println("DONE");
        } catch (RuntimeException e) {
            out.println("FAILED " + e.getMessage());
            System.exit(1);
        }
    }

    static Process start(Path config, String step, Path log) throws java.io.IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(AdoptProcess.class.getName());
        cmd.add(config.toString());
        cmd.add(step);
        return new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    }
}
