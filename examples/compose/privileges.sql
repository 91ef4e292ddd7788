-- What the application may do with the tables the tool creates. Run in each shard's database and in template1
-- (so that the secondary store, the database `replicas sync` creates later, starts with the same rule); by
-- initdb/10-shardring.sh in docker-compose.yml (psql, with -v tool=<POSTGRES_USER>) and by ComposeSetupTest.
ALTER DEFAULT PRIVILEGES FOR ROLE :"tool" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app;
