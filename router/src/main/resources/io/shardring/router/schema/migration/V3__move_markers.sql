-- Markers the mover writes on a source after a fence: a marker that has arrived on the target through
-- logical replication proves that every change the source committed before it has been applied there.
CREATE TABLE shardring.move_markers (
    name text PRIMARY KEY,
    seq bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
