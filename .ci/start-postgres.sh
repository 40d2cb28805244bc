#!/usr/bin/env bash
# Start a PostgreSQL server for the store tests, idempotently, on a fresh Debian machine (run as root).
# Installs Debian's postgresql if missing, creates a cluster "descent" on 127.0.0.1:$PG_PORT (loopback only),
# a role and a database, and prints the database URL as the last line of stdout:
#   export DESCENT_TEST_PG_URL="$(bash .ci/start-postgres.sh | tail -1)"
set -euo pipefail
PG_PORT="${PG_PORT:-5433}"
PG_DB="${PG_DB:-descent_test}"
PG_USER="${PG_USER:-descent}"
PG_PASSWORD="${PG_PASSWORD:-descent}"  # a throwaway test database on loopback only
log() { echo "start-postgres: $*" >&2; }

if ! command -v pg_createcluster >/dev/null; then
  log "installing postgresql (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q postgresql >&2
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"

if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$VERSION descent"; then
  log "creating cluster $VERSION/descent on port $PG_PORT"
  pg_createcluster "$VERSION" descent --port "$PG_PORT" >&2
fi
echo "listen_addresses = '127.0.0.1'  # loopback only" >"/etc/postgresql/$VERSION/descent/conf.d/descent.conf"
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "descent" {print $4}' | grep -qx online; then
  log "starting cluster $VERSION/descent"
  pg_ctlcluster "$VERSION" descent start >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "descent" {print $3}')"

psql_su() { runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }
for _ in $(seq 1 30); do psql_su -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
if [ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != 1 ]; then
  psql_su -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'" >&2
fi
if [ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
  psql_su -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2
fi
log "ready"
echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PORT/$PG_DB"
