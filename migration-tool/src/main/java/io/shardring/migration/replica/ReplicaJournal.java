package io.shardring.migration.replica;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardring.router.ring.ReplicaLayout;
import io.shardring.router.topology.Catalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog's record of the replica pieces ({@code shardring.replica_pieces}) and of every step a sync took
 * ({@code shardring.replica_journal}): what a sync that stopped finds when it is run again.
 */
final class ReplicaJournal {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaJournal.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Catalog catalog;
    private final long version;

    /** Journals for the sync with topology {@code version}. */
    ReplicaJournal(Catalog catalog, long version) {
        this.catalog = catalog;
        this.version = version;
    }

    /** Every piece, in the order they were created. */
    List<ReplicaPlan.Piece> pieces() throws SQLException {
        List<ReplicaPlan.Piece> out = new ArrayList<>();
        try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, primary_node, secondary_node, intervals, state = 'seeding'"
                        + " FROM shardring.replica_pieces ORDER BY id")) {
            while (rs.next()) {
                out.add(new ReplicaPlan.Piece(rs.getLong(1), rs.getString(2), rs.getString(3), parse(rs.getString(4)),
                        rs.getBoolean(5)));
            }
        }
        return out;
    }

    /** Records a new piece of {@code link}, seeding {@code intervals}. */
    ReplicaPlan.Piece addSeeding(ReplicaLayout.Link link, List<long[]> intervals) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.replica_pieces (primary_node, secondary_node, intervals, state,"
                        + " topology_version) VALUES (?, ?, ?, 'seeding', ?) RETURNING id")) {
            ps.setString(1, link.primary());
            ps.setString(2, link.secondary());
            ps.setString(3, json(intervals));
            ps.setLong(4, version);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new ReplicaPlan.Piece(rs.getLong(1), link.primary(), link.secondary(), intervals, true);
            }
        }
    }

    void ready(ReplicaPlan.Piece p) throws SQLException {
        update("UPDATE shardring.replica_pieces SET state = 'ready', updated_at = now() WHERE id = ?", p.id());
    }

    /** The piece carries {@code intervals} from now on. */
    void narrowed(ReplicaPlan.Piece p, List<long[]> intervals) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE shardring.replica_pieces SET intervals = ?, topology_version = ?, updated_at = now()"
                        + " WHERE id = ?")) {
            ps.setString(1, json(intervals));
            ps.setLong(2, version);
            ps.setLong(3, p.id());
            ps.executeUpdate();
        }
    }

    void dropped(ReplicaPlan.Piece p) throws SQLException {
        update("DELETE FROM shardring.replica_pieces WHERE id = ?", p.id());
    }

    /** Journals a step of the sync ({@code piece} null for one of the whole sync); a failure to do so is logged. */
    void step(ReplicaPlan.Piece piece, String step, String detail) {
        Long id = piece == null ? null : piece.id();
        LOG.info("replicas {} {}: {}", step, piece == null ? "" : piece.name(), detail);
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO shardring.replica_journal (topology_version, piece, step, detail) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, version);
            ps.setObject(2, id, Types.BIGINT);
            ps.setString(3, step);
            ps.setString(4, detail);
            ps.executeUpdate();
        } catch (SQLException e) {
            LOG.warn("cannot journal replicas step {}: {}", step, e.getMessage());
        }
    }

    private void update(String sql, long id) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }

    static String json(List<long[]> intervals) {
        try {
            return JSON.writeValueAsString(intervals);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<long[]> parse(String json) {
        try {
            return new ArrayList<>(Arrays.asList(JSON.readValue(json, long[][].class)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
