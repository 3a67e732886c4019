#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on $BRIDGE_PG_HOST:$BRIDGE_PG_PORT (default 127.0.0.1:5432) for the
# integration tests. On Debian-like machines with a local cluster it starts the cluster when it is down.
# Elsewhere: run any PostgreSQL 13+ you like (trust auth or a password in PGPASSWORD for user
# $BRIDGE_PG_USER, default postgres) and point BRIDGE_PG_HOST/BRIDGE_PG_PORT at it.
set -euo pipefail
host=${BRIDGE_PG_HOST:-127.0.0.1}
port=${BRIDGE_PG_PORT:-5432}
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "PostgreSQL is down on $host:$port: starting cluster $version/main" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "error: no PostgreSQL answers on $host:$port. Start one (see scripts/ensure-postgres.sh) and retry." >&2
exit 1
