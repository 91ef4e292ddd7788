package io.shardring.migration.move;

import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.ShardedTable;
import io.shardring.router.topology.Topology;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/** What every phase of one move needs: the move's topologies, its jobs, the nodes, the journal, the listener. */
final class MoveRun {
    final long moveId;
    final Topology before;
    final Topology after;
    final KeyType keyType;
    final List<ShardedTable> tables;
    final List<JobState> jobs;
    final NodePools nodes;
    final Mover.Options options;
    final MoveListener listener;
    final MoveJournal journal;
    /** Nodes whose schema this run has migrated already: several jobs share a target or a source. */
    final java.util.Set<String> migrated = new java.util.HashSet<>();

    MoveRun(long moveId, Topology before, Topology after, List<JobState> jobs, NodePools nodes, Mover.Options options,
            MoveListener listener, MoveJournal journal) {
        this.moveId = moveId;
        this.before = before;
        this.after = after;
        this.keyType = after.ring().keyType();
        this.tables = after.tables();
        this.jobs = jobs;
        this.nodes = nodes;
        this.options = options;
        this.listener = listener;
        this.journal = journal;
    }

    DataSource node(String id) {
        return nodes.apply(id);
    }

    void journal(JobState job, String phase, String event, String detail) throws SQLException {
        journal.event(moveId, job.index, phase, event, detail);
    }

    void tell(JobState job, String phase, String event, String detail) {
        listener.on(moveId, job.index, phase, event, detail, -1, -1);
    }

    void tell(JobState job, String phase, String event, String detail, long rows, long lagBytes) {
        listener.on(moveId, job.index, phase, event, detail, rows, lagBytes);
    }
}
