CREATE TABLE counters (
    tenant_id bigint NOT NULL,
    id integer NOT NULL,
    val bigint NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
