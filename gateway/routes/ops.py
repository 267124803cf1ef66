"""Liveness, readiness, the API document and the pages of its problem types."""
import threading
import time

import falcon
from kombu import Connection
from marshmallow import Schema, fields

from gateway import auth, internal, problem_pages, store
from gateway.openapi import operation
from gateway.problems import Problem
from gateway.routes import Resource
from gateway.rpc import call, ping_all
from services.common import config
from services.common.roles import STAFF


class Health:
    """The process is up (it does not look at anything else)."""

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready(Resource):
    """Ready to serve: the broker answers, the gateway's database answers, and every service
    answers a ping RPC (which checks that service's own database). Anyone (a load balancer, `make
    demo`) may ask whether the palace is ready; only ops (gateway/internal.py) read which part is not
    and why: the checks name the parts and carry their errors (host names, ports, exceptions).

    Each set of checks opens a broker connection, takes a database connection and sends a ping to
    every service: a stranger calling in a loop would have the gateway hammer all of them. So the
    anonymous answer is the last set of checks while it is younger than FRESH seconds (per process),
    and one request at a time runs them while the others wait for its answer. Ops get fresh checks
    every time (their token is not a stranger's), and those refresh the anonymous answer too."""

    FRESH = 2.0  # seconds: a load balancer polling every few seconds still sees each change

    def __init__(self, gateway):
        super().__init__(gateway)
        self._lock = threading.Lock()
        self._last = None  # (time.monotonic() when checked, checks)

    def on_get(self, req, resp):
        ops = internal.is_ops(req, self.gateway.metrics_token)
        checks = self._check() if ops else self._recent()
        ready = all(v == "ok" for v in checks.values())
        resp.status = 200 if ready else 503
        resp.media = {"status": "ready" if ready else "not ready"}
        if ops:
            resp.media["checks"] = checks

    def _recent(self):
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self.FRESH:
                return self._last[1]
            return self._checked()

    def _check(self):
        with self._lock:
            return self._checked()

    def _checked(self):
        """Runs every check and keeps the answer; the caller holds the lock."""
        checks = {"broker": self._broker(), "database": self._database(), **ping_all(config.NAMEKO_SERVICES)}
        self._last = (time.monotonic(), checks)
        return checks

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


class StatsSchema(Schema):
    accounts = fields.Dict(metadata={"description": "members, staff and units"})
    enrolment = fields.Dict(metadata={"description": "courses, seats, fill rate, trainees, attendance"})
    venues = fields.Dict(metadata={"description": "bookings, utilisation, no-shows"})
    welfare = fields.Dict(metadata={"description": "cases, amounts paid, time to decision"})
    notify = fields.Dict(metadata={"description": "messages sent, failed and retried per channel"})


class Stats(Resource):
    """The figures of a palace's yearly report, asked of every service."""
    doc = {"get": operation("Figures for the yearly report, from every service", operation_id="getYearlyFigures",
                            tag="operations", response=StatsSchema, roles=STAFF, errors=())}


    @auth.require(*STAFF)
    def on_get(self, req, resp):
        context = auth.caller(req)
        figures = {service: call(service, "stats", context=context) for service in config.SERVICES}
        with self.gateway.db.transaction() as conn:
            figures["accounts"] = store.account_figures(conn)
        resp.media = figures


class OpenApi:
    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        resp.media = self.document


# Swagger UI 5 (it reads OpenAPI 3.1): the web build copies its files from npm's swagger-ui-dist into
# web/dist/docs (web/scripts/swagger.mjs), so /docs works with no internet
DOCS_ASSETS = "/docs/assets"
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workers' Cultural Palace API</title>
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                             persistAuthorization: true}});
</script>
</body>
</html>
"""


class Docs:
    """The interactive API documentation."""

    def on_get(self, req, resp):
        resp.content_type, resp.text = falcon.MEDIA_HTML, DOCS_PAGE


class ProblemPage:
    """What a problem type means and what to do, for a person who follows its address (not an API
    operation: a page, outside the API document)."""

    def on_get(self, req, resp, slug):
        page = problem_pages.page_of(slug)
        if page is None:
            raise Problem(404, "not-found", f"palace has no problem type {slug!r}")
        resp.content_type, resp.text = "text/html; charset=utf-8", problem_pages.render(req, slug, page)
        resp.cache_control = ["public", "max-age=3600"]


def routes(gateway):
    return [("/healthz", Health()), ("/readyz", Ready(gateway)), ("/docs", Docs()),
            ("/problems/{slug}", ProblemPage()), ("/v1/stats", Stats(gateway))]
