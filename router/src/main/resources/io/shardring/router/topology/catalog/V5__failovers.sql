-- A node's failover (`shardring failover NODE`): the standby promoted, the epoch it gets and the steps done, so that a
-- failover interrupted at any point is finished by running the same command again. One runs per node at a time.
CREATE TABLE shardring.failovers (
    id bigserial PRIMARY KEY,
    node_id text NOT NULL,
    from_url text NOT NULL,
    to_url text NOT NULL,
    new_epoch bigint NOT NULL CHECK (new_epoch > 0),
    mode text NOT NULL CHECK (mode IN ('planned', 'emergency')),
    steps text[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE UNIQUE INDEX failovers_running ON shardring.failovers (node_id) WHERE state = 'running';
