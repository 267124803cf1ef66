"""The HTTP gateway: a falcon WSGI app served by gunicorn's gthread worker."""
import re
import uuid

import falcon

from gateway import auth, conventions, exports, idempotency, internal, metrics, openapi, problems, web
from gateway.catalog import Catalog
from gateway.routes import accounts, desk, enrolment, notify, ops, reports, venues, welfare
from services.common import config, logs
from services.common.db import Db

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class Gateway:
    """What every route needs: the gateway's own database, the token key (and the key of request
    hashes made from it) and the metrics token."""

    def __init__(self):
        self.metrics_token = internal.metrics_token()  # first: a bad one stops the gateway before it opens a pool
        self.db = Db(config.db_url("gateway"), max_size=config.gateway_pool_size(), name="gateway")
        self.db.open()
        self.secret = auth.token_secret(self.db)
        self.request_key = idempotency.request_key(self.secret)
        self.catalog = Catalog(self.db)
        self.signed_out = auth.SignedOut(self.db)
        phone, password = config.env("PALACE_ADMIN_PHONE"), config.env("PALACE_ADMIN_PASSWORD")
        if phone and password:
            auth.ensure_admin(self.db, phone, password)


MAX_BODY = 1024 * 1024  # bytes; a route that takes uploads declares its own `max_body`


class BodyLimit:
    """Refuse an oversized body before reading it; a body of unknown length cannot be bounded."""

    def process_resource(self, req, resp, resource, params):
        if req.method not in ("POST", "PUT", "PATCH"):
            return
        limit = getattr(resource, "max_body", MAX_BODY)
        if req.content_length is None and req.get_header("Transfer-Encoding"):
            raise problems.Problem(411, "length-required", "send the body with a Content-Length")
        if (req.content_length or 0) > limit:
            raise problems.Problem(413, "payload-too-large", f"the body may be at most {limit} bytes")

    def process_response(self, req, resp, resource, req_succeeded):
        """Read what is left of a body the answer did not need (a 401, a 404...): gunicorn drains only
        64 KiB and then drops the kept-alive connection, so the client's next request on it would fail.
        A body over the limit is not read: that connection closes, as HTTP allows after a 413."""
        if 0 < (req.content_length or 0) <= getattr(resource, "max_body", MAX_BODY):
            req.bounded_stream.exhaust()


class QueryText:
    """A query parameter with a NUL in it is refused: PostgreSQL's text cannot hold one, and a route
    passing the parameter on as a filter (welfare's state) answered with a 500."""

    def process_request(self, req, resp):
        for name, value in req.params.items():
            if any("\x00" in v for v in (value if isinstance(value, list) else [value])):
                raise problems.Problem(400, "bad-request", f"the query parameter {name} holds a NUL character")


class RequestContext:
    """Gives every request an id (kept from X-Request-Id when sane) and reads its bearer token."""

    def __init__(self, gateway):
        self.gateway = gateway

    def process_request(self, req, resp):
        given = req.get_header("X-Request-Id") or ""
        req.context.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        logs.request_id.set(req.context.request_id)  # each gthread request runs in its own thread
        resp.set_header("X-Request-Id", req.context.request_id)
        req.context.account = None
        header = req.get_header("Authorization")
        if header and req.path not in internal.PATHS:  # there it holds the metrics token
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise problems.Problem(401, "bad-token", "use Authorization: Bearer <access token>")
            account, generation = auth.read_access_token(self.gateway.secret, token.strip())
            refusal = self.gateway.signed_out.refusal(account.id, generation)
            if refusal:
                raise refusal
            req.context.account = account


def route_table(gateway):
    return [*ops.routes(gateway), *accounts.routes(gateway), *desk.routes(gateway), *enrolment.routes(gateway),
            *venues.routes(gateway), *welfare.routes(gateway), *notify.routes(gateway), *reports.routes(gateway)]


def create_app():
    gateway = Gateway()
    app = falcon.App(middleware=[metrics.Timing(), RequestContext(gateway), QueryText(), BodyLimit(),
                                 conventions.CreatedLocation(), conventions.PageLinks(), exports.Exports()])
    app.req_options.strip_url_path_trailing_slash = True
    # JSON bodies only (falcon would also parse forms, and a form's strings would meet our schemas)
    app.req_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: falcon.media.JSONHandler()})
    problems.install(app)
    routes = route_table(gateway)
    for path, resource in routes:
        app.add_route(path, resource)
    document = openapi.build(routes)
    app.add_route("/openapi.json", ops.OpenApi(document))
    app.add_route("/metrics", metrics.Metrics(gateway.metrics_token))
    app.add_static_route(ops.DOCS_ASSETS, str(web.web_root() / "docs"))  # Swagger UI, from the web build
    # the web apps answer what no route does (falcon tries sinks last), never under the API's paths
    app.add_sink(web.WebApps(web.web_root()), web.SINK)
    return app

