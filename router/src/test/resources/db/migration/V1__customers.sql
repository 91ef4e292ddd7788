CREATE TABLE customers (
    tenant_id bigint NOT NULL,
    id uuid NOT NULL DEFAULT shardring.uuid_v7(),
    name text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
