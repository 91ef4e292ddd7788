package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shardring.migration.plan.Plan;
import io.shardring.router.ShardringException;
import io.shardring.router.ring.HashIntervals;
import io.shardring.router.schema.OwnershipGuard;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShards;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mover as a real process, killed with SIGKILL in the middle of a phase (no finally block runs, no lock is
 * released but by the server noticing the dead connection), while writers keep writing; then resume, or abort,
 * from that point. Nothing acknowledged is lost, no replication is left behind.
 */
@PgShards(4)
class MoverKillTest {

    /** Where the child stops: phase/event/job[/detail suffix]. */
    private static final String MID_COPY = "copy/progress/0/public.events copied";
    private static final String FENCED = "cutover/fenced/0";
    private static final String TARGET_OWNS = "cutover/target-owns/0";
    private static final String MID_CLEANUP = "cleanup/progress/0";

    /**
     * Mid-copy and after the target owns the ranges with resume and with abort, after the fence with abort on the
     * second PostgreSQL major (the pg15 run, with mid-copy resume); the other kill points' in-process twins run in
     * CrashResumeTest (resume after the fence and in the cleanup, abort after a cutover). The whole suite must stay
     * under 15 minutes.
     */
    static Stream<Arguments> points() {
        if (System.getProperty("shardring.test.pgBinaries") != null) {
            // on the second major the phases whose PostgreSQL side differs most between majors: the copy with its
            // slot and subscription, and the fence (the whole suite must stay under 15 minutes)
            return Stream.of(Arguments.of(MID_COPY, "resume"), Arguments.of(FENCED, "abort"));
        }
        List<Arguments> out = new ArrayList<>();
        for (String point : List.of(MID_COPY, TARGET_OWNS)) {
            out.add(Arguments.of(point, "resume"));
            out.add(Arguments.of(point, "abort"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "SIGKILL at {0}, then {1}")
    @MethodSource("points")
    void killedMidPhaseThenResumedOrAbortedLosesNothing(String point, String then, PgCluster cluster,
            @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        try (MoveFixture f = new MoveFixture(cluster, 3)) {
            f.workload.start(4);
            f.workload.awaitOps(600);
            Plan plan = f.addShard(3);
            assertThat(plan.jobs()).hasSize(3);
            // prepared in this process (Flyway in a cold JVM takes seconds); the child process goes on from the copy
            Throwable stopped = catchThrowable(() -> f.mover(CrashResumeTest.crashAt("copy", "started", 0))
                    .execute(plan));
            assertThat(stopped).hasMessageContaining("simulated crash");
            long moveId = f.mover(MoveListener.NONE).running().orElseThrow().id;

            Path log = tmp.resolve("mover.log");
            Process child = MoverProcess.start(f, moveId, point, log);
            String at = awaitPoint(child, point, log);
            assertThat(at).startsWith("AT " + point);
            if (point.equals(FENCED)) {
                // the child holds the move: a second process may not abort or resume it meanwhile
                assertThatThrownBy(() -> f.impatientMover().abort(moveId)).isInstanceOf(ShardringException.class)
                        .hasMessageContaining("another shardring process");
                assertThatThrownBy(() -> f.impatientMover().resume()).isInstanceOf(ShardringException.class)
                        .hasMessageContaining("another shardring process");
            }
            long rowsAtKill = Long.parseLong(at.substring(at.indexOf("rows=") + 5));
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertStateAfterKill(f, point, rowsAtKill);

            // right after the kill, as an operator would: the killed process's catalog session may still hold the
            // move for a moment, which the mover's lock wait absorbs
            Mover mover = f.mover(MoveListener.NONE);
            if (then.equals("resume")) {
                mover.resume();
            } else {
                mover.abort(moveId);
            }

            f.workload.awaitOps(f.workload.ops() + 300);
            f.workload.stop();
            assertThat(mover.running()).isEmpty();
            boolean moved = then.equals("resume") || point.equals(MID_CLEANUP);
            if (moved) {
                assertThat(f.catalog.load().ring().stats().shares().get("shard3"))
                        .isCloseTo(0.25, Offset.offset(0.02));
            } else {
                assertThat(f.catalog.version()).isEqualTo(1);
                assertThat(f.catalog.load().nodes()).doesNotContainKey("shard3");
                assertThat(count(cluster, 3, "SELECT count(*) FROM events") + count(cluster, 3,
                        "SELECT count(*) FROM notes")).as("rows left on the abandoned target").isZero();
            }
            f.checkEverything();
            CrashResumeTest.assertNoReplicationLeft(cluster);
        }
    }

    /** What the journal and the shards say right after the kill, before anyone resumes. */
    private static void assertStateAfterKill(MoveFixture f, String point, long rowsAtKill) throws SQLException {
        List<JobState> jobs = new MoveJournal(f.catalog).jobs(f.mover(MoveListener.NONE).running().orElseThrow().id);
        JobState job0 = jobs.get(0);
        switch (point) {
            case MID_COPY:
                assertThat(rowsAtKill).as("rows of events that had reached the target when it was killed")
                        .isPositive();
                assertThat(job0.phase).isEqualTo(Phase.COPY);
                assertThat(count(f.cluster, 3, "SELECT count(*) FROM events")).as("committed on the target")
                        .isZero();
                break;
            case FENCED:
            case TARGET_OWNS:
                assertThat(job0.phase).isEqualTo(Phase.CUTOVER);
                assertThat(f.catalog.version()).as("nothing published yet").isEqualTo(1);
                try (Connection c = f.cluster.shard(3).connect()) {
                    List<long[]> owned = HashIntervals.of(OwnershipGuard.readOwned(c));
                    assertThat(HashIntervals.same(HashIntervals.minus(HashIntervals.of(job0.ranges), owned),
                            HashIntervals.of(job0.ranges))).as("the target owns none of the ranges")
                            .isEqualTo(point.equals(FENCED));
                }
                break;
            default:
                assertThat(job0.phase).isEqualTo(Phase.CLEANUP);
                assertThat(rowsAtKill).as("rows deleted on the source when it was killed").isPositive();
        }
    }

    private static String awaitPoint(Process child, String point, Path log) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        java.util.concurrent.CompletableFuture<String> line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    if (l.startsWith("AT ") || l.startsWith("DONE") || l.startsWith("FAILED")) {
                        return l;
                    }
                }
                return "EXITED";
            } catch (java.io.IOException e) {
                return "EXITED " + e;
            }
        });
        String l;
        try {
            l = line.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            child.destroyForcibly();
            throw new AssertionError("the mover process did not reach " + point + " in 120 s; its log:\n"
                    + Files.readString(log));
        }
        if (!l.startsWith("AT ")) {
            throw new AssertionError("the mover process ended before " + point + ": " + l + "; its log:\n"
                    + Files.readString(log));
        }
        return l;
    }

    static long count(PgCluster cluster, int shard, String sql) throws SQLException {
        try (Connection c = cluster.shard(shard).connect(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
