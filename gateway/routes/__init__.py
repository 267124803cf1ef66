"""One module of routes per service; helpers they share."""
import falcon
from marshmallow import ValidationError

from gateway.problems import Problem, invalid


class Resource:
    """A route's resource: what it needs of the gateway (its database, catalog, key)."""

    def __init__(self, gateway):
        self.gateway = gateway


def read_body(req):
    """The JSON object in the request body, or a 400/415/422 that says what is wrong with it."""
    try:
        media = req.get_media()
    except falcon.MediaNotFoundError:
        raise Problem(400, "body-required", "send a JSON object in the request body") from None
    except falcon.MediaMalformedError as exc:
        raise Problem(400, "malformed-json", f"the body is not valid JSON: {exc.description}") from None
    except RecursionError:
        raise Problem(400, "malformed-json", "the body nests too deeply") from None
    if not isinstance(media, dict):
        raise invalid({"_schema": ["the body must be a JSON object"]})
    return media


def load(schema, data):
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise invalid(exc.normalized_messages()) from None


def paging(req):
    walking = req.context.get("export_page")  # an export reads every page (gateway.exports)
    if walking:
        return dict(walking)
    return {"limit": req.get_param_as_int("limit", min_value=1, max_value=200, default=50),
            "offset": req.get_param_as_int("offset", min_value=0, max_value=1_000_000, default=0)}


PAGING = (("limit", "integer"), ("offset", "integer"))


def listed(req, answer):
    """The items of a page a service answered `with_total`; the total is kept for X-Total-Count.
    A service from before totals answers the bare list: it is shown uncounted."""
    if isinstance(answer, list):
        return answer
    req.context["total"] = answer["total"]
    return answer["items"]


def counted(req, rows):
    """A page of rows the gateway read itself, each with the `count(*) OVER ()` of its query as total."""
    req.context["total"] = rows[0]["total"] if rows else None
    return rows
