CREATE TABLE items (
    tenant_id bigint NOT NULL,
    id bigint NOT NULL,
    payload text NOT NULL,
    counter integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);
