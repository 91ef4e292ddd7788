package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shardring.migration.plan.Plan;
import io.shardring.router.ShardringException;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The foreign keys of moved rows are checked on the target before the cutover: the copy and the subscription write
 * there with triggers off, so PostgreSQL itself never checks them, and still marks the constraint as validated.
 */
@PgShards(2)
class IntegrityCheckTest {

    @Test
    void rowsWhoseReferencedRowsAreMissingOnTheTargetStopTheJobBeforeItsCutover(PgCluster cluster) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 1)) {
            f.workload.start(2);
            f.workload.awaitOps(200);
            Plan plan = f.addShard(1);
            // the target's notes reference a table that holds none of the moved tenants: a broken reference there
            Throwable stopped = catchThrowable(() -> f.mover((m, j, phase, event, d, r, l) -> {
                if (phase.equals("prepare") && event.equals("finished")) {
                    sql(cluster, 1, "CREATE TABLE allowed_tenants (id bigint PRIMARY KEY);"
                            + " ALTER TABLE notes ADD CONSTRAINT notes_tenant_allowed FOREIGN KEY (tenant_id)"
                            + " REFERENCES allowed_tenants (id)");
                }
            }).execute(plan));
            assertThat(stopped).isInstanceOf(ShardringException.class)
                    .hasMessageContaining("job 1 (shard0 -> shard1) stopped before its cutover")
                    .hasMessageContaining("foreign key notes_tenant_allowed of public.notes (tenant_id) ->"
                            + " public.allowed_tenants: e.g. the row with tenant_id = ")
                    .hasMessageContaining("Nothing was fenced; shard0 still owns the keys");
            // PostgreSQL itself still calls the constraint validated
            assertThat(query(cluster, 1, "SELECT convalidated::text FROM pg_constraint WHERE conname ="
                    + " 'notes_tenant_allowed'")).isEqualTo("true");
            assertThat(query(cluster, 0, "SELECT phase FROM shardring.move_jobs")).isEqualTo("check");
            assertThat(f.catalog.version()).as("nothing published").isEqualTo(1);
            long before = f.workload.ops();
            f.workload.awaitOps(before + 100);
            assertThat(f.workload.exceptions()).as("the application saw nothing").isZero();

            // the referenced rows made to exist: resume checks again and finishes the move
            sql(cluster, 1, "INSERT INTO allowed_tenants SELECT g FROM generate_series(0, 100000) g");
            f.mover(MoveListener.NONE).resume();
            assertThat(f.catalog.version()).isEqualTo(2);
            f.workload.stop();
            f.checkEverything();
            assertThat(f.workload.exceptions()).isZero();
        }
    }

    static void sql(PgCluster cluster, int shard, String sql) {
        try (Connection c = cluster.shard(shard).connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static String query(PgCluster cluster, int shard, String sql) throws SQLException {
        try (Connection c = cluster.shard(shard).connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
