-- Which catalog this is: a node's database records it (shardring.membership), so that a database of another ring is
-- recognised and refused.
CREATE TABLE shardring.catalog_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO shardring.catalog_identity DEFAULT VALUES;

-- Every node's ordinal, assigned once and never reused: a node's sequences draw from the ordinal's range of 2^48
-- values. A node that leaves keeps its row (retired), so a database that joins later under the same id gets a new one.
CREATE TABLE shardring.node_ordinals (
    ordinal integer PRIMARY KEY CHECK (ordinal >= 0 AND ordinal <= 32767),
    node_id text NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
CREATE UNIQUE INDEX node_ordinals_active ON shardring.node_ordinals (node_id) WHERE retired_at IS NULL;

-- The sequence, in the catalog's database, that routers draw new shard keys from in blocks
-- (ShardedDataSource.newKey()): a router must know a new tenant's key before it can pick its shard.
CREATE TABLE shardring.key_allocator (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    sequence_name text NOT NULL,      -- schema-qualified, quoted as regclass prints it
    created_at timestamptz NOT NULL DEFAULT now()
);
-- every router reads it (the application's role needs USAGE on the sequence it names)
GRANT SELECT ON shardring.key_allocator TO PUBLIC;

-- A database adopted as the ring's first node (`shardring adopt`): the steps done, so that an adoption interrupted at
-- any point is finished by running it again.
CREATE TABLE shardring.adoptions (
    node_id text PRIMARY KEY,
    baseline_version text,
    steps text[] NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
