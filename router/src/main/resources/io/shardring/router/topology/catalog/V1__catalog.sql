-- The shardring catalog: versioned topologies, moves, and the moves' journal.
CREATE TABLE shardring.topology_versions (
    version bigint PRIMARY KEY,
    document text NOT NULL,           -- the topology as YAML, tokens stored, passwords as references
    change text,                      -- what made this version, e.g. "add-node pg-d (move 3, job 1)"
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shardring.moves (
    id bigserial PRIMARY KEY,
    change text NOT NULL,
    from_version bigint NOT NULL,
    target_document text NOT NULL,    -- the topology after the whole change
    state text NOT NULL CHECK (state IN ('running', 'done', 'aborted')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- one rebalance at a time
CREATE UNIQUE INDEX moves_one_running ON shardring.moves ((true)) WHERE state = 'running';

CREATE TABLE shardring.move_jobs (
    move_id bigint NOT NULL REFERENCES shardring.moves (id),
    job integer NOT NULL,
    source text NOT NULL,
    target text NOT NULL,
    ranges text NOT NULL,             -- JSON [[startExclusive, endInclusive], ...]
    phase text NOT NULL,              -- the next phase to run: prepare, copy, cutover, cleanup, done, aborted
    rows_copied bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (move_id, job)
);

CREATE TABLE shardring.move_journal (
    id bigserial PRIMARY KEY,
    move_id bigint NOT NULL REFERENCES shardring.moves (id),
    job integer,
    phase text NOT NULL,
    event text NOT NULL,              -- started, finished, failed, info
    detail text,
    at timestamptz NOT NULL DEFAULT now()
);
