package io.shardring.router.topology;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.shardring.router.ConfigurationException;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ring.HashRing;
import io.shardring.router.ring.Pin;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads and writes the shardring YAML configuration: the topology (ring settings, sharded tables, nodes and
 * their stored tokens) and the router's settings. See {@code docs/configuration.md} for every field.
 *
 * <pre>{@code
 * ShardringConfig config = ShardringYaml.load(Path.of("/etc/shardring/shardring.yaml"));
 * Topology topology = config.topology();
 * }</pre>
 *
 * <p>Values go through the builders of {@link Topology}, {@link NodeConfig}, {@link PoolSettings},
 * {@link RingSettings} and {@link RouterSettings}, so validation lives there; this class adds the file name,
 * the field path ({@code nodes[1].weight}) and the line to their messages. It is strict: unknown fields,
 * values of the wrong type, duplicate keys, YAML aliases and more than one document are errors, and a
 * password must be a reference ({@code ${ENV_VAR}} or {@code file:/path}), never the password itself.
 * Messages never contain a password. Every error is a {@link ConfigurationException}.
 */
public final class ShardringYaml {

    static final List<String> TOP_FIELDS =
            List.of("version", "ring", "tables", "reference", "pins", "router", "nodes", "catalog", "schema");
    static final List<String> REFERENCE_FIELDS = List.of("node", "tables");
    static final List<String> PIN_FIELDS = List.of("key", "node");
    static final List<String> CATALOG_FIELDS = List.of("node");
    static final List<String> SCHEMA_FIELDS = List.of("locations");
    static final List<String> RING_FIELDS = List.of("keyType", "vnodes", "placement", "replicationFactor", "maxPins");
    static final List<String> TABLE_FIELDS = List.of("name", "keyColumn");
    static final List<String> ROUTER_FIELDS = List.of("downBackoff", "drainTimeout", "fanOutThreads", "cutoverWait",
            "catalogPoll", "zone", "replicaInterval", "user", "password");
    static final List<String> NODE_FIELDS =
            List.of("id", "jdbcUrl", "user", "password", "weight", "zone", "pool", "standbys", "tokens");
    static final List<String> POOL_FIELDS = List.of("maximumPoolSize", "minimumIdle", "connectionTimeout",
            "idleTimeout", "maxLifetime", "validationTimeout");

