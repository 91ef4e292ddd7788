package io.shardring.router.jdbc;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Logger;
import javax.sql.DataSource;

/** Routes {@code getConnection()} by the shard key bound to the thread with {@link ShardContext}. */
final class ContextBoundDataSource implements DataSource {
    private final Function<Object, DataSource> route;
    private final RouterMetrics metrics;
    private int loginTimeout;
    private PrintWriter logWriter;

    /** {@code route}: the data source of a key's primary. */
    ContextBoundDataSource(Function<Object, DataSource> route, RouterMetrics metrics) {
        this.route = route;
        this.metrics = metrics;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Object key = ShardContext.currentKey();
        if (key == null) {
            metrics.noKey.increment();
            throw new ShardringException(ErrorCode.NO_KEY_BOUND, "no shard key is bound to this thread"
                    + caller().map(c -> " for " + c).orElse("") + ", so the router cannot choose a shard; bind the"
                    + " tenant: a @ShardKey parameter or @ShardedBy(\"#tenantId\") on the method (Spring Boot"
                    + " starter), ShardContext.runWithKey(tenantId, () -> ...), or shardedDataSource.forKey(tenantId)");
        }
        return route.apply(key).getConnection();
    }

    /** Frames that are not the application's: ours (the starter's advice only), the JDK's and frameworks'. */
    private static final List<String> FRAMEWORK = List.of("io.shardring.router.",
            "io.shardring.spring.ShardKeyAdvisor", "io.shardring.spring.ShardedTransactionManager", "java.", "javax.",
            "jdk.", "sun.", "org.springframework.", "org.jooq.", "com.zaxxer.", "org.postgresql.", "org.flywaydb.",
            "io.micrometer.", "org.hibernate.", "jakarta.", "org.apache.");

    /** The application's method that asked for the connection: the first frame outside frameworks and proxies. */
    static Optional<String> caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> FRAMEWORK.stream().noneMatch(f.getClassName()::startsWith)
                        && !f.getClassName().contains("$$"))
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber()
                        + ")"));
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("shard pools connect as the configured user; use getConnection()");
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
