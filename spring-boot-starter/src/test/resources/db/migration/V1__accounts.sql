CREATE TABLE accounts (
    tenant_id bigint NOT NULL,
    cents     bigint NOT NULL
);
