"""Configuration from the environment, with defaults that work on a developer's machine; every
setting, its default and its meaning are listed once in services/common/settings.py."""
import os

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


def db_url(part):
    """libpq URL of the database owned by `part` (a service or the gateway)."""
    return f"{pg_server()}/{db_name(part)}"


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
