"""Parsing an RPC's arguments into clear `Invalid`/`NotFound` errors instead of database errors."""
import uuid

from marshmallow import ValidationError

from services.common.errors import Invalid, NotFound


def load(schema, data):
    if not isinstance(data, dict):
        raise Invalid("the request body must be a JSON object", errors={"_schema": ["must be an object"]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid("the request has invalid fields", errors=exc.normalized_messages()) from exc


def page(limit, offset, most=200):
    errors = {}
    if not isinstance(limit, int) or not 1 <= limit <= most:
        errors["limit"] = [f"must be between 1 and {most}"]
    if not isinstance(offset, int) or offset < 0:
        errors["offset"] = ["must be 0 or more"]
    if errors:
        raise Invalid("bad page", errors=errors)
    return limit, offset


def listed(items, rows, with_total):
    """A page of a list as the gateway asks for it: the items alone, or with_total also how many there
    are in all, counted by the page's own query (`count(*) OVER ()` as total). An empty page cannot
    see them: None (the gateway knows an empty first page means none)."""
    if not with_total:
        return items
    return {"items": items, "total": rows[0]["total"] if rows else None}


def object_id(value, kind):
    """An id from a path: a malformed one names nothing, so it is a 404 like an unknown one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound(f"{kind} {value} does not exist", f"{kind}-not-found") from None
