package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * One shard: where it is, who connects, its ring weight and zone, its pool, its physical standbys, its epoch, and
 * optionally its stored ring tokens. JDBC URLs must not carry credentials; the password is a
 * {@link Secret} reference.
 */
public final class NodeConfig {
    private static final Pattern SECRET_IN_URL = Pattern.compile("(?i)[?&;](password|sslpassword)=");

    private final String id;
    private final String jdbcUrl;
    private final String user;
    private final Secret password;
    private final double weight;
    private final String zone;
    private final PoolSettings pool;
    private final List<String> standbys;
    private final long epoch;
    private final long[] tokens;

    private NodeConfig(Builder b) {
        this.id = b.id;
        this.jdbcUrl = b.jdbcUrl;
        this.user = b.user;
        this.password = b.password;
        this.weight = b.weight;
        this.zone = b.zone;
        this.pool = b.pool;
        this.standbys = Collections.unmodifiableList(new ArrayList<>(b.standbys));
        this.epoch = b.epoch;
        this.tokens = b.tokens;
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    public Builder toBuilder() {
        Builder b = new Builder(id).jdbcUrl(jdbcUrl).user(user).weight(weight).zone(zone).pool(pool).epoch(epoch);
        b.password = password;
        b.standbys.addAll(standbys);
        b.tokens = tokens;
        return b;
    }

    public String id() {
        return id;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    /** The password reference, or null for none (trust or certificate authentication). */
    public Secret password() {
        return password;
    }

    public double weight() {
        return weight;
    }

    public String zone() {
        return zone;
    }

    public PoolSettings pool() {
        return pool;
    }

    /** JDBC URLs of physical standbys of this node, for secondary reads. */
    public List<String> standbys() {
        return standbys;
    }

    /**
     * The node's epoch: which server is the node's primary, raised each time a standby is promoted to it. Routers and
     * tools refuse a server whose database records another epoch (an old primary that came back). 0, the default, is
     * a node not fenced by epoch: no server's epoch is checked.
     */
    public long epoch() {
        return epoch;
    }

    /** This node at another epoch. */
    public NodeConfig withEpoch(long epoch) {
        return toBuilder().epoch(epoch).build();
    }

    /**
     * The JDBC URL of this node's secondary store: the database beside the node's own, named after it with
     * {@value #SECONDARY_SUFFIX}, that holds the rows of the arcs this node keeps as a secondary. A database of its
     * own, so that nothing that works on primaries (fan-out, the guard, verify, the mover's deletes) ever sees those
     * rows.
     */
    public String secondaryStoreUrl() {
        int end = databaseEnd();
        return jdbcUrl.substring(0, end) + SECONDARY_SUFFIX + jdbcUrl.substring(end);
    }

    /** The name of the secondary store's database on the node's server. */
    public String secondaryStoreDatabase() {
        return jdbcUrl.substring(jdbcUrl.indexOf('/', "jdbc:postgresql://".length()) + 1, databaseEnd())
                + SECONDARY_SUFFIX;
    }

    /**
     * This node with its secondary store's URL: the same id, credentials and pool, for tools that open the store. Not
     * fenced by epoch: the store is a database of its own, a logical copy, which a promotion does not concern.
     */
    public NodeConfig secondaryStore() {
        return toBuilder().jdbcUrl(secondaryStoreUrl()).epoch(0).build();
    }

    /** What a node's database name gets to name its secondary store. */
    public static final String SECONDARY_SUFFIX = "_secondary";

    /** Where the database name in the JDBC URL ends: at its parameters, or at the end. */
    private int databaseEnd() {
        int end = jdbcUrl.indexOf('?', jdbcUrl.indexOf('/', "jdbc:postgresql://".length()));
        return end < 0 ? jdbcUrl.length() : end;
    }


    /** Stored ring tokens, or null to have them allocated. */
    public long[] tokens() {
        return tokens == null ? null : tokens.clone();
    }

    @Override
    public String toString() {
        return "node " + id + " [" + maskUrl(jdbcUrl) + " user=" + user + " password=" + password + " weight=" + weight + " zone="
                + zone + (epoch == 0 ? "" : " epoch=" + epoch) + "]";
    }

    public static final class Builder {
        private final String id;
        private String jdbcUrl;
        private String user;
        private Secret password;
        private double weight = 1.0;
        private String zone;
        private PoolSettings pool = PoolSettings.DEFAULTS;
        private final List<String> standbys = new ArrayList<>();
        private long epoch;
        private long[] tokens;

        private Builder(String id) {
            io.shardring.router.ring.RingNode.of(id); // validates the id with a message naming it
            this.id = id;
        }

        public Builder jdbcUrl(String url) {
            this.jdbcUrl = checkUrl("jdbcUrl", url);
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** {@code ${ENV_VAR}}, {@code file:/path}, or a literal (tests only; it is never printed). */
        public Builder password(String reference) {
            this.password = Secret.of(reference);
            return this;
        }

        public Builder password(Secret secret) {
            this.password = secret;
            return this;
        }

        public Builder weight(double weight) {
            if (!(weight >= io.shardring.router.ring.RingNode.MIN_WEIGHT
                    && weight <= io.shardring.router.ring.RingNode.MAX_WEIGHT)) {
                throw new ConfigurationException("node '" + id + "': weight " + weight + " is invalid; use a number"
                        + " from " + io.shardring.router.ring.RingNode.MIN_WEIGHT + " to "
                        + io.shardring.router.ring.RingNode.MAX_WEIGHT + " (1.0 is the usual share)");
            }
            this.weight = weight;
            return this;
        }

        public Builder zone(String zone) {
            this.zone = zone;
            return this;
        }

        public Builder pool(PoolSettings pool) {
            this.pool = pool == null ? PoolSettings.DEFAULTS : pool;
            return this;
        }

        public Builder pool(Consumer<PoolSettings.Builder> settings) {
            PoolSettings.Builder b = pool.toBuilder();
            settings.accept(b);
            this.pool = b.build();
            return this;
        }

        public Builder standby(String jdbcUrl) {
            standbys.add(checkUrl("standbys", jdbcUrl));
            return this;
        }

        /** The node's epoch (see {@link NodeConfig#epoch()}): 0, the default, for a node not fenced by epoch. */
        public Builder epoch(long epoch) {
            if (epoch < 0) {
                throw new ConfigurationException("node '" + id + "': epoch " + epoch + " is invalid; use 0 (not"
                        + " fenced by epoch) or the positive epoch the node's primary records");
            }
            this.epoch = epoch;
            return this;
        }

        public Builder tokens(long... tokens) {
            this.tokens = tokens == null || tokens.length == 0 ? null : tokens.clone();
            return this;
        }

        private String checkUrl(String field, String url) {
            if (url == null || !url.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:")) {
                throw new ConfigurationException("node '" + id + "': " + field + " '" + maskUrl(url)
                        + "' is not a PostgreSQL JDBC URL; use jdbc:postgresql://host:port/database");
            }
            if (SECRET_IN_URL.matcher(url).find() || url.matches("(?i)jdbc:postgresql://[^/?]*@.*")) {
                throw new ConfigurationException("node '" + id + "': " + field + " carries a password; move it to the"
                        + " node's password field as ${ENV_VAR} or file:/path");
            }
            return url;
        }

        public NodeConfig build() {
            if (jdbcUrl == null) {
                throw new ConfigurationException("node '" + id + "' has no jdbcUrl; give jdbc:postgresql://host:port/db");
            }
            if (user == null || user.isBlank()) {
                throw new ConfigurationException("node '" + id + "' has no user; name the database role to connect as");
            }
            return new NodeConfig(this);
        }
    }

    /** A URL with any password-like parameter values replaced by {@code ****}, for messages. */
    public static String maskUrl(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("(?i)((?:password|sslpassword)=)[^&;]*", "$1****")
                .replaceAll("(//[^/@:]*:)[^/@]*@", "$1****@");
    }
}
