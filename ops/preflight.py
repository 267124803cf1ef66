"""Before `make run` and `make test`: say in one line what is missing instead of a traceback.

With --management it also enables RabbitMQ's management plugin (the tests make their own vhost
through its HTTP API) when the broker is local and the plugin is off. It counts the PostgreSQL
connections a palace can hold at once against the server's `max_connections` (a new machine's
PostgreSQL has 100); the test suite checks its own peak the same way."""
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

import psycopg
import requests
from kombu import Connection

from services.common import config

START_HINT = ("start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
              " (or: docker compose up -d postgres rabbitmq)")
BROKER_HINT = "start it with: rabbitmq-server -detached (or: docker compose up -d postgres rabbitmq)"


def check_postgres():
    try:
        psycopg.connect(f"{config.pg_server()}/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = urlsplit(config.pg_server())  # host and port only: the URL may hold a password
        return f"PostgreSQL is not reachable at {where.hostname}:{where.port or 5432} ({first}); {START_HINT}"


def palace_connections(pool, gateway_pool, gateway_workers, extra_instances=0):
    """The most connections one palace holds: each nameko process (the four services and the
    gateway's feed, plus `extra_instances` copies) fills its pool and keeps one for its outbox
    relay, and may open one more for a metrics scrape or a failed event's retry; notify's
    dispatcher keeps one, venues' calendar sweep a pool of two; each gateway worker fills its pool."""
    nameko = len(config.NAMEKO_SERVICES) + extra_instances
    return nameko * (pool + 2) + 1 + 2 + gateway_workers * gateway_pool


def configured_connections():
    return palace_connections(config.pool_size(), config.gateway_pool_size(), config.gateway_workers())


def check_connections(needed):
    """None when the server allows `needed` connections, else the one line that says what to change."""
    with psycopg.connect(f"{config.pg_server()}/postgres", connect_timeout=3) as conn:
        allowed = int(conn.execute("SHOW max_connections").fetchone()[0])
    if allowed < needed:
        return (f"PostgreSQL allows {allowed} connections (max_connections) and this needs {needed}; raise"
                f" max_connections to {needed} or lower PALACE_DB_POOL_SIZE / PALACE_GATEWAY_DB_POOL")
    return None


def check_broker():
    try:
        with Connection(config.amqp_uri(), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        where = urlsplit(config.amqp_uri())
        return f"RabbitMQ is not reachable at {where.hostname}:{where.port or 5672} ({exc}); {BROKER_HINT}"


def management_url():
    where = urlsplit(config.amqp_uri())
    return f"http://{where.hostname}:{config.env('PALACE_RABBIT_API_PORT')}/api"


def management_up():
    where = urlsplit(config.amqp_uri())
    try:
        return requests.get(f"{management_url()}/overview", timeout=3,
                            auth=(where.username or "guest", where.password or "guest")).ok
    except requests.RequestException:
        return False


def ensure_management():
    if management_up():
        return None
    tool = shutil.which("rabbitmq-plugins")
    if tool is None:
        return "RabbitMQ's management plugin is off and rabbitmq-plugins is not here: enable rabbitmq_management"
    subprocess.run([tool, "enable", "rabbitmq_management"], check=False, capture_output=True, timeout=120)
    for _ in range(60):
        if management_up():
            return None
        time.sleep(1)
    return "RabbitMQ's management API did not come up after enabling rabbitmq_management"


def main(argv):
    for check in (check_postgres, check_broker, lambda: check_connections(configured_connections())):
        problem = check()
        if problem:
            print(problem, file=sys.stderr)
            return 1
    if "--management" in argv:
        problem = ensure_management()
        if problem:
            print(problem, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
