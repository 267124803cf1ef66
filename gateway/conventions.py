"""HTTP's own conventions, kept for every route in one place so no responder forgets them: a 201 says
where the new thing is (Location), a page of a list says where the pages beside it are (Link) and
how many there are in all (X-Total-Count), which a list answered whole also says."""
import logging
from urllib.parse import quote, urlencode

from gateway.routes import paging

log = logging.getLogger("palace.gateway")
MOST_OFFSET = 1_000_000  # as routes.paging allows


class CreatedLocation:
    """A 201 says where the new thing is (RFC 9110): a resource that creates names its address as
    `location`, a template filled from the path's parameters and the answer's fields (`{id}`). Set
    here rather than in each responder, so an answer replayed for an Idempotency-Key carries it too."""

    def process_resource(self, req, resp, resource, params):
        req.context.params = params

    def process_response(self, req, resp, resource, req_succeeded):
        template = getattr(resource, "location", None)
        if resp.status_code != 201 or template is None or resp.get_header("Location"):
            return
        values = {**(resp.media if isinstance(resp.media, dict) else {}), **req.context.get("params", {})}
        try:
            resp.set_header("Location", template.format_map(
                {k: quote(str(v), safe="") for k, v in values.items()}))
        except KeyError as exc:  # the thing was made: answer without the header rather than fail
            log.warning("no Location for %s %s: the answer has no %s", req.method, req.path, exc)


class PageLinks:
    """A page of a list names its neighbours (RFC 8288): rel="next" when more follow, rel="prev" when
    it is not the first; and how many there are in all (X-Total-Count), when the route counted them
    (`total` in the request's context, from the page's own query). Without a count, "more follow"
    means the page is full (the next one may then be empty). The links keep the request's filters.
    The page is the answer, or the list in it that the resource names as `page_of` (a fund's ledger:
    its entries)."""

    def process_response(self, req, resp, resource, req_succeeded):
        if not req_succeeded or req.method != "GET" or resp.status_code != 200:
            return
        if not paged(resource):
            if whole_list((getattr(resource, "doc", None) or {}).get("get")) and isinstance(resp.media, list):
                resp.set_header("X-Total-Count", str(len(resp.media)))  # a list not paged: all of it is here
            return
        size = req.context.get("page_size")
        if size is None:
            listed = resp.media
            if hasattr(resource, "page_of"):
                listed = listed.get(resource.page_of) if isinstance(listed, dict) else None
            if not isinstance(listed, list):
                return
            size = len(listed)
        try:
            page = paging(req)
        except Exception:  # a route that reads its own paging: no links rather than a late error
            return
        limit, offset = page["limit"], page["offset"]
        total = req.context.get("total")
        if total is None and offset == 0 and size == 0:
            total = 0  # an empty first page: there are none
        if total is not None:
            resp.set_header("X-Total-Count", str(total))
        more = offset + size < total if total is not None else size >= limit
        links = []
        if more and offset + limit <= MOST_OFFSET:
            links.append(f'<{_page(req, limit, offset + limit)}>; rel="next"')
        if offset > 0:
            links.append(f'<{_page(req, limit, max(0, offset - limit))}>; rel="prev"')
        if links:
            resp.set_header("Link", ", ".join(links))


def paged(resource):
    """The route's list takes limit and offset (its GET operation documents them)."""
    listing = (getattr(resource, "doc", None) or {}).get("get") or {}
    return any(p["name"] == "limit" and p["in"] == "query" for p in listing.get("parameters", ()))


def whole_list(op):
    """A GET answering a bare array that is not paged (a year's calendar, the programmes): all of it."""
    if not op:
        return False
    schema = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    # the schema: {"type": "array", ...} for a list, else a marshmallow schema (a class, or its name)
    return isinstance(schema, dict) and schema.get("type") == "array" and not any(p["name"] == "limit" for p in op.get("parameters", ()))


def _page(req, limit, offset):
    query = {k: v for k, v in req.params.items() if k not in ("limit", "offset")}
    return f"{req.path}?{urlencode({**query, 'limit': limit, 'offset': offset}, doseq=True)}"
