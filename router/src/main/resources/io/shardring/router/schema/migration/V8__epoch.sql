-- Fencing by epoch (docs/architecture.md, "Fencing by epoch"). The node's epoch is raised each time a standby is
-- promoted to be the node's primary: the promoted server records the new epoch here and the catalog publishes a
-- topology whose node carries it. A physical standby is a byte copy of its primary, so it records its primary's epoch
-- until it is promoted; an old primary that comes back still records the old one, and every router and tool that
-- checks it against its topology refuses it. No row is epoch 0: a node never promoted.
CREATE TABLE shardring.node_epoch (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch bigint NOT NULL CHECK (epoch >= 0),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
-- routers and tools of any role check it (nothing secret)
GRANT SELECT ON shardring.node_epoch TO PUBLIC;

-- Run once when a router's or the tool's pool opens a connection, with the topology's epoch of the node (only when
-- that is above 0: epoch 0 is a node not fenced by epoch). Refuses, with SQLSTATE SR003, a server that records
-- another epoch: an older one is a primary that a promotion replaced; a newer one means the caller's topology is
-- older than the catalog's. Returns the epoch recorded. The message's first words are read back by
-- io.shardring.router.schema.NodeEpoch: keep "server at epoch N, the topology says M".
CREATE FUNCTION shardring.check_epoch(expected bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    recorded constant bigint := coalesce((SELECT epoch FROM shardring.node_epoch), 0);
BEGIN
    IF expected > 0 AND recorded < expected THEN
        RAISE EXCEPTION USING ERRCODE = 'SR003',
            MESSAGE = format('server at epoch %s, the topology says %s: this server is an old primary of the node,'
                || ' replaced by a promoted standby, and is fenced', recorded, expected),
            HINT = 'make the node''s JDBC URL reach the promoted server; rebuild this one as a standby of it, or'
                || ' retire it';
    END IF;
    IF expected > 0 AND recorded > expected THEN
        RAISE EXCEPTION USING ERRCODE = 'SR003',
            MESSAGE = format('server at epoch %s, the topology says %s: the topology is older than the server''s'
                || ' promotion', recorded, expected),
            HINT = 'load the catalog''s newest topology, which carries the server''s epoch';
    END IF;
    RETURN recorded;
END
$$;
