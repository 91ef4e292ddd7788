-- Routers that follow the catalog, each row kept fresh by its router's watcher. A move deletes moved rows on their
-- old owner only once every router seen lately routes by a version in which they have moved.
CREATE TABLE shardring.routers (
    id text PRIMARY KEY,              -- random, one per router instance
    host text NOT NULL,
    pid bigint NOT NULL,
    version bigint NOT NULL,          -- the topology version the router routes by
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
);

-- the topology version in which a job's ranges moved: its cleanup waits for routers to reach it
ALTER TABLE shardring.move_jobs ADD COLUMN moved_in_version bigint;
