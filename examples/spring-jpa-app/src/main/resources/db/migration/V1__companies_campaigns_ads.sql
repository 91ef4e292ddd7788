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

-- bigserial ids come from each shard's own sequence, and are unique per company only (they follow company_id in
-- every key). A company's rows keep their ids when a rebalance moves them, so the new shard's sequence may be
-- behind them, and would hand the company one of those ids again. This trigger moves a table's sequence past every
-- id that arrives from elsewhere. It is ENABLE ALWAYS because the rows arrive through the mover's COPY and logical
-- replication, which run as a replica (ordinary triggers do not fire there), and SECURITY DEFINER because they
-- run as the tool's role, which need not own the sequence. The advisory lock keeps two sessions that move rows in
-- at once from setting the sequence back. The application's own inserts, whose ids come from the sequence, only
-- read it.
CREATE FUNCTION keep_sequence_ahead() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    seq regclass := TG_ARGV[0]::regclass;
BEGIN
    IF NEW.id > coalesce(pg_sequence_last_value(seq), 0) THEN
        PERFORM pg_advisory_lock(seq::oid::bigint);
        IF NEW.id > coalesce(pg_sequence_last_value(seq), 0) THEN
            PERFORM setval(seq, NEW.id);
        END IF;
        PERFORM pg_advisory_unlock(seq::oid::bigint);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER campaigns_keep_sequence_ahead BEFORE INSERT ON campaigns
    FOR EACH ROW EXECUTE FUNCTION keep_sequence_ahead('public.campaigns_id_seq');
ALTER TABLE campaigns ENABLE ALWAYS TRIGGER campaigns_keep_sequence_ahead;

CREATE TRIGGER ads_keep_sequence_ahead BEFORE INSERT ON ads
    FOR EACH ROW EXECUTE FUNCTION keep_sequence_ahead('public.ads_id_seq');
ALTER TABLE ads ENABLE ALWAYS TRIGGER ads_keep_sequence_ahead;
