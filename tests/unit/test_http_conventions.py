"""The gateway's HTTP conventions on a tiny falcon app (no stack): Location on 201s, Link and
X-Total-Count on pages."""
import falcon
import falcon.testing
import pytest

from gateway import conventions
from gateway.openapi import operation
from gateway.routes import PAGING


class Things:
    doc = {"get": operation("List things", operation_id="listThings", tag="t", many=True, query=PAGING)}
    location = "/v1/things/{id}"

    def on_get(self, req, resp):
        limit, offset = req.get_param_as_int("limit", default=50), req.get_param_as_int("offset", default=0)
        resp.media = list(range(7))[offset:offset + limit]
        if req.get_param_as_bool("counted"):
            req.context["total"] = 7 if resp.media else None

    def on_post(self, req, resp):
        resp.status, resp.media = 201, {"id": "a b"}


class Ledger:
    doc = {"get": operation("A ledger", operation_id="getLedger", tag="t", query=PAGING)}
    page_of = "entries"

    def on_get(self, req, resp, fund_id):
        resp.media = {"fund_id": fund_id, "entries": [1, 2]}


@pytest.fixture(scope="module")
def client():
    app = falcon.App(middleware=[conventions.CreatedLocation(), conventions.PageLinks()])
    app.add_route("/v1/things", Things())
    app.add_route("/v1/funds/{fund_id}/ledger", Ledger())
    return falcon.testing.TestClient(app)


def test_a_201_names_the_new_thing_with_its_id_quoted(client):
    assert client.simulate_post("/v1/things").headers["Location"] == "/v1/things/a%20b"


def test_a_full_page_links_the_next_and_a_later_one_the_previous_keeping_filters(client):
    first = client.simulate_get("/v1/things", query_string="limit=3&colour=red")
    assert first.headers["Link"] == '</v1/things?colour=red&limit=3&offset=3>; rel="next"'
    last = client.simulate_get("/v1/things", query_string="limit=3&offset=6&colour=red")
    assert last.headers["Link"] == '</v1/things?colour=red&limit=3&offset=3>; rel="prev"'


def test_a_whole_list_on_one_page_has_no_links(client):
    assert "Link" not in client.simulate_get("/v1/things").headers


def test_a_page_inside_an_answer_is_counted_by_the_list_the_resource_names(client):
    answer = client.simulate_get("/v1/funds/relief/ledger", query_string="limit=2")
    assert answer.headers["Link"] == '</v1/funds/relief/ledger?limit=2&offset=2>; rel="next"'


def test_a_counted_list_says_how_many_and_links_next_only_while_more_follow(client):
    full = client.simulate_get("/v1/things", query_string="limit=7&counted=true")
    assert full.headers["X-Total-Count"] == "7" and "Link" not in full.headers  # full, but the last
    middle = client.simulate_get("/v1/things", query_string="limit=3&offset=3&counted=true")
    assert middle.headers["X-Total-Count"] == "7" and 'rel="next"' in middle.headers["Link"]
    past = client.simulate_get("/v1/things", query_string="limit=3&offset=9&counted=true")
    assert "X-Total-Count" not in past.headers  # a page past the end cannot see how many


def test_a_list_without_a_count_says_none_only_when_its_first_page_is_empty(client):
    assert "X-Total-Count" not in client.simulate_get("/v1/things").headers
    assert client.simulate_get("/v1/funds/relief/ledger", query_string="limit=2&offset=0").headers.get(
        "X-Total-Count") is None
