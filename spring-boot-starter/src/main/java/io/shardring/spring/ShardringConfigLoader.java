package io.shardring.spring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.shardring.router.ConfigurationException;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.springframework.core.env.Environment;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

/**
 * Reads the configuration from {@code shardring.config} or from the inline {@code shardring.*} fields. Inline fields
 * become the YAML of a shardring.yaml and go through {@link ShardringYaml}, so that both ways are checked by the same
 * rules and their errors name the same fields. Spring resolves {@code ${...}} in application.yaml itself, so an inline
 * password arrives as its value: it is handed to the router under a reference name of its own, never written out.
 */
final class ShardringConfigLoader {
    /** The configuration and how its password references resolve. */
    record Loaded(ShardringConfig config, Function<String, String> environment, String source) {
    }

    private static final String SECRET_PREFIX = "SHARDRING_SPRING_SECRET_";
    private static final java.util.regex.Pattern ENV_REFERENCE =
            java.util.regex.Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*}");

    private ShardringConfigLoader() {
    }

    static Loaded load(ShardringProperties p, Environment env, ResourceLoader resources) {
        boolean inline = p.hasInlineFields();
        if (p.getConfig() != null && inline) {
            throw new ConfigurationException("shardring.config (" + p.getConfig() + ") and inline shardring.* fields"
                    + " are both set; keep one: either the file, or the fields under shardring in application.yaml"
                    + " (shardring.ring, shardring.nodes, ...)");
        }
        if (p.getConfig() != null) {
            String text = read(p.getConfig(), resources);
            return new Loaded(ShardringYaml.parse(text, p.getConfig()), env::getProperty, p.getConfig());
        }
        if (!inline) {
            throw new ConfigurationException("shardring is on the classpath but not configured: set"
                    + " shardring.config=classpath:shardring.yaml (or a file path), or the fields under shardring in"
                    + " application.yaml (shardring.ring.key-type, shardring.nodes[0].id, ...), or"
                    + " shardring.enabled=false");
        }
        Map<String, String> secrets = new HashMap<>();
        String source = "application properties shardring.*";
        String yaml = toYaml(p, secrets);
        ShardringConfig config = ShardringYaml.parse(yaml, source);
        return new Loaded(config, name -> secrets.containsKey(name) ? secrets.get(name) : env.getProperty(name),
                source);
    }

    private static String read(String location, ResourceLoader resources) {
        Resource r = isUrlLike(location) ? resources.getResource(location)
                : new org.springframework.core.io.FileSystemResource(Path.of(location));
        if (!r.exists()) {
            throw new ConfigurationException("shardring.config: " + location + " does not exist; give"
                    + " classpath:shardring.yaml, file:/path/shardring.yaml or a file path");
        }
        try (InputStream in = r.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigurationException("shardring.config: cannot read " + location + " (" + e.getMessage() + ")",
                    e);
        }
    }

    private static boolean isUrlLike(String location) {
        int colon = location.indexOf(':');
        // "C:\..." is a Windows path, not a URL scheme
        return colon > 1 && location.chars().limit(colon).allMatch(Character::isLetter);
    }

    static String toYaml(ShardringProperties p, Map<String, String> secrets) {
        Map<String, Object> root = new LinkedHashMap<>();
        put(root, "version", p.getVersion());
        ShardringProperties.Ring ring = p.getRing();
        if (ring.isSet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            put(m, "keyType", ring.getKeyType());
            put(m, "vnodes", ring.getVnodes());
            put(m, "placement", ring.getPlacement());
            put(m, "replicationFactor", ring.getReplicationFactor());
            put(m, "maxPins", ring.getMaxPins());
            root.put("ring", m);
        }
        ShardringProperties.Reference reference = p.getReference();
        if (reference.getNode() != null || !reference.getTables().isEmpty()) {
            Map<String, Object> m = new LinkedHashMap<>();
            put(m, "node", reference.getNode());
            if (!reference.getTables().isEmpty()) {
                m.put("tables", List.copyOf(reference.getTables()));
            }
            root.put("reference", m);
        }
        if (!p.getTables().isEmpty()) {
            root.put("tables", p.getTables().stream().map(t -> {
                Map<String, Object> m = new LinkedHashMap<>();
                put(m, "name", t.getName());
                put(m, "keyColumn", t.getKeyColumn());
                return m;
            }).toList());
        }
        ShardringProperties.Router router = p.getRouter();
        if (router.isSet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            put(m, "downBackoff", duration(router.getDownBackoff()));
            put(m, "drainTimeout", duration(router.getDrainTimeout()));
            put(m, "fanOutThreads", router.getFanOutThreads());
            put(m, "cutoverWait", duration(router.getCutoverWait()));
            put(m, "catalogPoll", duration(router.getCatalogPoll()));
            put(m, "zone", router.getZone());
            put(m, "replicaInterval", duration(router.getReplicaInterval()));
            put(m, "user", router.getUser());
            put(m, "password", secret(router.getPassword(), secrets));
            root.put("router", m);
        }
        if (!p.getNodes().isEmpty()) {
            root.put("nodes", p.getNodes().stream().map(n -> {
                Map<String, Object> m = new LinkedHashMap<>();
                put(m, "id", n.getId());
                put(m, "jdbcUrl", n.getJdbcUrl());
                put(m, "user", n.getUser());
                put(m, "password", secret(n.getPassword(), secrets));
                put(m, "weight", n.getWeight());
                put(m, "zone", n.getZone());
                ShardringProperties.Pool pool = n.getPool();
                if (pool.isSet()) {
                    Map<String, Object> pm = new LinkedHashMap<>();
                    put(pm, "maximumPoolSize", pool.getMaximumPoolSize());
                    put(pm, "minimumIdle", pool.getMinimumIdle());
                    put(pm, "connectionTimeout", duration(pool.getConnectionTimeout()));
                    put(pm, "idleTimeout", duration(pool.getIdleTimeout()));
                    put(pm, "maxLifetime", duration(pool.getMaxLifetime()));
                    put(pm, "validationTimeout", duration(pool.getValidationTimeout()));
                    m.put("pool", pm);
                }
                if (!n.getStandbys().isEmpty()) {
                    m.put("standbys", List.copyOf(n.getStandbys()));
                }
                return m;
            }).toList());
        }
        if (p.getCatalog().getNode() != null) {
            root.put("catalog", Map.of("node", p.getCatalog().getNode()));
        }
        if (!p.getSchema().getLocations().isEmpty()) {
            root.put("schema", Map.of("locations", List.copyOf(p.getSchema().getLocations())));
        }
        try {
            return new ObjectMapper(new YAMLFactory()).writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new ConfigurationException("cannot turn the shardring.* properties into a configuration: "
                    + e.getOriginalMessage(), e);
        }
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    private static String duration(Duration d) {
        return d == null ? null : d.toString(); // ISO-8601, which the file also takes: exact, whatever the unit
    }

    /** file:/path stays a reference; any other value (Spring resolved ${...} already) gets a reference name. */
    private static String secret(String value, Map<String, String> secrets) {
        if (value == null) {
            return null;
        }
        if (value.startsWith("file:") || ENV_REFERENCE.matcher(value).matches()) {
            // file:, or a ${VAR} Spring could not resolve: a reference the router resolves (and names if unset)
            return value;
        }
        String name = SECRET_PREFIX + secrets.size();
        secrets.put(name, value);
        return "${" + name + "}";
    }
}
