package io.shardring.router.schema;

import io.shardring.router.ConfigurationException;
import io.shardring.router.StaleEpochException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The epoch a node's database records ({@code shardring.node_epoch}, shard migration V8) and the check that refuses a
 * server whose epoch is not its topology's. Routers and tools run the check once per connection, when their pool opens
 * it ({@link #checkSql}), never per statement; a refusal (SQLSTATE {@value StaleEpochException#SQLSTATE}) becomes a
 * {@link StaleEpochException} naming the server's epoch and the topology's ({@link #refusal}).
 */
public final class NodeEpoch {
    /** The first words of {@code shardring.check_epoch}'s message. */
    private static final Pattern SERVER_EPOCH = Pattern.compile("server at epoch (\\d+)");
    private static final String UNDEFINED_FUNCTION = "42883";

    private NodeEpoch() {
    }

    /**
     * The statement that checks a new connection to a node of epoch {@code epoch}, for a pool's connection init SQL;
     * null for epoch 0, a node not fenced by epoch, which then costs nothing.
     */
    public static String checkSql(long epoch) {
        if (epoch < 0) {
            throw new ConfigurationException("epoch " + epoch + " is invalid; an epoch is 0 or positive");
        }
        return epoch == 0 ? null : "SELECT shardring.check_epoch(" + Long.toString(epoch) + ")";
    }

    /**
     * Records {@code epoch} as the database's epoch, in the caller's transaction: what a promotion writes into the
     * promoted server before the catalog publishes a topology whose node carries that epoch.
     */
    public static void record(Connection c, long epoch) throws SQLException {
        if (epoch < 0) {
            throw new ConfigurationException("epoch " + epoch + " is invalid; an epoch is 0 or positive");
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.node_epoch (epoch) VALUES (?)"
                + " ON CONFLICT (singleton) DO UPDATE SET epoch = EXCLUDED.epoch, recorded_at = now()")) {
            ps.setLong(1, epoch);
            ps.executeUpdate();
        }
    }

    /** The epoch the database records: 0 when it records none (never promoted, or a schema older than V8). */
    public static long read(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT to_regclass('shardring.node_epoch') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT epoch FROM shardring.node_epoch")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * Checks that the server behind {@code c} records the epoch {@code expected} (nothing to check for 0).
     *
     * @param server the server as messages name it, e.g. {@code node pg-b (db-b:5432)}
     * @throws StaleEpochException when it records another epoch
     */
    public static void check(Connection c, String nodeId, String server, long expected) throws SQLException {
        String sql = checkSql(expected);
        if (sql == null) {
            return;
        }
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            StaleEpochException refused = refusal(e, nodeId, server, expected);
            if (refused != null) {
                throw refused;
            }
            throw e;
        }
    }

    /**
     * The failure {@code e} (a pool's timeout whose cause is the check's error, or the check's error itself) as the
     * refusal of a server on another epoch; null when it is not one.
     *
     * @param server the server as messages name it, e.g. {@code shard pg-b-standby-0}
     * @param expected the topology's epoch of the node
     */
    public static StaleEpochException refusal(Throwable e, String nodeId, String server, long expected) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (!(t instanceof SQLException sql)) {
                continue;
            }
            if (StaleEpochException.SQLSTATE.equals(sql.getSQLState())) {
                Matcher m = SERVER_EPOCH.matcher(String.valueOf(sql.getMessage()));
                long recorded = m.find() ? Long.parseLong(m.group(1)) : -1;
                return new StaleEpochException(nodeId, recorded, expected, message(server, recorded, expected), e);
            }
            if (UNDEFINED_FUNCTION.equals(sql.getSQLState()) && expected > 0
                    && String.valueOf(sql.getMessage()).contains("check_epoch")) {
                // a shardring schema older than V8 records no epoch: epoch 0, which a promotion never leaves
                return new StaleEpochException(nodeId, 0, expected, message(server, 0, expected)
                        + " (its shardring schema predates the epoch, shard migration V8)", e);
            }
        }
        return null;
    }

    private static String message(String server, long recorded, long expected) {
        String at = server + ": server at epoch " + (recorded < 0 ? "?" : Long.toString(recorded))
                + ", the topology says " + expected;
        if (recorded >= 0 && recorded > expected) {
            return at + ": the server was promoted after this topology was published; routers catch up from the"
                    + " catalog, and a tool should be run again to load its newest topology";
        }
        return at + ": an old primary, replaced by a promoted standby — fenced: routers and tools refuse it. Make"
                + " the node's JDBC URL reach the promoted server; rebuild this one as a standby of it, or retire it";
    }
}
