#!/usr/bin/env bash
# One database and one login role per service: the role owns its database (so its migrations can
# create tables) and can connect to no other, since CONNECT is revoked from PUBLIC everywhere.
# Run once by the postgres image's entrypoint on an empty data directory, as POSTGRES_USER, with
# each service's password in LINLI_<SERVICE>_DB_PASSWORD.
set -euo pipefail

psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password --dbname postgres)

for database in postgres template1 "${POSTGRES_DB:-$POSTGRES_USER}"; do
  "${psql[@]}" -c "REVOKE CONNECT ON DATABASE \"$database\" FROM PUBLIC"
done

for service in registry points fund notify; do
  variable="LINLI_${service^^}_DB_PASSWORD"
  password="${!variable:-}"
  if [ -z "$password" ]; then
    echo "init-databases: $variable is not set" >&2
    exit 1
  fi
  "${psql[@]}" -v role="$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role')
\gexec
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', :'role')
\gexec
SQL
done
