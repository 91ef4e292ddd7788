-- UUIDv7 (RFC 9562) on every shard, for key and id column defaults: ids made on different shards never
-- collide and stay unique when rows move. 48 bits of Unix milliseconds, version 7, then random bits.
CREATE FUNCTION shardring.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
