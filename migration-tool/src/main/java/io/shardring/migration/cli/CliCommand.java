package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.move.MoveListener;
import io.shardring.migration.move.Mover;
import io.shardring.migration.move.NodePools;
import io.shardring.router.ConfigurationException;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import io.shardring.router.topology.Topology;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command: loads the configuration, opens pools and the catalog on demand, closes them at the end, and
 * turns exceptions into one line on stderr and an exit code.
 */
abstract class CliCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    private ShardringConfig config;
    private NodePools pools;
    private NodePools storePools;
    private Catalog catalog;

    /** Does the work; returns the exit code. */
    abstract int execute() throws Exception;

    @Override
    public final Integer call() {
        try {
            return execute();
        } catch (Exception | LinkageError e) {
            out().flush();
            String m = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getName() : e.getMessage();
            err().println("shardring: " + m.strip());
            if (common.verbose) {
                e.printStackTrace(err());
            }
            err().flush();
            return ShardringCli.exitCode(e);
        } finally {
            if (pools != null) {
                pools.close();
            }
            if (storePools != null) {
                storePools.close();
            }
            out().flush();
        }
    }

    // ---- output

    ShardringCli root() {
        return (ShardringCli) spec.root().userObject();
    }

    Function<String, String> env() {
        return root().env();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    boolean terminal() {
        return System.console() != null;
    }

    boolean json() {
        return common.output == null ? !terminal() : common.output == CommonOptions.Output.json;
    }

    static ObjectNode object(String type) {
        return JsonNodeFactory.instance.objectNode().put("type", type);
    }

    /** Writes one JSON object on one line. */
    void emit(ObjectNode o) {
        try {
            out().println(JSON.writeValueAsString(o));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }

    /** A line of text (text output only). */
    void say(String line) {
        out().println(line);
        out().flush();
    }

    // ---- context

    Path configPath() {
        if (common.config != null) {
            return common.config;
        }
        String fromEnv = env().apply("SHARDRING_CONFIG");
        return Path.of(fromEnv == null || fromEnv.isBlank() ? "shardring.yaml" : fromEnv);
    }

    ShardringConfig config() {
        if (config == null) {
            config = ShardringYaml.load(configPath());
        }
        return config;
    }

    NodePools pools() {
        if (pools == null) {
            pools = new NodePools(env());
            config().topology().nodes().values().forEach(pools::add);
        }
        return pools;
    }

    /** Pools to the nodes' secondary stores (ring.replicationFactor >= 2), by node id. */
    NodePools storePools() {
        if (storePools == null) {
            storePools = new NodePools(env());
        }
        return storePools;
    }

    String catalogNode() {
        return config().catalogNode();
    }

    Catalog catalog() {
        if (catalog == null) {
            catalog = Catalog.open(pools().apply(catalogNode()));
        }
        return catalog;
    }

    /** The catalog's newest topology; its nodes become known to the pools. */
    Topology current() {
        if (catalog().version() == 0) {
            throw new ConfigurationException("the catalog on node '" + catalogNode() + "' holds no topology; run"
                    + " `shardring init`, or set catalog.node in " + configPath() + " to the node that holds it");
        }
        Topology t = catalog().load();
        t.nodes().values().forEach(pools()::add);
        return t;
    }

    Mover mover(MoveListener listener) {
        return mover(listener, null);
    }

    /** A mover with the command's move options, when it has them. */
    Mover mover(MoveListener listener, MoveOptions moves) {
        CliObserver observer = root().observer();
        MoveListener both = observer == CliObserver.NONE ? listener : (m, j, p, e, d, r, l) -> {
            listener.on(m, j, p, e, d, r, l);
            observer.moveEvent(m, j, p, e, d, r, l);
        };
        Mover.Options options = new Mover.Options().appLocations(config().schemaLocations().toArray(new String[0]));
        return new Mover(catalog(), pools(), moves == null ? options : moves.apply(options), both);
    }

    Optional<Mover.RunningMove> running() {
        return mover(MoveListener.NONE).running();
    }

    /** Refuses while a move runs, naming it. */
    void refuseWhileRunning(String what) {
        Optional<Mover.RunningMove> r = running();
        if (r.isPresent()) {
            throw new Refused("move " + r.get().id + " (" + r.get().change + ") is still running; " + what
                    + " waits until it is done: run `shardring resume` to finish it or `shardring abort` to cancel it");
        }
    }

    /** A node for output: id, zone, weight, masked URL, user, password reference; never a password. */
    static ObjectNode nodeJson(NodeConfig n) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", n.id());
        o.put("zone", n.zone());
        o.put("weight", n.weight());
        o.put("jdbcUrl", NodeConfig.maskUrl(n.jdbcUrl()));
        o.put("user", n.user());
        o.put("passwordRef", n.password() == null ? null : n.password().toString());
        if (n.epoch() != 0) {
            o.put("epoch", n.epoch());
        }
        return o;
    }
}
