-- Which ring this database belongs to, as which node, and its ordinal there (docs/architecture.md, "Ids across
-- moves"). The ordinal is assigned once by the catalog and never reused; every sequence that feeds a column of a
-- sharded table draws here from [ordinal * 2^48 + 1, (ordinal + 1) * 2^48 - 1], so rows keep their ids when they move
-- and no two nodes ever draw the same value. The catalog's id tells a database of another ring apart.
CREATE TABLE shardring.membership (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    catalog_id uuid NOT NULL,
    node_id text NOT NULL,
    ordinal integer NOT NULL CHECK (ordinal >= 0 AND ordinal <= 32767),
    joined_at timestamptz NOT NULL DEFAULT now()
);
-- routers and tools of any role may read which ring and node a database is (nothing secret)
GRANT SELECT ON shardring.membership TO PUBLIC;
