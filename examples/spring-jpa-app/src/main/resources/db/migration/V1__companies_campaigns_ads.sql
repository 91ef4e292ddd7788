-- The advertising app's schema, applied to every shard at start-up by the starter (ShardedFlyway with
-- spring.flyway.locations) and to a node a rebalance adds by the shardring tool. The company is the tenant and
-- its id the shard key: companies.id, and company_id leading every other key, so that primary and foreign keys
-- are checked within one company, hence within one shard.

CREATE TABLE companies (
    id   bigint PRIMARY KEY,
    name text   NOT NULL
);

CREATE TABLE campaigns (
    company_id bigint    NOT NULL REFERENCES companies (id),
    id         bigserial,
    name       text      NOT NULL,
    PRIMARY KEY (company_id, id)
);

CREATE TABLE ads (
    company_id  bigint    NOT NULL,
    id          bigserial,
    campaign_id bigint    NOT NULL,
    text        text      NOT NULL CONSTRAINT ads_text_length CHECK (char_length(text) BETWEEN 1 AND 90),
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id)
);

-- bigserial ids come from each node's own sequence. Each node's sequences draw from the node's own range of 2^48
-- values (its ordinal in the ring: shardring restricts them after every migration and before a node's first
-- cutover), so a company's rows keep their ids when a rebalance moves them, and no node hands out an id another
-- node drew.
