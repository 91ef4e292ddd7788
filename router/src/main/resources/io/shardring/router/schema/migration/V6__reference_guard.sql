-- The reference tables' guard (docs/architecture.md, "Reference tables"). The reference node holds the one writable
-- copy; every other node a read-only copy kept by logical replication, whose apply worker runs as a replica, so this
-- trigger does not fire for it. The writable copy takes writes only from the router's reference() DataSource, whose
-- sessions set shardring.reference_writer: a tenant's DataSource that writes there would write one shard's idea of a
-- global table. Flyway migrations run by shardring set shardring.migrating: their rows go in on the writable copy and
-- reach the copies by replication, so the copies skip them instead of holding them twice.
-- TG_ARGV: 'writable' or 'copy', then the reference node's id (for the message).
CREATE FUNCTION shardring.reference_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    writable constant boolean := TG_ARGV[0] = 'writable';
BEGIN
    IF coalesce(current_setting('shardring.migrating', true), '') = 'on' THEN
        IF writable OR TG_LEVEL = 'STATEMENT' THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        RETURN NULL;
    END IF;
    IF NOT writable THEN
        RAISE EXCEPTION USING ERRCODE = 'SR002',
            MESSAGE = format('reference table %I.%I is a read-only copy on this node; write it through'
                || ' ShardedDataSource.reference(), which writes the writable copy on node %s', TG_TABLE_SCHEMA,
                TG_TABLE_NAME, TG_ARGV[1]);
    END IF;
    IF coalesce(current_setting('shardring.reference_writer', true), '') <> 'on' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR002',
            MESSAGE = format('reference table %I.%I is written through ShardedDataSource.reference(), not through'
                || ' a tenant''s DataSource (forKey, inTransaction, the context-bound DataSource)', TG_TABLE_SCHEMA,
                TG_TABLE_NAME);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
