-- a second sharded table, copied after events, so that a move can be stopped between two tables' copies
CREATE TABLE notes (
    tenant_id bigint NOT NULL,
    id bigint NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
