"""Bad input gets a 4xx problem document that names the field and the reason; never a 500."""
import uuid

import pytest

from tests.e2e.conftest import Client, new_member, own_connection

PROBLEM = "application/problem+json"


def assert_problem(answer, status, slug, field=None):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    doc = answer.json()
    assert doc["type"].endswith(f"/problems/{slug}") and doc["status"] == status and doc["detail"]
    if field:
        assert field in doc["errors"], doc
    return doc


@pytest.fixture(scope="module")
def course_id(admin):
    return admin.post("/v1/courses", {"title": "Paper cutting", "capacity": 2}).json()["id"]


@pytest.mark.parametrize("body, field", [
    ({"capacity": 10}, "title"),
    ({"title": "", "capacity": 10}, "title"),
    ({"title": "Fitness", "capacity": 0}, "capacity"),
    ({"title": "Fitness", "capacity": -3}, "capacity"),
    ({"title": "Fitness", "capacity": "many"}, "capacity"),
    ({"title": "Fitness", "capacity": 10, "opens_at": "2027-03-01T19:00:00"}, "opens_at"),
    ({"title": "Fitness", "capacity": 10, "opens_at": "yesterday"}, "opens_at"),
    ({"title": "Fitness", "capacity": 10, "opens_at": "2027-03-01T19:00:00+08:00",
      "closes_at": "2027-02-01T19:00:00+08:00"}, "closes_at"),
    ({"title": "Fitness", "capacity": 10, "colour": "red"}, "colour"),
    ({"title": "Fit\u0000ness", "capacity": 10}, "title"),
    ({"title": "Fitness \ud800", "capacity": 10}, "title"),
    ({"title": "Fitness", "capacity": 10, "closes_at": "2020-01-01T00:00:00+00:00"}, "closes_at"),
    ({"title": "Fitness", "capacity": 10, "opens_at": "0001-01-01T00:00:00+05:00"}, "opens_at"),
    ({"title": "Fitness", "capacity": 10, "opens_at": "9999-12-31T23:00:00-05:00"}, "opens_at"),
])
def test_a_bad_course_names_the_field(admin, body, field):
    doc = assert_problem(admin.post("/v1/courses", body), 422, "validation-failed", field)
    assert doc["errors"][field]


def test_a_body_that_is_not_json_is_a_400(admin):
    answer = admin.post("/v1/courses", data="{not json", headers={"Content-Type": "application/json"})
    assert_problem(answer, 400, "malformed-json")


def test_a_body_that_is_not_an_object_is_a_422(admin):
    assert_problem(admin.post("/v1/courses", [1, 2]), 422, "validation-failed", "_schema")


def test_a_wrong_content_type_is_a_415(admin):
    answer = admin.post("/v1/courses", data="title=x", headers={"Content-Type": "text/plain"})
    assert_problem(answer, 415, "unsupported-media-type")


def test_an_unknown_or_malformed_course_is_a_404(palace):
    assert_problem(Client(palace.url).get(f"/v1/courses/{uuid.uuid4()}"), 404, "course-not-found")
    assert_problem(Client(palace.url).get("/v1/courses/not-an-id"), 404, "course-not-found")


def test_enrolling_in_an_unknown_course_is_a_404(palace):
    member = new_member(palace.url)
    assert_problem(member.post(f"/v1/courses/{uuid.uuid4()}/enrolments"), 404, "course-not-found")


def test_a_bad_page_is_a_400(palace):
    assert_problem(Client(palace.url).get("/v1/courses?limit=0"), 400, "bad-request")


def test_signing_in_and_registering_badly(palace):
    anonymous = Client(palace.url)
    assert_problem(anonymous.post("/v1/auth/register", {"phone": "123", "name": "Li", "password": "x"}), 422,
                   "validation-failed", "phone")
    assert_problem(anonymous.post("/v1/auth/token", {"phone": "13912345678", "password": "wrong-password"}),
                   401, "bad-credentials")
    assert_problem(anonymous.post("/v1/auth/token", {"phone": "13912345678"}), 422, "validation-failed", "password")


