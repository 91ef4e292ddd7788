-- After `shardring init`, on the catalog node (shard1): what the application's router reads and writes in the
-- catalog (it follows the topology versions and moves, and reports itself in the router registry).
--   docker compose exec -T shard1 psql -U shardring_tool -d app -f /shardring/grants.sql
GRANT SELECT ON shardring.topology_versions, shardring.moves, shardring.move_jobs TO app;
GRANT SELECT, INSERT, UPDATE, DELETE ON shardring.routers TO app;
