-- Heartbeats: every router writes, several times a second, one row per replica publication of this primary (and
-- one for the node itself, pub = ''), with this server's clock. Each publication carries its own row to its
-- secondary store, so a store's staleness for a primary is now - the oldest heartbeat it applied from it; a physical
-- standby has every row, and its staleness is now - the node's own row.
CREATE TABLE shardring.heartbeat (
    pub text PRIMARY KEY,
    node text NOT NULL,
    at timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON shardring.heartbeat TO PUBLIC;

-- In a secondary store only: the topology version whose replica layout this store holds, or NULL while
-- `replicas sync` changes it. Routers read from a store only while it holds their own version.
CREATE TABLE shardring.secondary_store (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    node text NOT NULL,
    topology_version bigint,
    synced_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON shardring.secondary_store TO PUBLIC;
