-- ShardringJpaTest's table: ids are given by the caller, so Hibernate inserts a note when it flushes, at commit.
CREATE TABLE notes (
    tenant_id bigint NOT NULL,
    id        bigint NOT NULL,
    body      text   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
