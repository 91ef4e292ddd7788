package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.time.Duration;

/**
 * HikariCP settings for one node's pool. Defaults are HikariCP's, except a connection timeout of 5 s:
 * a router should fail over or fail fast rather than wait HikariCP's 30 s for one shard.
 */
public final class PoolSettings {
    public static final PoolSettings DEFAULTS = builder().build();

    private final int maximumPoolSize;
    private final int minimumIdle;
    private final Duration connectionTimeout;
    private final Duration idleTimeout;
    private final Duration maxLifetime;
    private final Duration validationTimeout;

    private PoolSettings(Builder b) {
        this.maximumPoolSize = b.maximumPoolSize;
        this.minimumIdle = b.minimumIdle; // -1: follow maximumPoolSize
        this.connectionTimeout = b.connectionTimeout;
        this.idleTimeout = b.idleTimeout;
        this.maxLifetime = b.maxLifetime;
        this.validationTimeout = b.validationTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maximumPoolSize = maximumPoolSize;
        b.minimumIdle = minimumIdle;
        b.connectionTimeout = connectionTimeout;
        b.idleTimeout = idleTimeout;
        b.maxLifetime = maxLifetime;
        b.validationTimeout = validationTimeout;
        return b;
    }

    public int maximumPoolSize() {
        return maximumPoolSize;
    }

    /** Idle connections kept; maximumPoolSize unless set (a fixed-size pool, as HikariCP recommends). */
    public int minimumIdle() {
        return minimumIdle < 0 ? maximumPoolSize : minimumIdle;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration maxLifetime() {
        return maxLifetime;
    }

    public Duration validationTimeout() {
        return validationTimeout;
    }

    @Override
    public String toString() {
        return "pool(max=" + maximumPoolSize + ", minIdle=" + minimumIdle() + ", connectionTimeout=" + connectionTimeout
                + ")";
    }

    public static final class Builder {
        private int maximumPoolSize = 10;
        private int minimumIdle = -1;
        private Duration connectionTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofMinutes(10);
        private Duration maxLifetime = Duration.ofMinutes(30);
        private Duration validationTimeout = Duration.ofSeconds(5);

        private Builder() {
        }

        public Builder maximumPoolSize(int n) {
            if (n < 1) {
                throw new ConfigurationException("pool.maximumPoolSize " + n + " is below 1; use 1 or more");
            }
            this.maximumPoolSize = n;
            return this;
        }

        /** Idle connections kept; defaults to maximumPoolSize (a fixed-size pool, as HikariCP recommends). */
        public Builder minimumIdle(int n) {
            if (n < 0) {
                throw new ConfigurationException("pool.minimumIdle " + n + " is negative; use 0 or more");
            }
            this.minimumIdle = n;
            return this;
        }

        public Builder connectionTimeout(Duration d) {
            this.connectionTimeout = atLeast("pool.connectionTimeout", d, Duration.ofMillis(250));
            return this;
        }

        public Builder idleTimeout(Duration d) {
            this.idleTimeout = atLeast("pool.idleTimeout", d, Duration.ZERO);
            return this;
        }

        public Builder maxLifetime(Duration d) {
            this.maxLifetime = atLeast("pool.maxLifetime", d, Duration.ofSeconds(30));
            return this;
        }

        public Builder validationTimeout(Duration d) {
            this.validationTimeout = atLeast("pool.validationTimeout", d, Duration.ofMillis(250));
            return this;
        }

        private static Duration atLeast(String name, Duration d, Duration min) {
            if (d == null || d.compareTo(min) < 0) {
                throw new ConfigurationException(name + " " + d + " is below the minimum " + min);
            }
            return d;
        }

        public PoolSettings build() {
            if (minimumIdle > maximumPoolSize) {
                throw new ConfigurationException("pool.minimumIdle " + minimumIdle + " exceeds pool.maximumPoolSize "
                        + maximumPoolSize + "; lower minimumIdle or raise maximumPoolSize");
            }
            return new PoolSettings(this);
        }
    }
}
