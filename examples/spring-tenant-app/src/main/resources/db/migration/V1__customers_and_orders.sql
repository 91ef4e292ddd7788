-- The Spring tenant app's schema, applied to every shard at start-up by the starter (ShardedFlyway with
-- spring.flyway.locations). tenant_id, the shard key, leads every key, so uniqueness and the foreign key are
-- checked within one tenant, hence within one shard.

CREATE TABLE customers (
    tenant_id  bigint      NOT NULL,
    id         uuid        NOT NULL DEFAULT shardring.uuid_v7(),
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE orders (
    tenant_id    bigint      NOT NULL,
    id           uuid        NOT NULL DEFAULT shardring.uuid_v7(),
    customer_id  uuid        NOT NULL,
    amount_cents bigint      NOT NULL CHECK (amount_cents > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
