-- The shardring schema on every shard: which key ranges this shard owns, and which node it is.
-- Ranges are inclusive [lo, hi] intervals of the key hash (PostgreSQL's own hash of the key, seed 0).
CREATE TABLE shardring.owned_ranges (
    lo bigint NOT NULL,
    hi bigint NOT NULL,
    CONSTRAINT owned_ranges_ordered CHECK (lo <= hi),
    PRIMARY KEY (lo)
);

CREATE TABLE shardring.shard_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    node_id text NOT NULL,
    topology_version bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Sharded tables guarded on this shard, and the trigger function that guards each.
CREATE TABLE shardring.guarded_tables (
    table_schema text NOT NULL,
    table_name text NOT NULL,
    key_column text NOT NULL,
    guard_function text NOT NULL,
    PRIMARY KEY (table_schema, table_name)
);
