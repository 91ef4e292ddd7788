package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The one validation pass: a {@link ConfigFile} as given becomes a {@link ShardringConfig} through the builders of
 * {@link Topology}, {@link NodeConfig}, {@link PoolSettings}, {@link RingSettings} and {@link RouterSettings}, where the
 * rules live. This class puts the field's name and, for a file, its line into their messages, as the
 * {@link ConfigOrigin} names them. Every error is a {@link ConfigurationException}.
 */
public final class ConfigValidation {
    private final ConfigOrigin origin;

    private ConfigValidation(ConfigOrigin origin) {
        this.origin = origin;
    }

    /**
     * The configuration that {@code file} describes.
     *
     * @throws ConfigurationException naming the origin, the field and, for a file, its line
     */
    public static ShardringConfig validate(ConfigFile file, ConfigOrigin origin) {
        return new ConfigValidation(origin).config(file);
    }

    // ------------------------------------------------------------------------------------------------ messages

    private ConfigurationException error(String path, String message) {
        return new ConfigurationException(origin.source() + ": " + located(path, message) + lineOf(path));
    }

    /** A message about the field at {@code path}, with the line of {@code at}'s value. */
    private ConfigurationException error(String path, String at, String message, Throwable cause) {
        return new ConfigurationException(origin.source() + ": " + located(path, message) + lineOf(at), cause);
    }

    /** Runs a builder call; its ConfigurationException gets the origin, the field's name and the line of {@code at}. */
    private <T> T call(String path, String at, Supplier<T> call) {
        try {
            return call.get();
        } catch (ConfigurationException e) {
            throw error(path, at, e.getMessage(), e);
        }
    }

    private <T> T call(String path, Supplier<T> call) {
        return call(path, path, call);
    }

    private void run(String path, Runnable call) {
        call(path, () -> {
            call.run();
            return null;
        });
    }

    /**
     * The message with the field's name in front; when it already starts with the path's tail ({@code
     * pool.maximumPoolSize 0 is below 1}) the tail becomes the whole name rather than being repeated.
     */
    private String located(String path, String message) {
        if (path.isEmpty()) {
            return message;
        }
        int dot = -1;
        do {
            String tail = path.substring(dot + 1);
            if (message.startsWith(tail + " ")) {
                return origin.name(path) + message.substring(tail.length());
            }
            if (message.startsWith(tail + ".")) {
                // the message names a field inside this one: "pool.minimumIdle 5 exceeds ..." at nodes[0].pool
                int end = tail.length();
                while (end < message.length() && (Character.isLetterOrDigit(message.charAt(end))
                        || ".[]".indexOf(message.charAt(end)) >= 0)) {
                    end++;
                }
                return origin.name(path.substring(0, dot + 1) + message.substring(0, end)) + message.substring(end);
            }
            dot = path.indexOf('.', dot + 1);
        } while (dot >= 0);
        return origin.name(path) + ": " + message;
    }

    private String lineOf(String path) {
        int line = path == null || path.isEmpty() ? 0 : origin.line(path);
        return line <= 0 ? "" : " (line " + line + ")";
    }

    // ------------------------------------------------------------------------------------------------ structure

    private ShardringConfig config(ConfigFile file) {
        Topology.Builder topology = Topology.builder();
        if (file.version() != null) {
            run("version", () -> topology.version(file.version()));
        }
        if (file.ring() == null) {
            throw error("ring", "ring is missing; add 'ring:' with at least 'keyType:' (bigint, integer, text or"
                    + " uuid)");
        }
        topology.ring(ring(file.ring()));
        List<ConfigFile.Table> tables = file.tables() == null ? List.of() : file.tables();
        for (int i = 0; i < tables.size(); i++) {
            table("tables[" + i + "]", tables.get(i), topology);
        }
        RouterSettings router = file.router() == null ? RouterSettings.DEFAULTS : router(file.router());
        if (file.nodes() == null) {
            throw error("nodes", "nodes is missing; list the shards under 'nodes:', each with at least id, jdbcUrl"
                    + " and user");
        }
        if (file.nodes().isEmpty()) {
            throw error("nodes", "the list is empty; add at least one node with id, jdbcUrl and user");
        }
        for (int i = 0; i < file.nodes().size(); i++) {
            String path = "nodes[" + i + "]";
            NodeConfig node = node(path, file.nodes().get(i));
            run(path + ".id", () -> topology.node(node));
        }
        Topology built;
        try {
            built = topology.build();
        } catch (ConfigurationException e) {
            String m = e.getMessage();
            if (m.startsWith("ring.replicationFactor")) {
                throw error("ring.replicationFactor", "ring.replicationFactor", m, e);
            }
            throw error("nodes", "nodes", m, e);
        }
        String catalogNode = file.catalog() == null ? null : file.catalog().node();
        if (catalogNode != null && !built.nodes().containsKey(catalogNode)) {
            throw error("catalog.node", "'" + catalogNode + "' is not one of the nodes " + built.nodes().keySet()
                    + "; name the node whose database holds the catalog");
        }
        List<String> locations = new ArrayList<>();
        List<String> given = file.schema() == null || file.schema().locations() == null ? List.of()
                : file.schema().locations();
        for (int i = 0; i < given.size(); i++) {
            if (given.get(i) == null || given.get(i).isBlank()) {
                throw error("schema.locations[" + i + "]", "expected a Flyway location such as"
                        + " classpath:db/migration or filesystem:/path, got nothing");
            }
            locations.add(given.get(i));
        }
        built = pinsAndReference(file, built, catalogNode);
        return new ShardringConfig(built, router, catalogNode, locations);
    }

