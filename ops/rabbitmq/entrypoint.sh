#!/bin/sh
# The broker of a compose palace starts here: each user's password is taken from its part's AMQP URI
# secret (/run/secrets/amqp-<part>: amqp://<user>:<password>@rabbitmq:5672/), filled into the users
# and permissions of definitions.json (made by `python -m ops.broker_users`), which palace.conf has
# the broker load at boot; then the image's own entrypoint runs ("$@"). The filled file stays in the
# container's /tmp, never in the data volume.
set -eu
definitions="${PALACE_BROKER_DEFINITIONS:-/etc/rabbitmq/palace/definitions.json}"
secrets="${PALACE_BROKER_SECRETS:-/run/secrets}"
filled="${PALACE_BROKER_FILLED:-/tmp/palace-definitions.json}"
umask 077
cp "$definitions" "$filled.new"
for secret in "$secrets"/amqp-*; do
    [ -f "$secret" ] || continue
    uri=$(cat "$secret")
    user=$(printf '%s' "$uri" | sed -n 's|^amqp://\([^:/@]*\):.*|\1|p')
    password=$(printf '%s' "$uri" | sed -n 's|^amqp://[^:/@]*:\([^@]*\)@.*|\1|p')
    case "$password" in
        ''|*[!A-Za-z0-9_-]*)
            echo "palace: $secret must be amqp://<user>:<password>@rabbitmq:5672/ with a URL-safe password" \
                 "(python -c 'import secrets;print(secrets.token_urlsafe(24))')" >&2
            exit 1 ;;
    esac
    sed -i "s|{{$user}}|$password|g" "$filled.new"
done
missing=$(grep -o '{{[^}]*}}' "$filled.new" | tr '\n' ' ' || true)
if [ -n "$missing" ]; then
    echo "palace: no amqp-<part> secret gives the password of $missing" >&2
    exit 1
fi
chown rabbitmq:rabbitmq "$filled.new" 2>/dev/null || true
mv "$filled.new" "$filled"
exec "$@"
