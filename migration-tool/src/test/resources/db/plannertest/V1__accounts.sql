-- The sharded table of PlannerTest: the shard key leads the primary key, ids are UUIDs.
CREATE TABLE accounts (
    tenant_id bigint NOT NULL,
    id uuid NOT NULL DEFAULT shardring.uuid_v7(),
    PRIMARY KEY (tenant_id, id)
);
