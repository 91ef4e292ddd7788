#!/bin/bash
# Runs once, when a shard's data directory is created (docker-entrypoint-initdb.d), as POSTGRES_USER.
set -euo pipefail
: "${SHARDRING_APP_PASSWORD:?set SHARDRING_APP_PASSWORD, the application role's password}"
: "${SHARDRING_REPLICATION_PASSWORD:?set SHARDRING_REPLICATION_PASSWORD, the standby role's password}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v app_password="$SHARDRING_APP_PASSWORD" -v replication_password="$SHARDRING_REPLICATION_PASSWORD" \
    -f /shardring/roles.sql
for db in "$POSTGRES_DB" template1; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$db" -v tool="$POSTGRES_USER" \
        -f /shardring/privileges.sql
done

# the standby's base backup and WAL stream, with a password
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
