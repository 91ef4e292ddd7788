CREATE TABLE events (
    tenant_id bigint NOT NULL,
    id bigint NOT NULL,
    val integer NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
