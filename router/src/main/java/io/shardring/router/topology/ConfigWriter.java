package io.shardring.router.topology;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardring.router.ConfigurationException;
import io.shardring.router.ring.Pin;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes a configuration as YAML through {@link ConfigFile}: the runtime types become the model (settings at their
 * default left out), Jackson serializes the model, and the result is laid out as people read it: block mappings and
 * lists, plain strings where that is unambiguous, and stored tokens as a compact list. {@link ConfigReader} reads it
 * back to an equal configuration.
 */
final class ConfigWriter {
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*}");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z][A-Za-z0-9_./:@?&=%+-]*");
    /** A duration as written (5s, 500ms) reads back as text: YAML has no number with a unit. */
    private static final Pattern SHORT_DURATION = Pattern.compile("\\d{1,18}(ms|s|m|h|d)");
    private static final List<String> RESERVED_PLAIN =
            List.of("true", "false", "null", "yes", "no", "on", "off", "y", "n");
    private static final int NUMBERS_PER_LINE = 4;
    private static final String HEADER = "# shardring configuration (see docs/configuration.md).\n"
            + "# Stored tokens place each node on the ring: they are written by tools, never edited by hand.\n";

    private ConfigWriter() {
    }

    /**
     * The YAML text of a configuration.
     *
     * @param router the router section; null leaves it out
     * @param tools  whether to write the tools' sections, {@code catalog:} and {@code schema:}
     * @throws ConfigurationException if a password is a literal: files hold only references
     */
    static String write(Topology topology, RouterSettings router, ShardringConfig tools) {
        if (topology == null) {
            throw new ConfigurationException("topology is null; nothing to write");
        }
        for (NodeConfig n : topology.nodes().values()) {
            if (n.password() != null && n.password().isLiteral()) {
                throw new ConfigurationException("node '" + n.id() + "' has a literal password; a configuration file"
                        + " holds only references: set the password as ${ENV_VAR} or file:/path before writing");
            }
        }
        StringBuilder out = new StringBuilder(HEADER);
        mapping(out, ConfigJackson.MAPPER.valueToTree(model(topology, router, tools)), "", "");
        return out.toString();
    }

    // ------------------------------------------------------------------------------------------------ the model

    static ConfigFile model(Topology t, RouterSettings router, ShardringConfig tools) {
        RingSettings ring = t.ringSettings();
        ConfigFile.Ring r = new ConfigFile.Ring(ring.keyType().sqlType(), ring.vnodes(),
                ring.placement().name().toLowerCase(Locale.ROOT), ring.replicationFactor(),
                ring.maxPins() == RingSettings.DEFAULT_MAX_PINS ? null : ring.maxPins());
        // "table" means public.table when read back; a blank name needs its schema to be read back
        List<ConfigFile.Table> tables = t.tables().stream().map(s -> new ConfigFile.Table(
                "public".equals(s.schema()) && !s.name().isBlank() ? s.name() : s.displayName(), s.keyColumn()))
                .toList();
        ConfigFile.Reference reference = t.referenceTables().isEmpty() ? null : new ConfigFile.Reference(
                t.referenceNode(), t.referenceTables().stream().map(ReferenceTable::displayName).toList());
        List<ConfigFile.Pin> pins = t.pins().stream()
                .map((Pin p) -> new ConfigFile.Pin(p.key() instanceof Number ? p.key() : p.key().toString(), p.node())).toList();
        List<ConfigFile.Node> nodes = t.nodes().values().stream().map(ConfigWriter::node).toList();
        ConfigFile.Catalog catalog = tools == null || tools.catalogNode() == null ? null
                : new ConfigFile.Catalog(tools.catalogNode());
        ConfigFile.Schema schema = tools == null || tools.schemaLocations().isEmpty() ? null
                : new ConfigFile.Schema(tools.schemaLocations());
        return new ConfigFile(t.version(), r, orNull(tables), reference, orNull(pins), router(router), nodes, catalog,
                schema);
    }

    private static ConfigFile.Router router(RouterSettings r) {
        return r == null ? null : new ConfigFile.Router(r.downBackoff(), r.drainTimeout(), r.fanOutThreads(),
                r.cutoverWait(), r.catalogPoll(), r.zone(), r.replicaInterval(), r.user(),
                r.password() == null ? null : r.password().toString());
    }

    private static ConfigFile.Node node(NodeConfig n) {
        long[] tokens = n.tokens();
        List<Long> stored = null;
        if (tokens != null) {
            stored = new ArrayList<>(tokens.length);
            for (long token : tokens) {
                stored.add(token);
            }
        }
        return new ConfigFile.Node(n.id(), n.jdbcUrl(), n.user(),
                n.password() == null ? null : n.password().toString(), n.weight() == 1.0 ? null : n.weight(),
                n.zone(), pool(n.pool()), orNull(n.standbys()), n.epoch() == 0 ? null : n.epoch(), stored);
    }

    /** The settings that differ from the defaults; null when none does. */
    private static ConfigFile.Pool pool(PoolSettings p) {
        PoolSettings d = PoolSettings.DEFAULTS;
        ConfigFile.Pool pool = new ConfigFile.Pool(
                p.maximumPoolSize() == d.maximumPoolSize() ? null : p.maximumPoolSize(),
                p.minimumIdle() == p.maximumPoolSize() ? null : p.minimumIdle(),
                p.connectionTimeout().equals(d.connectionTimeout()) ? null : p.connectionTimeout(),
                p.idleTimeout().equals(d.idleTimeout()) ? null : p.idleTimeout(),
                p.maxLifetime().equals(d.maxLifetime()) ? null : p.maxLifetime(),
                p.validationTimeout().equals(d.validationTimeout()) ? null : p.validationTimeout());
        return pool.equals(new ConfigFile.Pool(null, null, null, null, null, null)) ? null : pool;
    }

    private static <T> List<T> orNull(List<T> list) {
        return list == null || list.isEmpty() ? null : list;
    }

    // ------------------------------------------------------------------------------------------------ layout

    /** A mapping's fields, the first one after {@code first} (a list item's "- "), the others at {@code indent}. */
    private static void mapping(StringBuilder out, JsonNode map, String indent, String first) {
        String prefix = first;
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            out.append(prefix).append(field.getKey()).append(':');
            prefix = indent;
            JsonNode value = field.getValue();
            if (value.isObject()) {
                out.append('\n');
                mapping(out, value, indent + "  ", indent + "  ");
            } else if (value.isArray() && value.size() > 0 && value.get(0).isNumber()) {
                numbers(out, value, indent + "  ");
            } else if (value.isArray()) {
                out.append('\n');
                for (JsonNode item : value) {
                    if (item.isObject()) {
                        mapping(out, item, indent + "    ", indent + "  - ");
                    } else {
                        out.append(indent).append("  - ").append(scalar(item)).append('\n');
                    }
                }
            } else {
                out.append(' ').append(scalar(value)).append('\n');
            }
        }
    }

    /** A list of numbers in flow style, a few to a line: a large ring stores thousands of tokens. */
    private static void numbers(StringBuilder out, JsonNode list, String indent) {
        out.append(" [");
        for (int i = 0; i < list.size(); i++) {
            if (list.size() <= NUMBERS_PER_LINE) {
                out.append(i == 0 ? "" : ", ");
            } else if (i % NUMBERS_PER_LINE == 0) {
                out.append(i == 0 ? "\n" : ",\n").append(indent);
            } else {
                out.append(", ");
            }
            out.append(list.get(i).asText());
        }
        out.append("]\n");
    }

    private static String scalar(JsonNode value) {
        return value.isTextual() ? scalar(value.textValue()) : value.asText();
    }

    /** A string as a YAML scalar: plain when that is unambiguous, else double-quoted with ASCII escapes. */
    static String scalar(String s) {
        if (ENV_REFERENCE.matcher(s).matches() || SHORT_DURATION.matcher(s).matches()) {
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