    /** The {@code reference:} and {@code pins:} sections, which name nodes and so come after them. */
    private Topology pinsAndReference(ConfigFile file, Topology built, String catalogNode) {
        List<ConfigFile.Pin> pins = file.pins();
        ConfigFile.Reference reference = file.reference();
        if (pins == null && reference == null) {
            return built;
        }
        Topology.Builder b = built.toBuilder();
        if (reference != null) {
            String node = reference.node();
            if (node != null && !built.nodes().containsKey(node)) {
                throw error("reference.node", "'" + node + "' is not one of the nodes " + built.nodes().keySet()
                        + "; name the node that holds the reference tables' writable copy (the catalog's node when"
                        + " left out)");
            }
            b.referenceNode(node != null ? node : catalogNode);
            if (reference.tables() == null) {
                throw error("reference", "tables is missing; list the reference tables as 'schema.table' under"
                        + " reference.tables");
            }
            for (int i = 0; i < reference.tables().size(); i++) {
                String path = "reference.tables[" + i + "]";
                String name = reference.tables().get(i);
                if (name == null) {
                    throw error(path, "expected a table name such as public.plans, got nothing");
                }
                ReferenceTable t = call(path, () -> ReferenceTable.of(name));
                run(path, () -> b.referenceTable(t));
            }
        }
        for (int i = 0; pins != null && i < pins.size(); i++) {
            String path = "pins[" + i + "]";
            ConfigFile.Pin pin = pins.get(i);
            KeyType keyType = built.ringSettings().keyType();
            if (pin == null || pin.key() == null) {
                throw error(path, "key is missing; give the pinned shard key as a " + keyType.sqlType() + " value");
            }
            Object key;
            try {
                key = keyType.parseKey(pin.key().toString());
            } catch (InvalidKeyException e) {
                throw error(path + ".key", path + ".key", e.getMessage(), e);
            }
            String node = pin.node();
            if (node == null || !built.nodes().containsKey(node)) {
                throw error(node == null ? path : path + ".node", (node == null ? "node is missing"
                        : "'" + node + "' is not one of the nodes") + "; pin the key to one of "
                        + built.nodes().keySet());
            }
            b.pin(key, node);
        }
        return call(pins != null ? "pins" : "reference", b::build);
    }

    private RingSettings ring(ConfigFile.Ring ring) {
        KeyType keyType = ring.keyType() == null ? null : call("ring.keyType", () -> KeyType.parse(ring.keyType()));
        TokenPlacement placement = ring.placement() == null ? TokenPlacement.ALLOCATED
                : call("ring.placement", () -> TokenPlacement.parse(ring.placement()));
        int mp = ring.maxPins() == null ? RingSettings.DEFAULT_MAX_PINS : ring.maxPins();
        int v = ring.vnodes() == null ? HashRing.DEFAULT_VNODES : ring.vnodes();
        int r = ring.replicationFactor() == null ? 1 : ring.replicationFactor();
        // RingSettings names the field in its message ("ring.vnodes 0 is invalid"); point at its line
        String at = keyType == null ? "ring" : ring.vnodes() != null && (v < 1 || v > 65536) ? "ring.vnodes"
                : ring.replicationFactor() != null && r < 1 ? "ring.replicationFactor" : mp < 0 ? "ring.maxPins"
                : "ring";
        return call("ring", at, () -> new RingSettings(keyType, v, placement, r, mp));
    }

    private void table(String path, ConfigFile.Table t, Topology.Builder topology) {
        if (t == null || t.name() == null) {
            throw error(path, "name is missing; give the table as 'table' or 'schema.table'");
        }
        if (t.keyColumn() == null) {
            throw error(path, "keyColumn is missing; name the shard-key column of " + t.name());
        }
        ShardedTable table = call(path, () -> ShardedTable.of(t.name(), t.keyColumn()));
        run(path + ".name", () -> topology.table(table));
    }

