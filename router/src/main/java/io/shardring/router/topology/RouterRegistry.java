package io.shardring.router.topology;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The routers that follow the catalog ({@code shardring.routers}): each reports the topology version it routes by,
 * and its watcher refreshes the row while it runs. The mover reads it before deleting moved rows on their old owner:
 * a router still on an older version reads there. Ages are measured by the catalog's clock only, so the routers'
 * clocks do not matter; a router that stopped reporting ages out and no longer counts.
 */
public final class RouterRegistry {
    /** One router as the catalog last heard of it. */
    public static final class Entry {
        public final String id;
        public final String host;
        public final long pid;
        public final long version;
        /** Milliseconds since the router last reported, by the catalog's clock. */
        public final long silentMillis;

        Entry(String id, String host, long pid, long version, long silentMillis) {
            this.id = id;
            this.host = host;
            this.pid = pid;
            this.version = version;
            this.silentMillis = silentMillis;
        }

        @Override
        public String toString() {
            return host + " pid " + pid + " at version " + version + " (last seen " + silentMillis + " ms ago)";
        }
    }

    private final DataSource catalog;

    public RouterRegistry(DataSource catalog) {
        this.catalog = catalog;
    }

    /** Records (or refreshes) a router and the version it routes by. */
    public void report(String id, String host, long pid, long version) {
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO"
                + " shardring.routers (id, host, pid, version) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                + " version = EXCLUDED.version, last_seen = now()")) {
            ps.setString(1, id);
            ps.setString(2, host);
            ps.setLong(3, pid);
            ps.setLong(4, version);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw Catalog.error("report router " + id, e);
        }
    }

    /** Removes a router that closes. */
    public void remove(String id) {
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM shardring.routers WHERE id = ?")) {
            ps.setString(1, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw Catalog.error("remove router " + id, e);
        }
    }

    /** Every router the catalog knows, most recently seen first. */
    public List<Entry> list() {
        return query("SELECT id, host, pid, version, (extract(epoch FROM now() - last_seen) * 1000)::bigint"
                + " FROM shardring.routers ORDER BY last_seen DESC", null, -1);
    }

    /**
     * Routers heard from within {@code grace} that route by a version older than {@code version}: reads through
     * them still go to the old owners.
     */
    public List<Entry> behind(long version, Duration grace) {
        return query("SELECT id, host, pid, version, (extract(epoch FROM now() - last_seen) * 1000)::bigint"
                + " FROM shardring.routers WHERE version < ? AND last_seen > now() - make_interval(secs => ?)"
                + " ORDER BY version, host", grace, version);
    }

    /** Forgets routers silent for longer than {@code age} (crashed processes); returns how many. */
    public int forgetSilent(Duration age) {
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM shardring.routers WHERE last_seen < now() - make_interval(secs => ?)")) {
            ps.setDouble(1, age.toMillis() / 1000.0);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw Catalog.error("forget silent routers", e);
        }
    }

    private List<Entry> query(String sql, Duration grace, long version) {
        List<Entry> out = new ArrayList<>();
        try (Connection c = catalog.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (grace != null) {
                ps.setLong(1, version);
                ps.setDouble(2, grace.toMillis() / 1000.0);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Entry(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
                }
            }
        } catch (SQLException e) {
            throw new ShardringException(ErrorCode.SHARD_ERROR, "cannot read the routers from the catalog: "
                    + e.getMessage(), e);
        }
        return out;
    }
}
