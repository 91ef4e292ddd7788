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

    private JdbcUrl(String host, int port, String database) {
        this.host = host;
        this.port = port;
        this.database = database;
    }

    static JdbcUrl parse(String url) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            throw new ConfigurationException("cannot read host, port and database from '"
                    + io.shardring.router.topology.NodeConfig.maskUrl(url)
                    + "'; use jdbc:postgresql://host:port/database");
        }
        String host = m.group(1).startsWith("[") ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1);
        return new JdbcUrl(host, m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)),
                java.net.URLDecoder.decode(m.group(3), java.nio.charset.StandardCharsets.UTF_8));
    }
}
