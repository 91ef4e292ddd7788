CREATE TABLE items (
    tenant_id bigint NOT NULL,
    id bigint NOT NULL,
    payload text NOT NULL,
    val integer NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
