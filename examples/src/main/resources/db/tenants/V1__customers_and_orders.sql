-- The tenant example's schema, applied to every shard by ShardedFlyway.
-- tenant_id, the shard key, leads every primary key and the foreign key: uniqueness and references are
-- then checked within one tenant, hence within one shard, and never need a lookup on another shard.
-- Ids are UUIDv7 (made in Java by Ids.uuidV7(); the default covers rows inserted by hand) so that they
-- stay unique when a tenant's rows move to another shard.

CREATE TABLE customers (
    tenant_id  bigint      NOT NULL,
    id         uuid        NOT NULL DEFAULT shardring.uuid_v7(),
    name       text        NOT NULL,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE orders (
    tenant_id    bigint      NOT NULL,
    id           uuid        NOT NULL DEFAULT shardring.uuid_v7(),
    customer_id  uuid        NOT NULL,
    amount_cents bigint      NOT NULL,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

-- a customer's orders, and the foreign key's check when a customer is deleted
CREATE INDEX orders_tenant_customer ON orders (tenant_id, customer_id);
