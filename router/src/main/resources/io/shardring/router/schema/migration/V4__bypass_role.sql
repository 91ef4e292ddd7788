-- Who may write past the ownership guard: members of the role shardring_mover (the tool's role), never a session
-- that merely sets shardring.bypass_guard. Roles are per server, so the role may exist already; a migration run by a
-- role that may not create roles leaves it to the operator (docs/operations.md, "Roles").
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shardring_mover') THEN
        BEGIN
            CREATE ROLE shardring_mover NOLOGIN;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'role shardring_mover not created (no CREATEROLE): create it and grant it to the tool''s role';
            -- another database of this server, migrated at the same moment, created it first
            WHEN unique_violation OR duplicate_object THEN
                NULL;
        END;
    END IF;
END
$$;

-- true when the session's login role is a member of shardring_mover (superusers are members of every role); false
-- when the role does not exist. Checked by the guard only for a write it would otherwise refuse.
CREATE FUNCTION shardring.may_bypass_guard() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT pg_has_role(session_user, r.oid, 'MEMBER') FROM pg_roles r
                     WHERE r.rolname = 'shardring_mover'), false)
$$;

-- the guard's functions and the id default (shardring.uuid_v7()) live in this schema: every role that writes sharded
-- tables must be able to look them up; the tables here stay private to their owner
GRANT USAGE ON SCHEMA shardring TO PUBLIC;