    private RouterSettings router(ConfigFile.Router r) {
        RouterSettings d = RouterSettings.DEFAULTS;
        Integer threads = r.fanOutThreads();
        Duration cutoverWait = r.cutoverWait();
        Duration catalogPoll = r.catalogPoll();
        String at = threads != null && threads < 1 ? "router.fanOutThreads"
                : cutoverWait != null && (cutoverWait.isZero() || cutoverWait.isNegative()) ? "router.cutoverWait"
                : catalogPoll != null && catalogPoll.toMillis() < 10 ? "router.catalogPoll" : "router";
        RouterSettings timing = call("router", at, () -> new RouterSettings(
                r.downBackoff() == null ? d.downBackoff() : r.downBackoff(),
                r.drainTimeout() == null ? d.drainTimeout() : r.drainTimeout(),
                threads == null ? d.fanOutThreads() : threads,
                cutoverWait == null ? d.cutoverWait() : cutoverWait,
                catalogPoll == null ? d.catalogPoll() : catalogPoll));
        RouterSettings placed = call("router.replicaInterval", () -> timing.withZone(r.zone())
                .withReplicaInterval(r.replicaInterval() == null ? d.replicaInterval() : r.replicaInterval()));
        if (r.user() != null && r.user().isBlank()) {
            throw error("router.user", "router.user is blank; name the role the application connects as, or leave it"
                    + " out to connect as each node's user");
        }
        if (r.password() == null || r.password().isEmpty()) {
            return call("router", () -> placed.withCredentials(r.user(), null));
        }
        if (r.user() == null) {
            throw error("router.password", "router.password needs router.user: name the role the password belongs to");
        }
        Secret password = call("router.password", () -> origin.password("router.password", r.password()));
        return call("router", () -> placed.withCredentials(r.user(), password));
    }

    private NodeConfig node(String path, ConfigFile.Node n) {
        if (n == null) {
            throw error(path, "expected a mapping with fields " + String.join(", ",
                    ConfigReader.fields(ConfigFile.Node.class)) + ", got nothing");
        }
        if (n.id() == null) {
            throw error(path, "id is missing; give each node a unique id such as pg-a");
        }
        NodeConfig.Builder b = call(path + ".id", () -> NodeConfig.builder(n.id()));
        if (n.jdbcUrl() != null) {
            run(path + ".jdbcUrl", () -> b.jdbcUrl(n.jdbcUrl()));
        }
        if (n.user() != null) {
            run(path + ".user", () -> b.user(n.user()));
        }
        if (n.password() != null && !n.password().isEmpty()) {
            Secret secret = call(path + ".password", () -> origin.password(path + ".password", n.password()));
            run(path + ".password", () -> b.password(secret));
        }
        if (n.weight() != null) {
            run(path + ".weight", () -> b.weight(n.weight()));
        }
        if (n.zone() != null && !n.zone().isEmpty()) {
            run(path + ".zone", () -> b.zone(n.zone()));
        }
        if (n.pool() != null) {
            PoolSettings pool = pool(path + ".pool", n.pool());
            run(path + ".pool", () -> b.pool(pool));
        }
        List<String> standbys = n.standbys() == null ? List.of() : n.standbys();
        for (int i = 0; i < standbys.size(); i++) {
            String s = standbys.get(i);
            String sp = path + ".standbys[" + i + "]";
            if (s == null) {
                throw error(sp, "expected a JDBC URL string, got nothing");
            }
            run(sp, () -> b.standby(s));
        }
        if (n.epoch() != null) {
            run(path + ".epoch", () -> b.epoch(n.epoch()));
        }
        if (n.tokens() != null) {
            long[] values = new long[n.tokens().size()];
            for (int i = 0; i < values.length; i++) {
                if (n.tokens().get(i) == null) {
                    throw error(path + ".tokens[" + i + "]", "expected a whole number, got nothing");
                }
                values[i] = n.tokens().get(i);
            }
            run(path + ".tokens", () -> b.tokens(values));
        }
        return call(path, b::build);
    }

    private PoolSettings pool(String path, ConfigFile.Pool p) {
        PoolSettings.Builder b = PoolSettings.builder();
        if (p.maximumPoolSize() != null) {
            run(path + ".maximumPoolSize", () -> b.maximumPoolSize(p.maximumPoolSize()));
        }
        if (p.minimumIdle() != null) {
            run(path + ".minimumIdle", () -> b.minimumIdle(p.minimumIdle()));
        }
        if (p.connectionTimeout() != null) {
            run(path + ".connectionTimeout", () -> b.connectionTimeout(p.connectionTimeout()));
        }
        if (p.idleTimeout() != null) {
            run(path + ".idleTimeout", () -> b.idleTimeout(p.idleTimeout()));
        }
        if (p.maxLifetime() != null) {
            run(path + ".maxLifetime", () -> b.maxLifetime(p.maxLifetime()));
        }
        if (p.validationTimeout() != null) {
            run(path + ".validationTimeout", () -> b.validationTimeout(p.validationTimeout()));
        }
        return call(path, p.minimumIdle() != null ? path + ".minimumIdle" : path, b::build);
    }
}
