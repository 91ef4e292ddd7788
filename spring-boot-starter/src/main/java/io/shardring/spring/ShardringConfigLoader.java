package io.shardring.spring;

import io.shardring.router.ConfigurationException;
import io.shardring.router.topology.ConfigOrigin;
import io.shardring.router.topology.ConfigValidation;
import io.shardring.router.topology.Secret;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.core.env.Environment;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

/**
 * Reads the configuration from {@code shardring.config} or from the inline {@code shardring.*} fields. Inline fields
 * are bound to the same model as a file and go through the same {@link ConfigValidation}, so that both ways are
 * checked by the same rules; their errors name the Spring property ({@code shardring.nodes[1].weight}). Spring
 * resolves {@code ${...}} in application.yaml itself, so an inline password arrives as its value: it is handed to the
 * router under a reference name of its own, never written out.
 */
final class ShardringConfigLoader {
    /** The configuration and how its password references resolve. */
    record Loaded(ShardringConfig config, Function<String, String> environment, String source) {
    }

    private static final String SECRET_PREFIX = "SHARDRING_SPRING_SECRET_";
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*}");
    private static final Pattern WORD_START = Pattern.compile("(?=[A-Z])");

    private ShardringConfigLoader() {
    }

    static Loaded load(ShardringProperties p, Environment env, ResourceLoader resources) {
        boolean inline = p.hasInlineFields();
        if (p.config() != null && inline) {
            throw new ConfigurationException("shardring.config (" + p.config() + ") and inline shardring.* fields"
                    + " are both set; keep one: either the file, or the fields under shardring in application.yaml"
                    + " (shardring.ring, shardring.nodes, ...)");
        }
        if (p.config() != null) {
            String text = read(p.config(), resources);
            return new Loaded(ShardringYaml.parse(text, p.config()), env::getProperty, p.config());
        }
        if (!inline) {
            throw new ConfigurationException("shardring is on the classpath but not configured: set"
                    + " shardring.config=classpath:shardring.yaml (or a file path), or the fields under shardring in"
                    + " application.yaml (shardring.ring.key-type, shardring.nodes[0].id, ...), or"
                    + " shardring.enabled=false");
        }
        PropertyOrigin origin = new PropertyOrigin();
        ShardringConfig config = ConfigValidation.validate(p.file(), origin);
        return new Loaded(config, name -> origin.secrets.containsKey(name) ? origin.secrets.get(name)
                : env.getProperty(name), origin.source());
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

    /**
     * Spring properties: a field is named as its property in Spring's canonical form ({@code
     * shardring.nodes[0].jdbc-url}), and a password is its value, resolved by Spring, unless it is still a reference.
     */
    static final class PropertyOrigin implements ConfigOrigin {
        private final Map<String, String> secrets = new HashMap<>();

        @Override
        public String source() {
            return "application properties";
        }

        @Override
        public String name(String path) {
            return "shardring." + String.join("-", WORD_START.split(path)).toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public int line(String path) {
            return 0;
        }

        /** file:/path stays a reference; any other value (Spring resolved ${...} already) gets a reference name. */
        @Override
        public Secret password(String path, String given) {
            if (given.startsWith("file:") || ENV_REFERENCE.matcher(given).matches()) {
                // file:, or a ${VAR} Spring could not resolve: a reference the router resolves (and names if unset)
                return Secret.of(given);
            }
            String name = SECRET_PREFIX + secrets.size();
            secrets.put(name, given);
            return Secret.env(name);
        }
    }
}
