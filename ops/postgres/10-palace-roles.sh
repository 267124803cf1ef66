#!/bin/sh
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d): a role per
# part of the palace, owning that part's database alone, its password from the compose secret
# /run/secrets/pg-<part>. Nobody else may connect to a part's database (CONNECT taken from PUBLIC); the
# part runs its migrations as the owner. On a data directory made before this script, run it once by
# hand (`docker compose exec postgres sh /docker-entrypoint-initdb.d/10-palace-roles.sh`) and hand
# the tables over (`REASSIGN OWNED BY <old user> TO palace_<part>` in each database).
set -eu
prefix="${PALACE_DB_PREFIX:-palace}"
secrets="${PALACE_PG_PASSWORDS:-/run/secrets}"
for part in ${PALACE_DB_PARTS:-enrolment venues welfare notify gateway}; do
    password=$(cat "$secrets/pg-$part")
    if [ "${#password}" -lt 16 ] || [ "${password#change-me}" != "$password" ]; then
        echo "palace: $secrets/pg-$part must hold at least 16 random characters" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
         -v name="${prefix}_$part" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'name', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'name', :'name') \gexec
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', :'name') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'name', :'name') \gexec
SQL
done
