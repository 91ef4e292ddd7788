-- The login roles of a shard besides the tool's (docs/operations.md, "Roles"). Run once per server:
-- by initdb/10-shardring.sh in docker-compose.yml (psql, with -v app_password=... -v replication_password=...),
-- and by the demo module's ComposeSetupTest on embedded servers.
--
-- The tool's role is the image's POSTGRES_USER (shardring_tool), a superuser: it creates the schema, may write past
-- the ownership guard (superusers are members of shardring_mover, which the shardring schema's migration
-- creates), creates replication slots and subscriptions, and skips application triggers on copied rows.

-- the application's role: reads and writes its tenants' rows through the guard, never a member of shardring_mover
CREATE ROLE app LOGIN PASSWORD :'app_password';

-- the physical standby's role (shard1-standby streams from shard1)
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'replication_password';
