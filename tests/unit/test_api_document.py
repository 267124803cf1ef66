"""The API document as generated clients read it, built from the routes alone (no stack)."""
import re

import pytest

from gateway.app import route_table
from gateway.openapi import build

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document():
    return build(route_table(None))


def _operations(document):
    return [(method.upper(), path, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in METHODS]


def test_every_operation_has_a_unique_readable_operation_id(document):
    operations = _operations(document)
    assert len(operations) > 100
    ids = [op.get("operationId") for _, _, op in operations]
    unnamed = [(m, p) for m, p, op in operations if not op.get("operationId")]
    assert not unnamed, f"operations with no operationId: {unnamed}"
    assert len(set(ids)) == len(ids), f"operationIds used twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    odd = [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i)]
    assert not odd, f"operationIds not in lowerCamelCase (verb first): {odd}"


def test_every_route_that_answers_201_says_where_the_new_thing_is():
    creating = [(path, type(resource).__name__) for path, resource in route_table(None)
                for op in (getattr(resource, "doc", None) or {}).values() if "201" in op["responses"]]
    assert len(creating) > 20
    unplaced = [(path, name) for path, name in creating
                if not getattr(dict(route_table(None))[path], "location", "").startswith("/v1/")]
    assert not unplaced, f"201 routes with no `location`: {unplaced}"


def test_a_201_documents_its_location_header(document):
    created = [op for _, _, op in _operations(document) if "201" in op["responses"]]
    assert all("Location" in op["responses"]["201"].get("headers", {}) for op in created)


def test_a_change_to_a_versioned_resource_requires_if_match(document):
    """Every PATCH of a resource answered with an ETag documents If-Match as required, 412 and 428."""
    versioned = [(path, item["patch"]) for path, item in document["paths"].items()
                 if "patch" in item and "ETag" in item.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})]
    assert [path for path, _ in versioned] == ["/v1/courses/{course_id}"]
    for path, op in versioned:
        header = next(p for p in op["parameters"] if p["name"] == "If-Match")
        assert header["in"] == "header" and header["required"] is True, path
        assert {"412", "428"} <= set(op["responses"]), path


def test_if_match_reads_strong_version_tags_only():
    from falcon import testing

    from gateway.routes.enrolment import read_versions
    read = lambda value: read_versions(testing.create_req(headers={"If-Match": value} if value else {}))  # noqa: E731
    assert read(None) == {"version_required": True}  # no If-Match: 428
    assert read("*") == {}  # whatever the version
    assert read('"3", W/"4", "abc"') == {"read_versions": [3]}
    assert read('"abc"') == {"read_versions": []}  # nothing of ours matches: 412


def test_every_list_says_how_many_there_are(document):
    """A GET answering a bare array documents X-Total-Count, paged or answered whole."""
    uncounted = [path for path, item in document["paths"].items()
                 if item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
                 .get("application/json", {}).get("schema", {}).get("type") == "array"
                 and "X-Total-Count" not in item["get"]["responses"]["200"].get("headers", {})]
    assert not uncounted, uncounted
