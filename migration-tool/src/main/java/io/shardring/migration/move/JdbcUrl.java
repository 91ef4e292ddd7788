package io.shardring.migration.move;

import io.shardring.router.ConfigurationException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Host, port and database of a {@code jdbc:postgresql://host:port/db} URL (the first host). */
final class JdbcUrl {
    private static final Pattern URL = Pattern.compile("(?i)jdbc:postgresql://([^/:?,]+)(?::(\\d+))?(?:,[^/]*)?/([^?]+).*");

    final String host;
    final int port;
    final String database;
    /** The URL's TLS settings, named as libpq names them (sslmode, sslrootcert, ...). */
    final java.util.Map<String, String> ssl;

    private JdbcUrl(String host, int port, String database, java.util.Map<String, String> ssl) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.ssl = ssl;
    }

    static JdbcUrl parse(String url) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            throw new ConfigurationException("cannot read host, port and database from '"
                    + io.shardring.router.topology.NodeConfig.maskUrl(url)
                    + "'; use jdbc:postgresql://host:port/database");
        }
        String host = m.group(1).startsWith("[") ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1);
        java.util.Map<String, String> ssl = new java.util.LinkedHashMap<>();
        int q = url.indexOf('?');
        if (q >= 0) {
            for (String pair : url.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                if (java.util.Set.of("sslmode", "sslrootcert", "sslcert", "sslkey").contains(key) && eq > 0) {
                    ssl.put(key, java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        return new JdbcUrl(host, m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)),
                java.net.URLDecoder.decode(m.group(3), java.nio.charset.StandardCharsets.UTF_8), ssl);
    }
}
