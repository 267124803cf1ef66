"""Liveness, readiness and the API document."""
import logging

from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService

from gateway.rpc import BROKER_DOWN, _proxy, _discard
from services.common import config

log = logging.getLogger("palace.gateway")


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
        checks = {"broker": self._broker(), "database": self._database(), **self._services()}
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

    def _services(self):
        """Ping all services at once, so one that is down costs one timeout, not four."""
        try:
            _, proxy = _proxy()
        except BROKER_DOWN as exc:
            _discard()
            return {s: f"unreachable: {exc}" for s in config.SERVICES}
        replies, results = {}, {}
        for service in config.SERVICES:
            try:
                replies[service] = getattr(proxy, service).ping.call_async()
            except UnknownService:
                results[service] = "not running"
            except BROKER_DOWN as exc:
                results[service] = f"unreachable: {exc}"
        for service, reply in replies.items():
            try:
                answer = reply.result()
                results[service] = answer.get("database", "no database")
            except RpcTimeout:
                results[service] = "no answer"
            except Exception as exc:
                results[service] = f"error: {exc}"
        return results


class OpenApi:
    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        resp.media = self.document


def routes(gateway):
    return [("/healthz", Health()), ("/readyz", Ready(gateway))]
