#!/usr/bin/env bash
# Entrypoint of the local PostgreSQL stand-in, a subset of the official postgres image's contract:
# POSTGRES_USER (default postgres) and POSTGRES_PASSWORD make the superuser; on an empty PGDATA
# the scripts in /docker-entrypoint-initdb.d (*.sql through psql, *.sh run or sourced) run once
# on a server that listens on its socket only; then PostgreSQL runs in the foreground.
set -Eeuo pipefail

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD is not set; refusing to create a database without one" >&2
    exit 1
  fi
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

  pg_ctl --wait --silent -o "-c listen_addresses=''" start
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sql) echo "postgres: running $script"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$script" ;;
      *.sh)
        echo "postgres: running $script"
        if [ -x "$script" ]; then "$script"; else . "$script"; fi
        ;;
      *) [ -e "$script" ] && echo "postgres: ignoring $script" ;;
    esac
  done
  pg_ctl --wait --silent -m fast stop
fi

exec postgres "$@"
