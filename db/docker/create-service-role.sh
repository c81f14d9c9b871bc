#!/bin/sh
# Run once by the postgres image when its data volume is first created
# (docker-entrypoint-initdb.d): makes the role the service connects as. It
# owns nothing; the owner (POSTGRES_USER) runs the migrations and grants it
# the DML it needs (db/privileges.ts) at every start.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$DB_SERVICE_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE samtykke_service LOGIN PASSWORD :'password';
SQL