    private static final Pattern LEADING_ZERO = Pattern.compile("[-+]?0[0-9_]+");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,18})(ms|s|m|h|d)");
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*}");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z][A-Za-z0-9_./:@?&=%+-]*");
    private static final List<String> RESERVED_PLAIN =
            List.of("true", "false", "null", "yes", "no", "on", "off", "y", "n");
    private static final int TOKENS_PER_LINE = 4;
    private static final String DEFAULT_SOURCE = "configuration";

    private static final YAMLFactory YAML = newFactory();

    private ShardringYaml() {
    }

    private static YAMLFactory newFactory() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(Integer.MAX_VALUE); // stored tokens of a large ring exceed SnakeYAML's 3 MB default
        options.setAllowDuplicateKeys(true);          // detected here, with the field path
        return YAMLFactory.builder().loaderOptions(options)
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL) // "zone:" with nothing after it means no zone
                .build();
    }

    // ------------------------------------------------------------------------------------------------ load

    /**
     * Reads a configuration file (UTF-8).
     *
     * @throws ConfigurationException naming the file, and for a bad value the field path and line
     */
    public static ShardringConfig load(Path file) {
        if (file == null) {
            throw new ConfigurationException("configuration file path is null");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("configuration file " + file + " does not exist", e);
        } catch (CharacterCodingException e) {
            throw new ConfigurationException("configuration file " + file + " is not valid UTF-8", e);
        } catch (IOException | RuntimeException e) {
            throw new ConfigurationException("cannot read configuration file " + file + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses configuration text.
     *
     * @param yaml       the YAML text
     * @param sourceName what to call the text in messages, usually the file name; null means "configuration"
     * @throws ConfigurationException naming the source, and for a bad value the field path and line
     */
    public static ShardringConfig parse(String yaml, String sourceName) {
        Reader r = new Reader(sourceName == null || sourceName.isBlank() ? DEFAULT_SOURCE : sourceName);
        if (yaml == null) {
            throw new ConfigurationException(r.source + ": the configuration text is null");
        }
        return r.config(readTree(yaml, r));
    }

    // ------------------------------------------------------------------------------------------------ tree

    private enum Kind { MAP, LIST, STRING, INT, FLOAT, BOOLEAN, NULL }

    /**
     * A YAML value with where it starts. MAP holds {@code Map<String, Y>}, LIST {@code List<Y>}; scalars keep
     * their text as written, for messages.
     */
    private record Y(Kind kind, Object value, String text, int line) {
        @SuppressWarnings("unchecked")
        Map<String, Y> map() {
            return (Map<String, Y>) value;
        }

        @SuppressWarnings("unchecked")
        List<Y> list() {
            return (List<Y>) value;
        }
    }

    private static Y readTree(String yaml, Reader r) {
        try (JsonParser p = YAML.createParser(yaml)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw r.error("the file is empty; it needs at least ring.keyType and nodes (see docs/configuration.md)");
            }
            Y root = readValue(p, first, "", r);
            JsonToken next = p.nextToken();
            if (next != null) {
                throw r.error("line " + line(p) + ": a second YAML document starts here; keep the whole configuration"
                        + " in one document (remove the second '---')");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw malformed(e, r);
        } catch (IOException e) {
            throw new ConfigurationException(r.source + ": cannot read the YAML (" + e.getClass().getSimpleName() + ")",
                    e);
        }
    }

    private static Y readValue(JsonParser p, JsonToken t, String path, Reader r) throws IOException {
        int line = line(p);
        switch (t) {
            case START_OBJECT: {
                Map<String, Y> map = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    String childPath = path.isEmpty() ? name : path + "." + name;
                    if (map.containsKey(name)) {
                        throw r.error(childPath + " is given twice (line " + map.get(name).line() + " and line "
                                + line(p) + "); keep one");
                    }
                    map.put(name, readValue(p, p.nextToken(), childPath, r));
                }
                return new Y(Kind.MAP, map, null, line);
            }
            case START_ARRAY: {
                List<Y> list = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    list.add(readValue(p, e, path + "[" + list.size() + "]", r));
                }
                return new Y(Kind.LIST, list, null, line);
            }
            case VALUE_STRING:
                if (p instanceof YAMLParser && ((YAMLParser) p).isCurrentAlias()) {
                    throw r.error(path + ": YAML aliases (*name) are not supported; write the value out (line "
                            + line + ")");
                }
                return new Y(Kind.STRING, p.getText(), p.getText(), line);
            case VALUE_NUMBER_INT:
                Number n;
                try {
                    n = p.getNumberValue();
                } catch (JsonProcessingException | NumberFormatException e) {
                    throw r.error(path + ": " + shown(path, p.getText()) + " is not a valid integer (line " + line + ")");
                }
                if (LEADING_ZERO.matcher(p.getText()).matches()) {
                    throw r.error(path + ": " + shown(path, p.getText()) + " has a leading zero, which YAML reads as"
                            + " an octal number; remove the leading zero (line " + line + ")");
                }
                return new Y(Kind.INT, n, p.getText(), line);
            case VALUE_NUMBER_FLOAT:
                try {
                    return new Y(Kind.FLOAT, p.getDoubleValue(), p.getText(), line);
                } catch (JsonProcessingException | NumberFormatException e) {
                    Double special = yamlSpecialFloat(p.getText());
                    if (special == null) {
                        throw r.error(path + ": " + shown(path, p.getText()) + " is not a valid number (line " + line
                                + ")");
                    }
                    return new Y(Kind.FLOAT, special, p.getText(), line);
                }
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new Y(Kind.BOOLEAN, t == JsonToken.VALUE_TRUE, p.getText(), line);
            case VALUE_NULL:
                return new Y(Kind.NULL, null, p.getText(), line);
            default:
                throw r.error(path + ": unsupported YAML value (" + t + ") at line " + line);
        }
    }

    /** YAML's {@code .nan}, {@code .inf}, {@code -.inf} in their allowed spellings, else null. */
    private static Double yamlSpecialFloat(String text) {
        if (text == null) {
            return null;
        }
        switch (text.trim()) {
            case ".nan": case ".NaN": case ".NAN":
                return Double.NaN;
            case ".inf": case ".Inf": case ".INF": case "+.inf": case "+.Inf": case "+.INF":
                return Double.POSITIVE_INFINITY;
            case "-.inf": case "-.Inf": case "-.INF":
                return Double.NEGATIVE_INFINITY;
            default:
                return null;
        }
    }

    private static int line(JsonParser p) {
        JsonLocation loc = p.currentTokenLocation();
        return loc == null ? 0 : loc.getLineNr();
    }

    /** A syntax error with its line and column, without the offending text (it could hold a password). */
    private static ConfigurationException malformed(JsonProcessingException e, Reader r) {
        String problem;
        int line;
        int column;
        if (e.getCause() instanceof MarkedYAMLException) {
            MarkedYAMLException m = (MarkedYAMLException) e.getCause();
            problem = m.getProblem() == null ? "syntax error" : m.getProblem();
            if (m.getContext() != null) {
                problem = problem + " (" + m.getContext() + ")";
            }
            line = m.getProblemMark() == null ? -1 : m.getProblemMark().getLine() + 1;
            column = m.getProblemMark() == null ? -1 : m.getProblemMark().getColumn() + 1;
        } else {
            problem = e.getOriginalMessage();
            JsonLocation loc = e.getLocation();
            line = loc == null ? -1 : loc.getLineNr();
            column = loc == null ? -1 : loc.getColumnNr();
        }
        String where = line > 0 ? "line " + line + (column > 0 ? ", column " + column : "") + ": " : "";
        return new ConfigurationException(r.source + ": " + where + "malformed YAML: " + problem, e);
    }

    // ------------------------------------------------------------------------------------------------ reader

    /** Turns the tree into a configuration through the builders, prefixing their messages. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        ConfigurationException error(String message) {
            return new ConfigurationException(source + ": " + message);
        }

        ConfigurationException error(String path, Y at, String message) {
            return new ConfigurationException(source + ": " + path + ": " + message + lineOf(at));
        }

        /** Runs a builder call; its ConfigurationException gets the source, the field path and the line. */
        <T> T call(String path, Y at, Supplier<T> call) {
            try {
                return call.get();
            } catch (ConfigurationException e) {
                throw new ConfigurationException(source + ": " + prefixed(path, e.getMessage()) + lineOf(at), e);
            }
        }

        void run(String path, Y at, Runnable call) {
            call(path, at, () -> {
                call.run();
                return null;
            });
        }

        /**
         * The builder message with the path in front; when the message already starts with the path's tail
         * ({@code pool.maximumPoolSize 0 is below 1}) the tail is completed rather than repeated.
         */
        private static String prefixed(String path, String message) {
            if (path.isEmpty()) {
                return message;
            }
            if (message.startsWith(path + " ") || message.startsWith(path + ".")) {
                return message;
            }
            for (int dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', dot + 1)) {
                String tail = path.substring(dot + 1);
                if (message.startsWith(tail + " ") || message.startsWith(tail + ".")) {
                    return path.substring(0, dot + 1) + message;
                }
            }
            return path + ": " + message;
        }

        private static String lineOf(Y at) {
            return at == null || at.line() <= 0 ? "" : " (line " + at.line() + ")";
        }

        // ---- structure

        ShardringConfig config(Y root) {
            if (root.kind() == Kind.NULL) {
                throw error("the file holds no settings; it needs at least ring.keyType and nodes"
                        + " (see docs/configuration.md)");
            }
            if (root.kind() != Kind.MAP) {
                throw error("expected a mapping of " + String.join(", ", TOP_FIELDS) + " at the top level, got "
                        + describe("", root) + lineOf(root));
            }
            Map<String, Y> top = fields("", root, TOP_FIELDS);

            Topology.Builder topology = Topology.builder();
            Long version = longValue(top, "version", "version");
            if (version != null) {
                run("version", top.get("version"), () -> topology.version(version));
            }

            Y ringY = present(top, "ring");
            if (ringY == null) {
                throw error("ring is missing; add 'ring:' with at least 'keyType:' (bigint, integer, text or uuid)");
            }
            RingSettings ring = ring(ringY);
            topology.ring(ring);

            Y tablesY = present(top, "tables");
            if (tablesY != null) {
                List<Y> tables = list("tables", tablesY);
                for (int i = 0; i < tables.size(); i++) {
                    table("tables[" + i + "]", tables.get(i), topology);
                }
            }

            RouterSettings router = RouterSettings.DEFAULTS;
            Y routerY = present(top, "router");
            if (routerY != null) {
                router = router(routerY);
            }

            Y nodesY = present(top, "nodes");
            if (nodesY == null) {
                throw error("nodes is missing; list the shards under 'nodes:', each with at least id, jdbcUrl and user");
            }
            List<Y> nodes = list("nodes", nodesY);
            if (nodes.isEmpty()) {
                throw error("nodes", nodesY, "the list is empty; add at least one node with id, jdbcUrl and user");
            }
            for (int i = 0; i < nodes.size(); i++) {
                String path = "nodes[" + i + "]";
                NodeConfig node = node(path, nodes.get(i));
                run(path + ".id", fields(path, nodes.get(i), NODE_FIELDS).get("id"), () -> topology.node(node));
            }

            Topology built;
            try {
                built = topology.build();
            } catch (ConfigurationException e) {
                String m = e.getMessage();
                if (m.startsWith("ring.replicationFactor")) {
                    Y at = ringY.map().get("replicationFactor");
                    throw new ConfigurationException(source + ": " + m + lineOf(at), e);
                }
                throw new ConfigurationException(source + ": " + prefixed("nodes", m) + lineOf(nodesY), e);
            }

            String catalogNode = null;
            Y catalogY = present(top, "catalog");
            if (catalogY != null) {
                Map<String, Y> f = fields("catalog", catalogY, CATALOG_FIELDS);
                catalogNode = string(f, "node", "catalog.node");
                if (catalogNode != null && !built.nodes().containsKey(catalogNode)) {
                    throw error("catalog.node", f.get("node"), "'" + catalogNode + "' is not one of the nodes "
                            + built.nodes().keySet() + "; name the node whose database holds the catalog");
                }
            }
            List<String> locations = List.of();
            Y schemaY = present(top, "schema");
            if (schemaY != null) {
                Map<String, Y> f = fields("schema", schemaY, SCHEMA_FIELDS);
                Y locationsY = present(f, "locations");
                if (locationsY != null) {
                    List<String> l = new ArrayList<>();
                    List<Y> items = list("schema.locations", locationsY);
                    for (int i = 0; i < items.size(); i++) {
                        Y item = items.get(i);
                        if (item.kind() != Kind.STRING || ((String) item.value()).isBlank()) {
                            throw error("schema.locations[" + i + "]", item, "expected a Flyway location such as"
                                    + " classpath:db/migration or filesystem:/path, got " + describe("", item));
                        }
                        l.add((String) item.value());
                    }
                    locations = l;
                }
            }
            built = pinsAndReference(top, built, catalogNode);
            return new ShardringConfig(built, router, catalogNode, locations);
        }

        /** The {@code reference:} and {@code pins:} sections, which name nodes and so come after them. */
        private Topology pinsAndReference(Map<String, Y> top, Topology built, String catalogNode) {
            Y pinsY = present(top, "pins");
            Y referenceY = present(top, "reference");
            if (pinsY == null && referenceY == null) {
                return built;
            }
            Topology.Builder b = built.toBuilder();
            if (referenceY != null) {
                Map<String, Y> f = fields("reference", referenceY, REFERENCE_FIELDS);
                String node = string(f, "node", "reference.node");
                if (node != null && !built.nodes().containsKey(node)) {
                    throw error("reference.node", f.get("node"), "'" + node + "' is not one of the nodes "
                            + built.nodes().keySet() + "; name the node that holds the reference tables' writable"
                            + " copy (the catalog's node when left out)");
                }
                b.referenceNode(node != null ? node : catalogNode);
                Y tablesY = present(f, "tables");
                if (tablesY == null) {
                    throw error("reference", referenceY, "tables is missing; list the reference tables as"
                            + " 'schema.table' under reference.tables");
                }
                List<Y> tables = list("reference.tables", tablesY);
                for (int i = 0; i < tables.size(); i++) {
                    Y item = tables.get(i);
                    String path = "reference.tables[" + i + "]";
                    if (item.kind() != Kind.STRING) {
                        throw error(path, item, "expected a table name such as public.plans, got "
                                + describe(path, item));
                    }
                    ReferenceTable t = call(path, item, () -> ReferenceTable.of((String) item.value()));
                    run(path, item, () -> b.referenceTable(t));
                }
            }
            if (pinsY != null) {
                List<Y> pins = list("pins", pinsY);
                for (int i = 0; i < pins.size(); i++) {
                    String path = "pins[" + i + "]";
                    Map<String, Y> f = fields(path, pins.get(i), PIN_FIELDS);
                    Y keyY = present(f, "key");
                    if (keyY == null || keyY.kind() == Kind.MAP || keyY.kind() == Kind.LIST) {
                        throw error(path, pins.get(i), "key is missing; give the pinned shard key as a "
                                + built.ringSettings().keyType().sqlType() + " value");
                    }
                    Object key;
                    try {
                        key = built.ringSettings().keyType().parseKey(keyY.text());
                    } catch (InvalidKeyException e) {
                        throw error(path + ".key", keyY, e.getMessage());
                    }
                    String node = string(f, "node", path + ".node");
                    if (node == null || !built.nodes().containsKey(node)) {
                        throw error(path + ".node", node == null ? pins.get(i) : f.get("node"), (node == null
                                ? "node is missing" : "'" + node + "' is not one of the nodes")
                                + "; pin the key to one of " + built.nodes().keySet());
                    }
                    b.pin(key, node);
                }
            }
            return call(pinsY != null ? "pins" : "reference", pinsY != null ? pinsY : referenceY, b::build);
        }

        private RingSettings ring(Y ringY) {
            Map<String, Y> f = fields("ring", ringY, RING_FIELDS);
            String keyTypeText = string(f, "keyType", "ring.keyType");
            KeyType keyType = keyTypeText == null ? null
                    : call("ring.keyType", f.get("keyType"), () -> KeyType.parse(keyTypeText));
            Integer vnodes = intValue(f, "vnodes", "ring.vnodes");
            String placementText = string(f, "placement", "ring.placement");
            TokenPlacement placement = placementText == null ? TokenPlacement.ALLOCATED
                    : call("ring.placement", f.get("placement"), () -> TokenPlacement.parse(placementText));
            Integer rf = intValue(f, "replicationFactor", "ring.replicationFactor");
            Integer maxPins = intValue(f, "maxPins", "ring.maxPins");
            int mp = maxPins == null ? RingSettings.DEFAULT_MAX_PINS : maxPins;
            int v = vnodes == null ? HashRing.DEFAULT_VNODES : vnodes;
            int r = rf == null ? 1 : rf;
            // RingSettings names the field in its message ("ring.vnodes 0 is invalid"); point at its line
            Y at = keyType == null ? ringY : vnodes != null && (v < 1 || v > 65536) ? f.get("vnodes")
                    : rf != null && r < 1 ? f.get("replicationFactor") : mp < 0 ? f.get("maxPins") : ringY;
            return call("ring", at, () -> new RingSettings(keyType, v, placement, r, mp));
        }

        private void table(String path, Y y, Topology.Builder topology) {
            Map<String, Y> f = fields(path, y, TABLE_FIELDS);
            String name = string(f, "name", path + ".name");
            if (name == null) {
                throw error(path, y, "name is missing; give the table as 'table' or 'schema.table'");
            }
            String keyColumn = string(f, "keyColumn", path + ".keyColumn");
            if (keyColumn == null) {
                throw error(path, y, "keyColumn is missing; name the shard-key column of " + name);
            }
            ShardedTable table = call(path, y, () -> ShardedTable.of(name, keyColumn));
            run(path + ".name", f.get("name"), () -> topology.table(table));
        }

        private RouterSettings router(Y y) {
            Map<String, Y> f = fields("router", y, ROUTER_FIELDS);
            RouterSettings d = RouterSettings.DEFAULTS;
            Duration downBackoff = duration(f, "downBackoff", "router.downBackoff");
            Duration drainTimeout = duration(f, "drainTimeout", "router.drainTimeout");
            Integer threads = intValue(f, "fanOutThreads", "router.fanOutThreads");
            Duration cutoverWait = duration(f, "cutoverWait", "router.cutoverWait");
            Duration catalogPoll = duration(f, "catalogPoll", "router.catalogPoll");
            String zone = f.containsKey("zone") ? string(f, "zone", "router.zone") : null;
            Duration replicaInterval = duration(f, "replicaInterval", "router.replicaInterval");
            Y at = threads != null && threads < 1 ? f.get("fanOutThreads")
                    : cutoverWait != null && (cutoverWait.isZero() || cutoverWait.isNegative()) ? f.get("cutoverWait")
                    : catalogPoll != null && catalogPoll.toMillis() < 10 ? f.get("catalogPoll") : y;
            return call("router", at, () -> new RouterSettings(downBackoff == null ? d.downBackoff() : downBackoff,
                    drainTimeout == null ? d.drainTimeout() : drainTimeout,
                    threads == null ? d.fanOutThreads() : threads, cutoverWait == null ? d.cutoverWait() : cutoverWait,
                    catalogPoll == null ? d.catalogPoll() : catalogPoll)).withZone(zone)
                    .withReplicaInterval(replicaInterval == null ? d.replicaInterval() : replicaInterval)
                    .withCredentials(routerUser(f), routerPassword(f));
        }

        private String routerUser(Map<String, Y> f) {
            String user = string(f, "user", "router.user");
            if (user != null && user.isBlank()) {
                throw error("router.user", f.get("user"), "router.user is blank; name the role the application"
                        + " connects as, or leave it out to connect as each node's user");
            }
            return user;
        }

        private Secret routerPassword(Map<String, Y> f) {
            String password = string(f, "password", "router.password");
            if (password == null) {
                return null;
            }
            if (!f.containsKey("user")) {
                throw error("router.password", f.get("password"), "router.password needs router.user: name the"
                        + " role the password belongs to");
            }
            Secret secret = call("router.password", f.get("password"), () -> Secret.of(password));
            if (secret != null && secret.isLiteral()) {
                throw error("router.password", f.get("password"), "a configuration file must not hold the password"
                        + " itself; write ${ENV_VAR} or file:/path (a file holding only the password)");
            }
            return secret;
        }

        private NodeConfig node(String path, Y y) {
            Map<String, Y> f = fields(path, y, NODE_FIELDS);
            String id = string(f, "id", path + ".id");
            if (id == null) {
                throw error(path, y, "id is missing; give each node a unique id such as pg-a");
            }
            NodeConfig.Builder b = call(path + ".id", f.get("id"), () -> NodeConfig.builder(id));

            String url = string(f, "jdbcUrl", path + ".jdbcUrl");
            if (url != null) {
                run(path + ".jdbcUrl", f.get("jdbcUrl"), () -> b.jdbcUrl(url));
            }
            String user = string(f, "user", path + ".user");
            if (user != null) {
                run(path + ".user", f.get("user"), () -> b.user(user));
            }
            String password = string(f, "password", path + ".password");
            if (password != null) {
                Secret secret = call(path + ".password", f.get("password"), () -> Secret.of(password));
                if (secret != null && secret.isLiteral()) {
                    throw error(path + ".password", f.get("password"), "a configuration file must not hold the password"
                            + " itself; reference it as ${ENV_VAR} (an environment variable; letters, digits and '_')"
                            + " or file:/path (a file holding only the password)");
                }
                run(path + ".password", f.get("password"), () -> b.password(secret));
            }
            Double weight = doubleValue(f, "weight", path + ".weight");
            if (weight != null) {
                run(path + ".weight", f.get("weight"), () -> b.weight(weight));
            }
            String zone = string(f, "zone", path + ".zone");
            if (zone != null) {
                run(path + ".zone", f.get("zone"), () -> b.zone(zone));
            }
            Y poolY = present(f, "pool");
            if (poolY != null) {
                PoolSettings pool = pool(path + ".pool", poolY);
                run(path + ".pool", poolY, () -> b.pool(pool));
            }
            Y standbysY = present(f, "standbys");
            if (standbysY != null) {
                List<Y> standbys = list(path + ".standbys", standbysY);
                for (int i = 0; i < standbys.size(); i++) {
                    String sp = path + ".standbys[" + i + "]";
                    Y s = standbys.get(i);
                    if (s.kind() != Kind.STRING) {
                        throw error(sp, s, "expected a JDBC URL string, got " + describe(sp, s));
                    }
                    run(sp, s, () -> b.standby((String) s.value()));
                }
            }
            Y tokensY = present(f, "tokens");
            if (tokensY != null) {
                List<Y> tokens = list(path + ".tokens", tokensY);
                long[] values = new long[tokens.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = longOf(path + ".tokens[" + i + "]", tokens.get(i));
                }
                run(path + ".tokens", tokensY, () -> b.tokens(values));
            }
            return call(path, y, b::build);
        }

        private PoolSettings pool(String path, Y y) {
            Map<String, Y> f = fields(path, y, POOL_FIELDS);
            PoolSettings.Builder b = PoolSettings.builder();
            Integer max = intValue(f, "maximumPoolSize", path + ".maximumPoolSize");
            if (max != null) {
                run(path + ".maximumPoolSize", f.get("maximumPoolSize"), () -> b.maximumPoolSize(max));
            }
            Integer minIdle = intValue(f, "minimumIdle", path + ".minimumIdle");
            if (minIdle != null) {
                run(path + ".minimumIdle", f.get("minimumIdle"), () -> b.minimumIdle(minIdle));
            }
            Duration d = duration(f, "connectionTimeout", path + ".connectionTimeout");
            if (d != null) {
                run(path + ".connectionTimeout", f.get("connectionTimeout"), () -> b.connectionTimeout(d));
            }
            Duration idle = duration(f, "idleTimeout", path + ".idleTimeout");
            if (idle != null) {
                run(path + ".idleTimeout", f.get("idleTimeout"), () -> b.idleTimeout(idle));
            }
            Duration life = duration(f, "maxLifetime", path + ".maxLifetime");
            if (life != null) {
                run(path + ".maxLifetime", f.get("maxLifetime"), () -> b.maxLifetime(life));
            }
            Duration validation = duration(f, "validationTimeout", path + ".validationTimeout");
            if (validation != null) {
                run(path + ".validationTimeout", f.get("validationTimeout"), () -> b.validationTimeout(validation));
            }
            return call(path, minIdle != null ? f.get("minimumIdle") : y, b::build);
        }

        // ---- fields and types

        /** The fields of a mapping, after checking that it is one and that every key is allowed. */
        private Map<String, Y> fields(String path, Y y, List<String> allowed) {
            if (y.kind() != Kind.MAP) {
                throw error(path.isEmpty() ? "(top level)" : path, y, "expected a mapping with fields "
                        + String.join(", ", allowed) + ", got " + describe(path, y));
            }
            for (Map.Entry<String, Y> e : y.map().entrySet()) {
                if (!allowed.contains(e.getKey())) {
                    String field = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                    String hint = suggestion(e.getKey(), allowed);
                    throw error(field, e.getValue(), "unknown field '" + e.getKey() + "'"
                            + (hint == null ? "" : "; did you mean '" + hint + "'?") + " Allowed "
                            + (path.isEmpty() ? "at the top level" : "in " + path.replaceAll("\\[\\d+]", "[]")) + ": "
                            + String.join(", ", allowed));
                }
            }
            return y.map();
        }

        /** The value, or null when the field is absent or explicitly null. */
        private static Y present(Map<String, Y> f, String name) {
            Y y = f.get(name);
            return y == null || y.kind() == Kind.NULL ? null : y;
        }

        private List<Y> list(String path, Y y) {
            if (y.kind() != Kind.LIST) {
                throw error(path, y, "expected a list (entries starting with '- '), got " + describe(path, y));
            }
            return y.list();
        }

        private String string(Map<String, Y> f, String name, String path) {
            Y y = present(f, name);
            if (y == null) {
                return null;
            }
            if (y.kind() != Kind.STRING) {
                throw error(path, y, "expected a string, got " + describe(path, y)
                        + (y.kind() == Kind.MAP || y.kind() == Kind.LIST ? "" : "; put it in quotes"));
            }
            return (String) y.value();
        }

        private Integer intValue(Map<String, Y> f, String name, String path) {
            Y y = present(f, name);
            if (y == null) {
                return null;
            }
            long v = longOf(path, y);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw error(path, y, y.text() + " is out of range; use a whole number up to " + Integer.MAX_VALUE);
            }
            return (int) v;
        }

        private Long longValue(Map<String, Y> f, String name, String path) {
            Y y = present(f, name);
            return y == null ? null : longOf(path, y);
        }

        private long longOf(String path, Y y) {
            if (y.kind() != Kind.INT) {
                throw error(path, y, "expected a whole number, got " + describe(path, y));
            }
            Number n = (Number) y.value();
            if (n instanceof BigInteger) {
                throw error(path, y, y.text() + " is out of range; use a whole number from " + Long.MIN_VALUE + " to "
                        + Long.MAX_VALUE);
            }
            return n.longValue();
        }

        private Double doubleValue(Map<String, Y> f, String name, String path) {
            Y y = present(f, name);
            if (y == null) {
                return null;
            }
            if (y.kind() != Kind.INT && y.kind() != Kind.FLOAT) {
                throw error(path, y, "expected a number, got " + describe(path, y));
            }
            return ((Number) y.value()).doubleValue();
        }

        private Duration duration(Map<String, Y> f, String name, String path) {
            Y y = present(f, name);
            if (y == null) {
                return null;
            }
            if (y.kind() == Kind.INT) {
                throw error(path, y, y.text() + " has no unit; write e.g. " + y.text() + "s or " + y.text() + "ms");
            }
            if (y.kind() != Kind.STRING) {
                throw error(path, y, "expected a duration such as 500ms, 5s, 2m, 1h or PT5S, got " + describe(path, y));
            }
            Duration d = parseDuration((String) y.value());
            if (d == null) {
                throw error(path, y, "'" + y.value() + "' is not a duration; use a whole number with a unit (500ms,"
                        + " 5s, 2m, 1h, 1d) or ISO-8601 such as PT5S");
            }
            return d;
        }

        /** A value for a message: never a password, URLs with credentials masked, long text cut. */
        private static String describe(String path, Y y) {
            switch (y.kind()) {
                case MAP:
                    return "a mapping";
                case LIST:
                    return "a list";
                case NULL:
                    return "nothing";
                case BOOLEAN:
                    // YAML reads yes/no/on/off as booleans too: show what was written
                    return isSecret(path) ? "a boolean" : shown(path, y.text()) + " (a YAML boolean)";
                case STRING:
                    return isSecret(path) ? "a string" : "the string " + shown(path, (String) y.value());
                default:
                    return isSecret(path) ? "a number" : "the number " + y.text();
            }
        }
    }

    private static boolean isSecret(String path) {
        return path.toLowerCase(Locale.ROOT).contains("password");
    }

    /** Text for a message: hidden for password fields, credentials in URLs masked, cut at 80 characters. */
    private static String shown(String path, String text) {
        if (isSecret(path)) {
            return "(hidden)";
        }
        String s = NodeConfig.maskUrl(text);
        if (s.length() > 80) {
            s = s.substring(0, 80) + "...";
        }
        return "'" + s + "'";
    }

    /** The allowed name closest to a misspelt one (same letters ignoring case, or at most two edits). */
    private static String suggestion(String given, List<String> allowed) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : allowed) {
            if (a.equalsIgnoreCase(given)) {
                return a;
            }
            int d = editDistance(given.toLowerCase(Locale.ROOT), a.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        return bestDistance <= 2 ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * Parses {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601 ({@code PT5S}); null if
     * it is neither.
     */
    static Duration parseDuration(String text) {
        String s = text.trim();
        Matcher m = DURATION.matcher(s);
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                switch (m.group(2)) {
                    case "ms":
                        return Duration.ofMillis(n);
                    case "s":
                        return Duration.ofSeconds(n);
                    case "m":
                        return Duration.ofMinutes(n);
                    case "h":
                        return Duration.ofHours(n);
                    default:
                        return Duration.ofDays(n);
                }
            }
            if (s.length() > 1 && (s.charAt(0) == 'P' || s.charAt(0) == 'p')) {
                return Duration.parse(s);
            }
        } catch (ArithmeticException | DateTimeParseException e) {
            return null;
        }
        return null;
    }

    /** The shortest exact form that {@link #parseDuration} reads back: 5s, 10m, 250ms, or ISO-8601. */
    static String formatDuration(Duration d) {
        String s = shortDuration(d);
        return d.equals(parseDuration(s)) ? s : d.toString();
    }

    private static String shortDuration(Duration d) {
        if (d.isNegative()) {
            return d.toString();
        }
        if (d.isZero()) {
            return "0s";
        }
        if (d.getNano() % 1_000_000 != 0) {
            return d.toString();
        }
        long seconds = d.getSeconds();
        if (d.getNano() != 0) {
            return seconds > Long.MAX_VALUE / 1000 ? d.toString() : d.toMillis() + "ms";
        }
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }

    // ------------------------------------------------------------------------------------------------ write

    /**
     * The YAML text of a topology and router settings, which {@link #parse} reads back to an equal topology:
     * the same version, ring settings, tables, nodes and, for nodes that have them, stored tokens. To store
     * every node's tokens, write {@link Topology#withStoredTokens()}. Settings at their default are left out
     * of nodes and pools; the ring's settings are always written.
     *
     * @param router the router section; null leaves it out (readers then use {@link RouterSettings#DEFAULTS})
     * @throws ConfigurationException if a node's password is a literal: files hold only references
     */
    public static String write(Topology topology, RouterSettings router) {
        if (topology == null) {
            throw new ConfigurationException("topology is null; nothing to write");
        }
        for (NodeConfig n : topology.nodes().values()) {
            if (n.password() != null && n.password().isLiteral()) {
                throw new ConfigurationException("node '" + n.id() + "' has a literal password; a configuration file"
                        + " holds only references: set the password as ${ENV_VAR} or file:/path before writing");
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("# shardring configuration (see docs/configuration.md).\n");
        out.append("# Stored tokens place each node on the ring: they are written by tools, never edited by hand.\n");
        out.append("version: ").append(topology.version()).append('\n');

        RingSettings ring = topology.ringSettings();
        out.append("ring:\n");
        out.append("  keyType: ").append(ring.keyType().sqlType()).append('\n');
        out.append("  vnodes: ").append(ring.vnodes()).append('\n');
        out.append("  placement: ").append(ring.placement().name().toLowerCase(Locale.ROOT)).append('\n');
        out.append("  replicationFactor: ").append(ring.replicationFactor()).append('\n');
        if (ring.maxPins() != RingSettings.DEFAULT_MAX_PINS) {
            out.append("  maxPins: ").append(ring.maxPins()).append('\n');
        }

        if (!topology.tables().isEmpty()) {
            out.append("tables:\n");
            for (ShardedTable t : topology.tables()) {
                // "table" means public.table when read back; a blank name needs its schema to be read back
                String name = "public".equals(t.schema()) && !t.name().isBlank() ? t.name() : t.displayName();
                out.append("  - name: ").append(scalar(name)).append('\n');
                out.append("    keyColumn: ").append(scalar(t.keyColumn())).append('\n');
            }
        }

        if (!topology.referenceTables().isEmpty()) {
            out.append("reference:\n");
            out.append("  node: ").append(scalar(topology.referenceNode())).append('\n');
            out.append("  tables:\n");
            for (ReferenceTable t : topology.referenceTables()) {
                out.append("    - ").append(scalar(t.displayName())).append('\n');
            }
        }
        if (!topology.pins().isEmpty()) {
            out.append("pins:\n");
            for (Pin p : topology.pins()) {
                String key = p.key() instanceof Number ? p.key().toString() : scalar(p.key().toString());
                out.append("  - key: ").append(key).append('\n');
                out.append("    node: ").append(scalar(p.node())).append('\n');
            }
        }

        if (router != null) {
            out.append("router:\n");
            out.append("  downBackoff: ").append(formatDuration(router.downBackoff())).append('\n');
            out.append("  drainTimeout: ").append(formatDuration(router.drainTimeout())).append('\n');
            out.append("  fanOutThreads: ").append(router.fanOutThreads()).append('\n');
            out.append("  cutoverWait: ").append(formatDuration(router.cutoverWait())).append('\n');
            out.append("  catalogPoll: ").append(formatDuration(router.catalogPoll())).append('\n');
            if (router.zone() != null) {
                out.append("  zone: ").append(scalar(router.zone())).append('\n');
            }
            out.append("  replicaInterval: ").append(formatDuration(router.replicaInterval())).append('\n');
            if (router.user() != null) {
                out.append("  user: ").append(scalar(router.user())).append('\n');
            }
            if (router.password() != null) {
                out.append("  password: ").append(scalar(router.password().toString())).append('\n');
            }
        }

        out.append("nodes:\n");
        for (NodeConfig n : topology.nodes().values()) {
            out.append("  - id: ").append(scalar(n.id())).append('\n');
            out.append("    jdbcUrl: ").append(scalar(n.jdbcUrl())).append('\n');
            out.append("    user: ").append(scalar(n.user())).append('\n');
            if (n.password() != null) {
                out.append("    password: ").append(scalar(n.password().toString())).append('\n');
            }
            if (n.weight() != 1.0) {
                out.append("    weight: ").append(n.weight()).append('\n');
            }
            if (n.zone() != null) {
                out.append("    zone: ").append(scalar(n.zone())).append('\n');
            }
            writePool(out, n.pool());
            if (!n.standbys().isEmpty()) {
                out.append("    standbys:\n");
                for (String s : n.standbys()) {
                    out.append("      - ").append(scalar(s)).append('\n');
                }
            }
            long[] tokens = n.tokens();
            if (tokens != null) {
                writeTokens(out, tokens);
            }
        }
        return out.toString();
    }

    /**
     * {@link #write(Topology, RouterSettings)} of a whole configuration, with its {@code catalog:} and
     * {@code schema:} sections, so that a configuration written back reads as the same configuration.
     */
    public static String write(ShardringConfig config) {
        StringBuilder out = new StringBuilder(write(config.topology(), config.router()));
        if (config.catalogNode() != null) {
            out.append("catalog:\n");
            out.append("  node: ").append(scalar(config.catalogNode())).append('\n');
        }
        if (!config.schemaLocations().isEmpty()) {
            out.append("schema:\n");
            out.append("  locations:\n");
            for (String location : config.schemaLocations()) {
                out.append("    - ").append(scalar(location)).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * Writes the configuration to {@code file} atomically (a temporary file in the same directory, then a
     * rename), so that a router re-reading it never sees half a file.
     */
    public static void save(Path file, Topology topology, RouterSettings router) {
        String text = write(topology, router);
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + absolute.getFileName(), ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
                // keep the permissions of the file replaced; a new file is readable by all (it holds no secrets)
                Files.setPosixFilePermissions(tmp, Files.exists(absolute) ? Files.getPosixFilePermissions(absolute)
                        : PosixFilePermissions.fromString("rw-r--r--"));
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ConfigurationException("cannot write configuration file " + file + " ("
                    + e.getClass().getSimpleName() + ")", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    private static void writePool(StringBuilder out, PoolSettings pool) {
        PoolSettings d = PoolSettings.DEFAULTS;
        StringBuilder p = new StringBuilder();
        if (pool.maximumPoolSize() != d.maximumPoolSize()) {
            p.append("      maximumPoolSize: ").append(pool.maximumPoolSize()).append('\n');
        }
        if (pool.minimumIdle() != pool.maximumPoolSize()) {
            p.append("      minimumIdle: ").append(pool.minimumIdle()).append('\n');
        }
        if (!pool.connectionTimeout().equals(d.connectionTimeout())) {
            p.append("      connectionTimeout: ").append(formatDuration(pool.connectionTimeout())).append('\n');
        }
        if (!pool.idleTimeout().equals(d.idleTimeout())) {
            p.append("      idleTimeout: ").append(formatDuration(pool.idleTimeout())).append('\n');
        }
        if (!pool.maxLifetime().equals(d.maxLifetime())) {
            p.append("      maxLifetime: ").append(formatDuration(pool.maxLifetime())).append('\n');
        }
        if (!pool.validationTimeout().equals(d.validationTimeout())) {
            p.append("      validationTimeout: ").append(formatDuration(pool.validationTimeout())).append('\n');
        }
        if (p.length() > 0) {
            out.append("    pool:\n").append(p);
        }
    }

    private static void writeTokens(StringBuilder out, long[] tokens) {
        out.append("    tokens: [");
        if (tokens.length <= TOKENS_PER_LINE) {
            for (int i = 0; i < tokens.length; i++) {
                out.append(i == 0 ? "" : ", ").append(tokens[i]);
            }
            out.append("]\n");
            return;
        }
        for (int i = 0; i < tokens.length; i++) {
            if (i % TOKENS_PER_LINE == 0) {
                out.append(i == 0 ? "\n" : ",\n").append("      ");
            } else {
                out.append(", ");
            }
            out.append(tokens[i]);
        }
        out.append("]\n");
    }

    /** A string as a YAML scalar: plain when that is unambiguous, else double-quoted with ASCII escapes. */
    static String scalar(String s) {
        if (ENV_REFERENCE.matcher(s).matches()) {
            return s;
        }
        if (PLAIN.matcher(s).matches() && !s.endsWith(":") && !RESERVED_PLAIN.contains(s.toLowerCase(Locale.ROOT))) {
            return s;
        }
        StringBuilder q = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == '"' || cp == '\\') {
                q.append('\\').appendCodePoint(cp);
            } else if (cp >= 0x20 && cp <= 0x7e) {
                q.appendCodePoint(cp);
            } else if (cp == '\n') {
                q.append("\\n");
            } else if (cp == '\t') {
                q.append("\\t");
            } else if (cp == '\r') {
                q.append("\\r");
            } else if (cp <= 0xffff) {
                q.append(String.format("\\u%04X", cp));
            } else {
                q.append(String.format("\\U%08X", cp));
            }
        }
        return q.append('"').toString();
    }
}
