package io.shardring.examples.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.examples.operator.RebalanceExample;
import io.shardring.migration.plan.MoveJob;
import io.shardring.router.topology.Catalog;
import io.shardring.router.topology.Topology;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tenant DAO keeps working while an operator adds a shard, as {@link RebalanceExample} shows it: the application's
 * router follows the catalog, so the move is a pause inside its transactions. No DAO call fails, and after the move
 * every row is on its tenant's owner in the new ring, and only there, with every order that was acknowledged.
 */
@PgShards(4)
class TenantDaoRebalanceTest {

    @Test
    void theDaoNoticesNothingWhileTheExampleAddsAShard(PgCluster cluster) throws Exception {
        Printed printed = new Printed();
        RebalanceExample.Result r = RebalanceExample.run(cluster, printed.out);
        String out = printed.toString();

        assertThat(r.failedCalls()).as("DAO calls that failed during the move; printed:%n%s", out).isZero();
        assertThat(r.orders()).as("orders placed").isPositive();
        assertThat(r.added()).isEqualTo("shard3");
        assertThat(r.plan().jobs()).extracting(MoveJob::target).containsOnly("shard3");
        assertThat(r.plan().jobs()).extracting(MoveJob::source).isSubsetOf("shard0", "shard1", "shard2");
        int jobs = r.plan().jobs().size();
        assertThat(out)
                .contains("operator: plan add-node shard3 ")
                .contains(String.format(Locale.ROOT, "moves %.2f%% of the keyspace in %d jobs",
                        100 * r.plan().movedShare(), jobs))
                .contains("operator: move " + r.moveId() + " done, topology version " + r.fromVersion() + " -> "
                        + r.toVersion())
                .contains(r.orders() + " orders placed, 0 DAO calls failed")
                .contains("equals its acknowledged orders: yes");
        for (int job = 1; job <= jobs; job++) {
            for (String phase : new String[] {"prepare", "copy", "cutover", "verify", "cleanup"}) {
                assertThat(out).contains("move " + r.moveId() + " job " + job + " " + phase + " finished");
            }
        }
        assertThat(out.lines().filter(l -> l.contains(" rows outside its ranges")))
                .as("node lines before (3) and after (4) the move").hasSize(7)
                .allSatisfy(l -> assertThat(l).endsWith(" 0 rows outside its ranges"));

        // by plain SQL on every shard: each tenant's rows are on its owner in the catalog's newest ring, all of them
        Topology after = Catalog.open(cluster.shard(0).dataSource()).load();
        assertThat(after.version()).isEqualTo(r.toVersion());
        Map<Long, Long> cents = new HashMap<>();
        long customers = 0;
        long onAdded = 0;
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT tenant_id, 'customer', 1 FROM customers"
                            + " UNION ALL SELECT tenant_id, 'order', amount_cents FROM orders")) {
                while (rs.next()) {
                    long tenant = rs.getLong(1);
                    assertThat(after.ring().route(tenant).id()).as("owner of a %s row of tenant %s found on %s",
                            rs.getString(2), tenant, s.name()).isEqualTo(s.name());
                    if (rs.getString(2).equals("customer")) {
                        customers++;
                        onAdded += s.name().equals("shard3") ? 1 : 0;
                    } else {
                        cents.merge(tenant, rs.getLong(3), Long::sum);
                    }
                }
            }
        }
        assertThat(customers).as("customers on all shards").isEqualTo(RebalanceExample.TENANTS);
        assertThat(onAdded).as("tenants now on the added shard").isPositive();
        assertThat(cents).as("cents of each tenant's orders on all shards").isEqualTo(r.placedCents());
    }
}
