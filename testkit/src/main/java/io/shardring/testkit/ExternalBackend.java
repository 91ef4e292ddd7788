package io.shardring.testkit;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * Servers that someone else runs, listed in the environment variable {@value #ENV}.
 *
 * <p>Format: comma-separated JDBC URLs, each carrying its credentials as query parameters:
 * <pre>
 * SHARDRING_TEST_SHARDS=jdbc:postgresql://host1:5432/db1?user=u&amp;password=p,jdbc:postgresql://host2:5432/db2?user=u&amp;password=p
 * </pre>
 * The port defaults to 5432; {@code user} and a database are required; other parameters (e.g. {@code sslmode})
 * are kept. Percent-encode a comma or ampersand inside a value ({@code %2C}, {@code %26}). Multi-host URLs are not
 * supported (their comma is the list separator). The first N URLs serve a cluster of N shards.
 *
 * <p>This backend starts and stops nothing and uses each database as it is: tests sharing such servers must clean up
 * after themselves.
 */
final class ExternalBackend implements ShardBackend {

    static final String NAME = "external";

    /** Environment variable listing the external servers. */
    static final String ENV = "SHARDRING_TEST_SHARDS";

    private static final String PREFIX = "jdbc:postgresql://";
    private static final Pattern SECRET_PARAMETER = Pattern.compile(".*password.*", Pattern.CASE_INSENSITIVE);

    private final String spec;

    ExternalBackend(String spec) {
        this.spec = spec;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Started start(ClusterSettings settings) {
        List<PgShard> listed = parse(spec);
        if (settings.shards() > listed.size()) {
            throw new IllegalStateException(ENV + " lists " + listed.size() + " server(s) but " + settings.shards()
                    + " shards were requested; add more JDBC URLs to " + ENV + " or ask for fewer shards");
        }
        List<PgShard> shards = List.copyOf(listed.subList(0, settings.shards()));
        return new Started() {
            @Override
            public List<PgShard> shards() {
                return shards;
            }

            @Override
            public void stop() {
                // not ours to stop
            }
        };
    }

    /** Parses the {@value #ENV} format into shards named shard0, shard1, ... in list order. */
    static List<PgShard> parse(String spec) {
        List<PgShard> shards = new ArrayList<>();
        for (String entry : spec.split(",")) {
            if (!entry.isBlank()) {
                shards.add(parseOne("shard" + shards.size(), entry.trim()));
            }
        }
        if (shards.isEmpty()) {
            throw new IllegalArgumentException(ENV + " is set but lists no JDBC URL: '" + spec + "'");
        }
        return shards;
    }

    private static PgShard parseOne(String name, String url) {
        if (!url.startsWith(PREFIX)) {
            throw bad(name, url, "it does not start with " + PREFIX);
        }
        URI uri;
        try {
            uri = new URI(url.substring("jdbc:".length()));
        } catch (URISyntaxException e) {
            throw bad(name, url, "it is not a valid URL (" + e.getReason() + ")");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw bad(name, url, "it names no host (multi-host URLs are not supported)");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() == -1 ? 5432 : uri.getPort();
        String path = uri.getPath() == null ? "" : uri.getPath();
        String database = path.startsWith("/") ? path.substring(1) : path;
        if (database.isEmpty()) {
            throw bad(name, url, "it names no database (jdbc:postgresql://host:port/DATABASE?...)");
        }

        String user = null;
        String password = null;
        StringJoiner kept = new StringJoiner("&");
        Map<String, String> secrets = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                switch (key.toLowerCase(Locale.ROOT)) {
                    case "user" -> user = value;
                    case "password" -> password = value;
                    default -> {
                        if (SECRET_PARAMETER.matcher(key).matches()) {
                            secrets.put(key, value); // e.g. sslpassword: never in the printable URL
                        } else {
                            kept.add(pair);
                        }
                    }
                }
            }
        }
        if (user == null || user.isEmpty()) {
            throw bad(name, url, "it has no user=... parameter");
        }
        return new PgShard(name, host, port, database, user, password, kept.toString(), secrets, null,
                Duration.ZERO);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static IllegalArgumentException bad(String name, String url, String why) {
        return new IllegalArgumentException(ENV + " entry for " + name + " is unusable, " + why + ": " + redact(url));
    }

    /** The URL with the values of password-like parameters replaced, fit for an error message. */
    static String redact(String url) {
        return url.replaceAll("(?i)([?&][^=&]*password[^=&]*=)[^&]*", "$1***");
    }
}
