package io.shardring.testkit;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One running PostgreSQL server of a {@link PgCluster}, seen as "where to connect and as whom".
 *
 * <p>The JDBC URL deliberately carries no credentials, so it can be logged, printed in assertion messages or put in
 * a config file; the user and password travel separately ({@link #user()}, {@link #password()}) and are applied by
 * {@link #dataSource()}. {@link #toString()} never shows the password either.
 */
public final class PgShard {

    private final String name;
    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final String password;
    private final String urlParameters;
    private final Map<String, String> secretProperties;
    private final Path dataDirectory;
    private final Duration startupTime;

    /**
     * @param urlParameters    extra JDBC URL query (e.g. {@code sslmode=require}), empty for none; never credentials
     * @param secretProperties connection properties kept out of the URL because they are secrets (e.g.
     *                         {@code sslpassword}), applied only by {@link #dataSource()}
     * @param dataDirectory    the server's data directory when this JVM owns it, else null
     */
    PgShard(String name, String host, int port, String database, String user, String password,
            String urlParameters, Map<String, String> secretProperties, Path dataDirectory, Duration startupTime) {
        this.name = Objects.requireNonNull(name, "name");
        this.host = Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port of " + name + " must be in 1..65535, was: " + port);
        }
        this.port = port;
        this.database = Objects.requireNonNull(database, "database");
        this.user = Objects.requireNonNull(user, "user");
        this.password = password;
        this.urlParameters = Objects.requireNonNull(urlParameters, "urlParameters");
        this.secretProperties = Map.copyOf(secretProperties);
        this.dataDirectory = dataDirectory;
        this.startupTime = Objects.requireNonNull(startupTime, "startupTime");
    }

    /** {@code shard0}, {@code shard1}, ... in cluster order; stable for the life of the cluster. */
    public String name() {
        return name;
    }

    /** {@code jdbc:postgresql://host:port/database[?non-secret parameters]}, without user or password. */
    public String jdbcUrl() {
        String hostInUrl = host.contains(":") ? "[" + host + "]" : host; // IPv6 literal
        String url = "jdbc:postgresql://" + hostInUrl + ":" + port + "/"
                + URLEncoder.encode(database, StandardCharsets.UTF_8);
        return urlParameters.isEmpty() ? url : url + "?" + urlParameters;
    }

    public String user() {
        return user;
    }

    /** The password, or null where the server trusts local connections (the embedded backend). */
    public String password() {
        return password;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String database() {
        return database;
    }

    /**
     * The server's data directory, present only for servers this JVM created on local disk (the embedded backend);
     * it is deleted when the cluster closes.
     */
    public Optional<Path> dataDirectory() {
        return Optional.ofNullable(dataDirectory);
    }

    /**
     * Wall time from asking for this server until it accepted connections and its database existed; zero for
     * external servers, which are not started.
     */
    public Duration startupTime() {
        return startupTime;
    }

    /**
     * A new, unpooled {@link PGSimpleDataSource} with this shard's URL and credentials. A fresh instance on every call
     * because data sources are mutable and tests should not see each other's changes; wrap it in a pool if needed.
     */
    public DataSource dataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl());
        ds.setUser(user);
        if (password != null && !password.isEmpty()) {
            ds.setPassword(password);
        }
        secretProperties.forEach((key, value) -> {
            try {
                ds.setProperty(key, value);
            } catch (SQLException e) {
                throw new IllegalStateException("PostgreSQL driver rejects connection property " + key
                        + " of " + name, e);
            }
        });
        return ds;
    }

    /** Opens a new connection to this shard's database; the caller closes it. */
    public Connection connect() throws SQLException {
        return dataSource().getConnection();
    }

    @Override
    public String toString() {
        return name + "[" + jdbcUrl() + " user=" + user + "]";
    }
}
