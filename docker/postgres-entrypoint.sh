#!/bin/sh
# The database server of docker-compose.postgres.yml.
#   first start (no cluster in $PGDATA): initdb, then the role `shopqueue` with the password in
#     POSTGRES_PASSWORD and the database `shopqueue` it owns; the superuser `postgres` has no
#     password and may only connect through the container's own socket (`docker compose exec`);
#   every start: the server in the foreground, on the container's interfaces, i.e. the compose
#     network (no port is published), where every client must give a password (SCRAM).
# Arguments are passed to `postgres`, e.g. `-c max_connections=400`.
set -eu

ROLE=shopqueue
DATABASE=shopqueue

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "shopqueue-postgres: POSTGRES_PASSWORD must be set for the first start (see .env.example)" >&2
    exit 1
  fi
  echo "shopqueue-postgres: creating the cluster in $PGDATA"
  initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  # Only the compose network's subnets (samenet) and the socket; nothing else may even try.
  cat > "$PGDATA/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all       all            trust
host    all       all   samenet  scram-sha-256
HBA
  # A server on the socket alone while the role and database are made: nothing can connect early.
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
  # psql's :'password' quotes the value, whatever characters it holds.
  psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
    --set=password="$POSTGRES_PASSWORD" <<SQL
CREATE ROLE $ROLE LOGIN PASSWORD :'password';
CREATE DATABASE $DATABASE OWNER $ROLE;
SQL
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  echo "shopqueue-postgres: cluster ready"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c max_connections=200 "$@"