@pytest.mark.parametrize("name", ["Li\u0000Na", "Li \udc00"])
def test_a_name_postgres_cannot_store_is_refused_not_a_500(palace, name):
    body = {"phone": "13722223333", "name": name, "password": "long-enough"}
    assert_problem(Client(palace.url).post("/v1/auth/register", body), 422, "validation-failed", "name")


@pytest.mark.parametrize("phone", ["13900000001\n", "\uff11\uff13\uff19\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff11",
                                   " 13900000001", "12900000001", "+8613900000001"])
def test_a_phone_is_eleven_ascii_digits_and_nothing_more_everywhere(palace, phone):
    """One Phone field for accounts, sign-in and contacts: a trailing line break or full-width digits
    (which \\d and $ let through before) are refused, naming the field."""
    anonymous, member = Client(palace.url), new_member(palace.url)
    assert_problem(anonymous.post("/v1/auth/register", {"phone": phone, "name": "Li", "password": "long-enough"}),
                   422, "validation-failed", "phone")
    assert_problem(anonymous.post("/v1/auth/token", {"phone": phone, "password": "long-enough"}),
                   422, "validation-failed", "phone")
    assert_problem(member.put("/v1/me/contacts", {"phone": phone}), 422, "validation-failed", "phone")


def test_a_phone_registers_once_and_a_stranger_is_not_told_it_is_taken(palace):
    body = {"phone": "13711112222", "name": "Zhang Wei", "password": "long-enough"}
    first = Client(palace.url).post("/v1/auth/register", body)
    again = Client(palace.url).post("/v1/auth/register", {**body, "name": "Someone Else", "password": "other-pass"})
    assert first.status_code == again.status_code == 201, again.text
    assert set(first.json()) == set(again.json()) and first.json()["id"] != again.json()["id"]
    token = "/v1/auth/token"
    assert Client(palace.url).post(token, {"phone": body["phone"], "password": "long-enough"}).status_code == 200
    assert Client(palace.url).post(token, {"phone": body["phone"], "password": "other-pass"}).status_code == 401


def test_who_may_do_what(palace, course_id):
    anonymous, member = Client(palace.url), new_member(palace.url)
    refused = anonymous.post(f"/v1/courses/{course_id}/enrolments")
    assert_problem(refused, 401, "unauthenticated")
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(Client(palace.url, "not-a-token").get("/v1/me"), 401, "bad-token")
    assert_problem(member.post("/v1/courses", {"title": "Mine", "capacity": 1}), 403, "forbidden")
    assert member.get("/v1/me").json()["roles"] == ["member"]


def test_an_oversized_body_is_a_413_before_it_is_read(admin):
    answer = own_connection(admin).post("/v1/courses", data=b"{" + b" " * (1024 * 1024 + 1) + b"}",
                                        headers={"Content-Type": "application/json"})
    assert_problem(answer, 413, "payload-too-large")


def test_a_body_of_unknown_length_is_a_411(admin):
    chunks = iter([b'{"title": "Choir",', b' "capacity": 5}'])
    answer = admin.post("/v1/courses", data=chunks, headers={"Content-Type": "application/json"})
    assert_problem(answer, 411, "length-required")


def test_deeply_nested_json_is_a_400(admin):
    answer = admin.post("/v1/courses", data="[" * 200_000, headers={"Content-Type": "application/json"})
    assert_problem(answer, 400, "malformed-json")


def test_the_benchmark_s_direct_database_routes_are_not_in_the_production_gateway(palace):
    """They read the enrolment database with no service in between (bench/_direct.py): only a bench
    stack's gateway has them."""
    for path in ("/bench/direct/courses", f"/bench/direct/courses/{uuid.uuid4()}"):
        assert_problem(Client(palace.url).get(path), 404, "not-found")
