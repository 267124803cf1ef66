"""Liveness, readiness and the API document."""
from kombu import Connection

from gateway.rpc import ping_all
from services.common import config


class Health:
    """The process is up (it does not look at anything else)."""

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    """Ready to serve: the broker answers, the gateway's database answers, and every service
    answers a ping RPC (which checks that service's own database)."""

    def __init__(self, gateway):
        self.gateway = gateway

    def on_get(self, req, resp):
        checks = {"broker": self._broker(), "database": self._database(), **ping_all(config.NAMEKO_SERVICES)}
        ready = all(v == "ok" for v in checks.values())
        resp.status = 200 if ready else 503
        resp.media = {"status": "ready" if ready else "not ready", "checks": checks}

    def _broker(self):
        try:
            with Connection(config.amqp_uri(), connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            return "ok"
        except Exception as exc:
            return f"unreachable: {exc}"

    def _database(self):
        try:
            return self.gateway.db.ping()
        except Exception as exc:
            return f"unreachable: {exc}"


class OpenApi:
    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        resp.media = self.document


def routes(gateway):
    return [("/healthz", Health()), ("/readyz", Ready(gateway))]
