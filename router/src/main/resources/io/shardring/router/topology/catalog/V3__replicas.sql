-- The replica pieces that `replicas sync` keeps: each one row-filtered publication on its primary, a slot there and a
-- subscription in its secondary's store, all named shardring_r_<id>. A link (primary, secondary) is one piece, plus
-- one more for each later change that gave it arcs (seeded on their own, so that only changed arcs are copied).
CREATE TABLE shardring.replica_pieces (
    id bigserial PRIMARY KEY,
    primary_node text NOT NULL,
    secondary_node text NOT NULL,
    intervals text NOT NULL,          -- JSON [[lo, hi], ...], inclusive hash intervals
    state text NOT NULL,              -- seeding, ready
    topology_version bigint NOT NULL, -- the version that last changed it
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What every sync did, step by step, as `status` and an operator read it.
CREATE TABLE shardring.replica_journal (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    topology_version bigint NOT NULL,
    piece bigint,
    step text NOT NULL,
    detail text NOT NULL
);
