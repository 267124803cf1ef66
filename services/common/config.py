"""Configuration from the environment, with defaults that work on a developer's machine; every
setting, its default and its meaning are listed once in services/common/settings.py."""
import os
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from services.common.settings import lookup

SERVICES = ("enrolment", "venues", "welfare", "notify")
# the gateway's feed is a nameko service too (it keeps the catalog read model, relays its outbox)
NAMEKO_SERVICES = SERVICES + ("gateway",)
DATABASES = SERVICES + ("gateway",)


def env(name):
    """A registered setting from the environment; `NAME_FILE` names a file holding it (e.g. a docker
    secret); unset or empty, its registered default. An unregistered name raises KeyError."""
    default = lookup(name).default
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if value in (None, "") and path:
        with open(path, encoding="utf-8") as secret:
            value = secret.read().strip()
    return value if value not in (None, "") else default


PLACEHOLDER = "change-me"  # how every secret of .env.example begins


def checked_secret(name, value, minimum, advice):
    """`value`, if it can be a secret: the one check of every secret a part reads (the signing key,
    the token secret, the reset-code and welfare keys, the broker's and the database's passwords).
    A placeholder (however long) or a value shorter than `minimum` stops the part, saying why."""
    if len(value or "") < minimum or value.lower().startswith(PLACEHOLDER):
        raise RuntimeError(f"{name} must hold at least {minimum} random characters, {advice}")
    return value


def development():
    """A developer's machine (`make run`, the tests): what a deployment must give may be made up."""
    return env("PALACE_DEVELOPMENT").lower() in ("1", "true", "yes", "on")


def check_connection_secrets():
    """At a part's start, outside development: the passwords in its broker and database URLs pass
    checked_secret (the local broker's guest:guest is for development alone). A URL without a
    password is left to the server (peer or certificate authentication)."""
    if development():
        return
    for name, urls in (("AMQP_URI", amqp_uri()), ("PALACE_PG", pg_server())):
        for url in urls.split(";"):
            password = urlsplit(url.strip()).password
            if password is not None:
                checked_secret(f"the password in {name}", unquote(password), PASSWORD_MINIMUM,
                               "one of its own for each part (python -c 'import secrets;print(secrets.token_urlsafe(24))')")


PASSWORD_MINIMUM = 16


def amqp_uri():
    return env("AMQP_URI")


def quorum_queues():
    """PALACE_QUORUM_QUEUES=1 on a RabbitMQ cluster: the queues that must outlive a node (handler,
    retry, dead-letter, unrouted and RPC queues) are quorum queues, replicated on every node, and
    reply queues are transient, so a node's death takes its reply queues with it instead of leaving
    durable ones nobody can declare again. Every process of a palace must agree on it: a queue
    declared with another type is refused (PRECONDITION_FAILED)."""
    return env("PALACE_QUORUM_QUEUES").lower() in ("1", "true", "yes", "on")


def pg_server():
    """URL of the PostgreSQL server, without a database name."""
    return env("PALACE_PG").rstrip("/")


def db_prefix():
    return env("PALACE_DB_PREFIX")


def db_name(part):
    return f"{db_prefix()}_{part}"


# every session in home time: timestamps leave the services with +08:00, as members read them, and
# a date the database works out is the one in Shanghai
HOME_SESSION = "options=-c%20TimeZone%3DAsia%2FShanghai"


def db_url(part):
    """libpq URL of the database owned by `part` (a service or the gateway), its sessions in home time."""
    return f"{part_server(part)}/{db_name(part)}?{HOME_SESSION}"


def own_roles():
    """PALACE_PG_PASSWORDS set (compose): each part connects as its own role, its database's owner."""
    return bool(env("PALACE_PG_PASSWORDS"))


def part_server(part):
    """PALACE_PG; with PALACE_PG_PASSWORDS, PALACE_PG's host as the role `<prefix>_<part>` (made by
    ops/postgres/10-palace-roles.sh), with the password in that directory's `pg-<part>` file."""
    if not own_roles():
        return pg_server()
    path = Path(env("PALACE_PG_PASSWORDS")) / f"pg-{part}"
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise RuntimeError(f"{path} (the database password of {part}) cannot be read: {exc.strerror}") from None
    checked_secret(f"the database password in {path}", password, PASSWORD_MINIMUM,
                   "(python -c 'import secrets;print(secrets.token_urlsafe(24))')")
    where = urlsplit(pg_server())
    return urlunsplit(where._replace(netloc=f"{quote(db_name(part), safe='')}:{quote(password, safe='')}"
                                            f"@{where.hostname}:{where.port or 5432}"))


def rpc_timeout():
    return float(env("PALACE_RPC_TIMEOUT"))


def retry_delays():
    """Seconds to wait before each redelivery of a failed event, then it is dead-lettered.
    The default rides out about 12 minutes of a database or downstream outage."""
    return [float(s) for s in env("PALACE_RETRY_DELAYS").split(",") if s.strip()]


def pool_size():
    """Connections of each service instance's pool (nameko's default of 10 workers each get one)."""
    return int(env("PALACE_DB_POOL_SIZE"))


def gateway_pool_size():
    """Connections of each gateway worker process's pool."""
    return int(env("PALACE_GATEWAY_DB_POOL"))


def gateway_workers():
    return int(env("PALACE_GATEWAY_WORKERS"))
