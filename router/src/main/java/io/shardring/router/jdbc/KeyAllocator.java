package io.shardring.router.jdbc;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.Failures;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.KeyType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * New shard keys for a router: a router must know a new tenant's key before it can pick the tenant's shard, so the key
 * cannot come from a sequence on the shards. It comes from one sequence in the catalog's database (named in
 * {@code shardring.key_allocator}: for an adopted database, the tenants table's own sequence, so that clients not yet
 * switched to the router keep drawing from it without collisions), taken {@code block} values at a time as Hibernate's
 * pooled optimizer and Vitess's sequence tables do: one round trip to the catalog per block.
 */
final class KeyAllocator {
    private static final String DRAW = "SELECT nextval(a.sequence_name::regclass) FROM shardring.key_allocator a,"
            + " generate_series(1, ?) ORDER BY 1";

    private final DataSource catalog;
    private final KeyType keyType;
    private final int block;
    private long[] keys = new long[0];
    private int next;

    KeyAllocator(DataSource catalog, KeyType keyType, int block) {
        if (block < 1 || block > 100_000) {
            throw new ConfigurationException("keyBlock " + block + " is out of range 1..100000; 100 is the usual");
        }
        this.catalog = catalog;
        this.keyType = keyType;
        this.block = block;
    }

    synchronized long next() {
        if (next == keys.length) {
            keys = draw();
            next = 0;
        }
        return keys[next++];
    }

    private long[] draw() {
        if (keyType != KeyType.BIGINT && keyType != KeyType.INTEGER) {
            throw new ConfigurationException("newKey() makes integer keys, but the ring's key type is "
                    + keyType.sqlType() + "; make " + keyType.sqlType() + " keys in the application (for uuid:"
                    + " io.shardring.router.ids.Ids.uuidV7())");
        }
        long[] out = new long[block];
        int n = 0;
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement(DRAW)) {
            ps.setInt(1, block);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out[n++] = rs.getLong(1);
                }
            }
        } catch (SQLException e) {
            if (Failures.isConnectionFailure(e)) {
                throw new ShardUnavailableException("catalog", "cannot draw new keys: the catalog cannot be reached ("
                        + e.getMessage() + ")", e);
            }
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot draw new keys from the catalog's key"
                    + " sequence: " + e.getMessage() + " (the router's role needs USAGE on the sequence named in"
                    + " shardring.key_allocator)", e);
        }
        if (n == 0) {
            throw new ConfigurationException("the catalog has no key allocator (shardring.key_allocator is empty):"
                    + " run `shardring init` or `shardring adopt` with this version of shardring, which records it");
        }
        if (keyType == KeyType.INTEGER && out[n - 1] > Integer.MAX_VALUE) {
            throw new ShardringException(ErrorCode.RING_CONSTRAINT, "the key sequence has passed "
                    + Integer.MAX_VALUE + ", the largest integer key; the ring's key type is integer");
        }
        return n == block ? out : java.util.Arrays.copyOf(out, n);
    }
}
