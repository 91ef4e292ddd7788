#!/bin/bash
# shard1-standby: a physical standby of shard1. On first start, a base backup (which also writes
# primary_conninfo and standby.signal); then a hot standby streaming from shard1. Its staleness is measured from
# shard1's heartbeat row like a secondary store's (shardring.yaml: nodes[shard1].standbys).
set -euo pipefail
: "${SHARDRING_REPLICATION_PASSWORD:?set SHARDRING_REPLICATION_PASSWORD, the standby role's password}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    export PGPASSWORD="$SHARDRING_REPLICATION_PASSWORD"
    until gosu postgres pg_basebackup --host=shard1 --port=5441 --username=replicator --pgdata="$PGDATA" \
            --wal-method=stream --write-recovery-conf --checkpoint=fast; do
        echo "shard1-standby: waiting for shard1 ..."
        rm -rf "${PGDATA:?}"/*
        sleep 2
    done
    unset PGPASSWORD
fi
exec gosu postgres postgres -c config_file=/etc/postgresql/postgresql.conf
