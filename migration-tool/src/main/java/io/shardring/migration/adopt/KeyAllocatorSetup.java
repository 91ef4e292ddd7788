package io.shardring.migration.adopt;

import io.shardring.router.Sql;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.SequenceRanges;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;

/**
 * Records the sequence that routers draw new shard keys from ({@code shardring.key_allocator} in the catalog, read by
 * {@code ShardedDataSource.newKey()}). For an adopted database it is the sequence that fills the tenants table's own
 * key column (advanced past every key in use), so that the application's clients that are not on the router yet keep
 * drawing from the same sequence and no key is given twice; otherwise a sequence {@code shardring.new_keys} in the
 * catalog's database, starting above every key in use on every node.
 */
public final class KeyAllocatorSetup {
    static final String OWN_SEQUENCE = "shardring.new_keys";

    private KeyAllocatorSetup() {
    }

    /**
     * The key sequence's name, recording one if the catalog has none yet.
     *
     * @param catalog    the catalog's database
     * @param startAbove a new sequence starts above this and above every key of the sharded tables in the catalog's
     *                   database (the caller gives the highest key on the other nodes)
     * @return the sequence's name, or a sentence saying why there is none (keys that are not integers)
     */
    public static String ensure(DataSource catalog, Topology topology, long startAbove) throws SQLException {
        return ensure(catalog, topology, startAbove, false);
    }

    /**
     * Like {@link #ensure(DataSource, Topology, long)}; with {@code tenantSequence} (an adopted database, which holds
     * every key) the sequence that fills a sharded table's key column is the key sequence, advanced past the highest
     * key when it is behind (an application that gave some keys itself).
     */
    public static String ensure(DataSource catalog, Topology topology, long startAbove, boolean tenantSequence)
            throws SQLException {
        KeyType keyType = topology.ring().keyType();
        try (Connection c = catalog.getConnection()) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT sequence_name FROM shardring.key_allocator")) {
                if (rs.next()) {
                    return rs.getString(1);
                }
            }
            if (keyType != KeyType.BIGINT && keyType != KeyType.INTEGER) {
                return "nowhere: " + keyType.sqlType() + " keys are made by the application";
            }
            String name = null;
            for (SequenceRanges.Fed f : tenantSequence ? SequenceRanges.find(c, topology.tables())
                    : List.<SequenceRanges.Fed>of()) {
                for (SequenceRanges.Column col : f.columns()) {
                    for (ShardedTable t : topology.tables()) {
                        if (name == null && t.schema().equals(col.schema()) && t.name().equals(col.table())
                                && t.keyColumn().equals(col.column())) {
                            name = f.quotedName();
                        }
                    }
                }
            }
            long max = Math.max(startAbove, maxKey(c, topology));
            if (name != null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?) WHERE ? >="
                        + " (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM " + name + ")")) {
                    ps.setString(1, name);
                    ps.setLong(2, max);
                    ps.setLong(3, max);
                    ps.executeQuery().close();
                }
            }
            if (name == null) {
                long start = max + 1;
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE SEQUENCE IF NOT EXISTS " + OWN_SEQUENCE + " AS bigint START WITH "
                            + Math.max(1, start));
                }
                name = OWN_SEQUENCE;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shardring.key_allocator (sequence_name)"
                    + " VALUES (?) ON CONFLICT (singleton) DO NOTHING")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
            return name;
        }
    }

    /** The highest key of the sharded tables on the connection's database, 0 when none. */
    public static long maxKey(Connection c, Topology topology) throws SQLException {
        long max = 0;
        for (ShardedTable t : topology.tables()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                ps.setString(1, t.quotedName());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        continue;
                    }
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max("
                    + Sql.quote(t.keyColumn()) + "), 0) FROM " + t.quotedName())) {
                rs.next();
                max = Math.max(max, rs.getLong(1));
            }
        }
        return max;
    }
}
