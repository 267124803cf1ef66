"""Errors as application/problem+json (RFC 9457) with a stable `type` per kind of error: an absolute
address under the palace's public one, where a short page says what it means (gateway.problem_pages)."""
import json
import logging

import falcon

from gateway import problem_pages
from services.common.errors import PalaceError

log = logging.getLogger("palace.gateway")

PROBLEM = "application/problem+json"


class Problem(falcon.HTTPError):
    """An HTTP error whose body is a problem document."""

    def __init__(self, status, slug, detail, errors=None, headers=None):
        super().__init__(status, title=falcon.code_to_http_status(status)[4:], description=detail,
                         headers=headers)
        self.slug, self.errors = slug, errors or {}

    def to_dict(self, obj_type=dict):
        doc = {"type": problem_pages.PREFIX + self.slug, "title": self.title, "status": int(self.status_code),
               "detail": self.description}
        if self.errors:
            doc["errors"] = self.errors
        return doc


def invalid(errors, detail="the request has invalid fields"):
    return Problem(422, "validation-failed", detail, errors)


def unavailable(detail, retry_after=2):
    return Problem(503, "service-unavailable", detail, headers={"Retry-After": str(retry_after)})


# falcon's own errors (bad JSON, 404 route, 405, 413, 415...) get a slug from their status
FALCON_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                405: "method-not-allowed", 411: "length-required", 413: "payload-too-large",
                415: "unsupported-media-type", 429: "too-many-requests"}


def serialize_error(req, resp, exc):
    if isinstance(exc, Problem):
        doc = exc.to_dict()
    else:
        status = int(exc.status_code)
        doc = {"type": problem_pages.PREFIX + FALCON_SLUGS.get(status, problem_pages.slug_of(status)),
               "title": exc.title, "status": status, "detail": exc.description or exc.title}
    doc["type"] = problem_pages.base(req) + doc["type"]  # absolute, where its page is
    doc["request_id"] = getattr(req.context, "request_id", None)
    resp.content_type = PROBLEM
    resp.text = json.dumps(doc, ensure_ascii=False)  # falcon has no media handler for problem+json


def handle_palace_error(req, resp, exc, params):
    """A service refused on purpose: its error names the status and the problem."""
    headers = {503: {"Retry-After": "2"}, 401: {"WWW-Authenticate": "Bearer"}}.get(exc.status)
    raise Problem(exc.status, exc.problem, exc.detail, exc.errors, headers=headers)


def handle_unexpected(req, resp, exc, params):
    if isinstance(exc, falcon.HTTPError):
        raise exc
    log.exception("unhandled error on %s %s (request %s)", req.method, req.path,
                  getattr(req.context, "request_id", None))
    raise Problem(500, "internal-error", "something went wrong on our side; it has been logged")


def install(app):
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(PalaceError, handle_palace_error)
