package io.shardring.router.schema;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.StaleTopologyException;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyHash;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Who may write past the ownership guard: a session of a role that is a member of {@code shardring_mover} (and a
 * superuser) with {@code shardring.bypass_guard} set; an application role that sets the same setting is refused.
 */
@PgShards(1)
class GuardBypassTest {
    private static PgShard shard;

    @BeforeAll
    static void guardedShardOwningOneKey(PgCluster cluster) throws SQLException {
        shard = cluster.shard(0);
        NodeConfig.Builder n = NodeConfig.builder("shard0").jdbcUrl(shard.jdbcUrl()).user(shard.user());
        if (shard.password() != null && !shard.password().isEmpty()) {
            n.password(shard.password());
        }
        Topology t = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT)).table("customers", "tenant_id")
                .node(n.build()).build();
        try (ShardedDataSource router = ShardedDataSource.builder(t).build()) {
            ShardedFlyway.configure(router).load().migrate().orThrow();
        }
        long h = KeyHash.ofLong(1);
        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            OwnershipGuard.setOwnedRanges(c, "shard0", 2, KeyType.BIGINT, List.of(new TokenRange(h - 1, h)));
            c.commit();
            c.setAutoCommit(true);
            for (String role : List.of("app_plain", "tool_member")) {
                s.execute("DROP ROLE IF EXISTS " + role);
                s.execute("CREATE ROLE " + role + " LOGIN");
                s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO " + role);
            }
            s.execute("GRANT shardring_mover TO tool_member");
        }
    }

    @AfterAll
    static void dropRoles() throws SQLException {
        try (Connection c = shard.connect(); Statement s = c.createStatement()) {
            for (String role : List.of("app_plain", "tool_member")) {
                s.execute("DROP OWNED BY " + role);
                s.execute("DROP ROLE " + role);
            }
        }
    }

    private static SQLException insertNotOwned(String role, boolean bypass) throws SQLException {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(shard.jdbcUrl());
        ds.setUser(role);
        if (role.equals(shard.user()) && shard.password() != null) {
            ds.setPassword(shard.password());
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); PreparedStatement ps =
                c.prepareStatement("INSERT INTO customers (tenant_id, name) VALUES (2, 'not owned')")) {
            if (bypass) {
                s.execute("SET shardring.bypass_guard = on");
            }
            ps.executeUpdate();
            return null;
        } catch (SQLException e) {
            return e;
        }
    }

    @Test
    void anApplicationRoleCannotBypassTheGuardBySettingTheSetting() throws SQLException {
        SQLException e = insertNotOwned("app_plain", true);
        assertThat((Object) e).as("an application's write to a key the shard does not own").isNotNull();
        assertThat(e.getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE);
    }

    @Test
    void aMemberOfShardringMoverBypassesItOnlyWithTheSetting() throws SQLException {
        assertThat((Object) insertNotOwned("tool_member", true)).as("the tool's role with the setting").isNull();
        SQLException without = insertNotOwned("tool_member", false);
        assertThat((Object) without).as("the tool's role without the setting").isNotNull();
        assertThat(without.getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE);
    }

    @Test
    void aSuperuserIsAMemberOfEveryRole() throws SQLException {
        assertThat((Object) insertNotOwned(shard.user(), true)).isNull();
    }
}
