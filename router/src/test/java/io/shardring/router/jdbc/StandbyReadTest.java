package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.ShardUnavailableException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.schema.ShardedFlyway;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgStandby;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The router's standby read path against a real physical standby: a read that allows copies goes to the node's
 * standby once the router has sampled its lag, and sees what was committed on the primary within its bound.
 */
class StandbyReadTest {

    private static final ReadPreference WITHIN_5_S = ReadPreference.secondary().maxStaleness(Duration.ofSeconds(5));

    @Test
    void secondaryReadsGoToTheStandbyAndSeeThePrimarysRows() throws Exception {
        try (PgCluster cluster = PgCluster.builder().shards(1).standbys(1).start()) {
            assumeTrue(cluster.canCrashShards(), "standbys need the embedded backend, this is " + cluster.backend());
            PgStandby standby = cluster.standbys(0).get(0);
            Topology topology = Topology.builder().version(1).ring(RingSettings.of(KeyType.BIGINT))
                    .table("customers", "tenant_id")
                    .node(Shards.node(cluster.shard(0)).standby(standby.jdbcUrl()).build()).build();
            try (ShardedDataSource shards = ShardedDataSource.builder(topology)
                    .meterRegistry(new SimpleMeterRegistry()).build()) {
                ShardedFlyway.configure(shards).load().migrate().orThrow(); // also the heartbeat table
                long tenant = 42;
                shards.withConnection(tenant, c -> {
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO customers (tenant_id, name) VALUES (?, 'on the primary')")) {
                        ps.setLong(1, tenant);
                        return ps.executeUpdate();
                    }
                });

                // the first reads fail until a heartbeat has reached the standby and the router sampled it there
                Shards.await("a " + WITHIN_5_S + " read of tenant " + tenant + " on " + standby + " sees its row",
                        Duration.ofSeconds(30), () -> {
                            try {
                                return readOnStandby(shards, tenant) == 1;
                            } catch (ShardUnavailableException notSampledYet) {
                                return false;
                            }
                        });
            }
        }
    }

    /** The tenant's rows as the read sees them, after checking that the read ran on a standby. */
    private static long readOnStandby(ShardedDataSource shards, long tenant) {
        return shards.read(tenant, WITHIN_5_S, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT pg_is_in_recovery(), (SELECT count(*) FROM customers WHERE tenant_id = " + tenant + ")")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("pg_is_in_recovery() where the read ran").isTrue();
                return rs.getLong(2);
            }
        });
    }
}
