package io.shardring.testkit;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a {@link PgCluster} was asked for; handed to whichever backend starts the servers.
 *
 * @param shards          number of servers, at least 1
 * @param database        database created on each started server (ignored for external servers, which name theirs)
 * @param serverSettings  extra {@code postgresql.conf} settings on top of each backend's defaults
 * @param startupTimeout  how long one server may take to accept connections
 */
record ClusterSettings(int shards, String database, Map<String, String> serverSettings, Duration startupTimeout) {

    /** Plain lower-case identifiers only, so the name never needs quoting in SQL nor escaping in a JDBC URL. */
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Setting names and values are passed on a command line as {@code -c name=value}, so no blanks or quotes. */
    private static final Pattern SETTING_NAME = Pattern.compile("[a-z_][a-z0-9_.]*");
    private static final Pattern SETTING_VALUE = Pattern.compile("[^\\s'\"\\\\]+");

    ClusterSettings {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, was: " + shards);
        }
        if (database == null || !DATABASE_NAME.matcher(database).matches()) {
            throw new IllegalArgumentException(
                    "database must be a lower-case identifier matching " + DATABASE_NAME + ", was: " + database);
        }
        serverSettings.forEach((name, value) -> {
            if (!SETTING_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("server setting name must match " + SETTING_NAME + ", was: " + name);
            }
            if (value == null || !SETTING_VALUE.matcher(value).matches()) {
                throw new IllegalArgumentException(
                        "server setting " + name + " needs a value without blanks or quotes, was: " + value);
            }
        });
        serverSettings = Collections.unmodifiableMap(new TreeMap<>(serverSettings)); // sorted: stable command lines
        if (startupTimeout == null || startupTimeout.isNegative() || startupTimeout.isZero()) {
            throw new IllegalArgumentException("startupTimeout must be positive, was: " + startupTimeout);
        }
    }
}
