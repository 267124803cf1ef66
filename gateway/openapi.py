"""OpenAPI 3 document built from the marshmallow schemas each route declares."""
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway import exports
from gateway.conventions import whole_list
from gateway.schemas import ProblemSchema

JSON = "application/json"


# query parameter types beyond JSON's own: a date is a string of a format
QUERY_TYPES = {"date": {"type": "string", "format": "date"}}

def operation(summary, *, operation_id, tag, body=None, response=None, status=200, many=False, auth=True,
              roles=(), idempotent=False, query=(), errors=(400, 422), export=None):
    """The OpenAPI operation of one responder. `operation_id` is the name generated clients give it
    (listCourses, enrolInCourse): a verb and the thing, unique in the API, never changed once published.
    `export`: the columns of the list as a spreadsheet (gateway.exports), which it then also answers."""
    op = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": {}}
    description = f"Roles: {', '.join(roles)}." if roles else ""
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    ok = {"description": HTTPStatus(status).phrase}  # OK, Created, Accepted, No Content
    if response is not None:
        schema = {"type": "array", "items": response} if many else response
        ok["content"] = {JSON: {"schema": schema}}
    if any(name == "limit" for name, _ in query):
        ok["headers"] = {"Link": {"description": 'the pages beside this one (RFC 8288): rel="next" when more'
                                  ' follow, rel="prev" when it is not the first', "schema": {"type": "string"}}}
        if many:
            ok["headers"]["X-Total-Count"] = {
                "description": "how many there are in all, on every page but one past the end",
                "schema": {"type": "integer", "minimum": 0}}
    if status == 201:
        ok["headers"] = {"Location": {"description": "where the new thing is (or, when it has no address of its"
                                      " own, the list or record it belongs to)", "schema": {"type": "string"}}}
    op["responses"][str(status)] = ok
    sizes = (413,) if body is not None else ()
    for code in sorted({*errors, *((401, 403) if auth else ()), *sizes, 503}):
        op["responses"][str(code)] = {"$ref": "#/components/responses/Problem"}
    params = [{"name": q, "in": "query", "required": False, "schema": QUERY_TYPES.get(t, {"type": t})}
              for q, t in query]
    if idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "maxLength": 255},
                       "description": "the same key and body replays the first answer"})
    if params:
        op["parameters"] = params
    if auth:
        op["security"] = [{"bearer": []}]
    if export is not None:
        exports.document(op, export, response)
    return op


def versioned(op, *, conditional=False):
    """An operation on a versioned resource: its answer carries the version as an ETag, and a
    conditional change requires If-Match: a stale one changes nothing (412), none at all is refused
    (428), so two editors never overwrite each other unseen."""
    ok = next(answer for status, answer in op["responses"].items() if status.startswith("2"))
    ok.setdefault("headers", {})["ETag"] = {"description": "the version of what is shown, for If-Match",
                                            "schema": {"type": "string"}}
    if conditional:
        op.setdefault("parameters", []).append({
            "name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
            "description": "the ETag read (or `*`: whatever the version): if the resource has changed since,"
                           " nothing is changed (412); without the header, 428"})
        for status in ("412", "428"):
            op["responses"][status] = {"$ref": "#/components/responses/Problem"}
        op["responses"] = dict(sorted(op["responses"].items()))
    return op


def build(routes):
    spec = APISpec(title="Workers' Cultural Palace", version="1.0.0", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Classes, rooms, welfare and notifications of a city union."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.response("Problem", {
        "description": "An error, as application/problem+json",
        "content": {"application/problem+json": {"schema": "Problem"}}})
    for path, resource in routes:
        operations = getattr(resource, "doc", None)
        if operations and whole_list(operations.get("get")):
            operations["get"]["responses"]["200"].setdefault("headers", {})["X-Total-Count"] = {
                "description": "how many there are: the whole list, in this one answer",
                "schema": {"type": "integer", "minimum": 0}}
        if operations:
            params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                      for p in _path_params(path)]
            spec.path(path=path, operations=operations, parameters=params)
    return spec.to_dict()


def _path_params(path):
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def main():
    """`python -m gateway.openapi`: the API document on stdout, built from the routes alone (no database,
    broker or running gateway), for the web apps' typed client (web/shared/api)."""
    import json
    import sys

    from gateway.app import route_table

    json.dump(build(route_table(None)), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
