"""Fed garbage through the gateway: schemathesis over the whole API document with a larger budget
than `make test`, then hand-written cases: injection strings and emoji stored and shown verbatim
(also in the member's inbox, where a template engine could be fooled), times without a zone
refused naming the field, the year 9999 accepted consistently or refused, bodies too big, too
deep or of the wrong type. Never a 500."""
import time
import uuid
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway import openapi
from gateway.app import route_table
from tests.e2e.conftest import NO_LIMITS, Client, admin, new_member, palace  # noqa: F401 (fixtures)
from tests.faults.conftest import figures
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, eventually

schema = schemathesis.openapi.from_dict(openapi.build(route_table(None)))  # routes alone, no stack
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 50  # per operation (tests/e2e/test_api_fuzz.py runs 8 in `make test`): under 5 minutes on 2 cores
FUZZED = {"statuses": Counter(), "operations": set(), "started": None}
# gunicorn refuses a request line over 4 KiB itself, before the gateway sees it, with an HTML 414 no
# operation can document: counted, not checked against the document
REQUEST_LINE_TOO_LONG = 414

NASTY = ["'; DROP TABLE courses; --", "{{7*7}}", "{% raw %}", "{{ config }}{% for x in range(3) %}x{% endfor %}",
         "${7*7} <script>alert('x')</script> \\ \" %s %(x)s 100% a_b", "插花 🌸👩‍👩‍👧 Ωμέγα \u202eRTL\u202c ﷽"]


@pytest.fixture(scope="module")
def admin_token(palace):  # noqa: F811
    from tests.e2e.conftest import sign_in
    return sign_in(palace.url, ADMIN_PHONE, ADMIN_PASSWORD).http.headers["Authorization"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_promises_under_a_larger_budget(case, palace, admin_token):  # noqa: F811
    FUZZED["started"] = FUZZED["started"] or time.monotonic()
    FUZZED["operations"].add(case.operation.label)
    response = case.call(base_url=palace.url, headers={"Authorization": admin_token})
    FUZZED["statuses"][response.status_code] += 1
    if response.status_code != REQUEST_LINE_TOO_LONG:
        case.validate_response(response, checks=CHECKS)


def test_the_fuzzing_figures(palace):  # noqa: F811
    seconds = time.monotonic() - FUZZED["started"] if FUZZED["started"] else 0
    statuses = dict(sorted(FUZZED["statuses"].items()))
    figures("inputs-fuzz", operations=len(FUZZED["operations"]), examples_per_operation=EXAMPLES,
            requests=sum(statuses.values()), seconds=round(seconds), statuses=statuses)
    assert not any(status >= 500 for status in statuses)


# hand-written cases


def problem(answer, status, field=None):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json"), answer.headers
    if field:
        errors = answer.json().get("errors", {})
        assert field in str(errors), answer.json()
    return answer.json()


def test_injection_strings_and_emoji_are_stored_and_shown_verbatim(palace, admin):  # noqa: F811
    site = admin.post("/v1/sites", {"name": "Verbatim Workers' Home 🏠", "kind": "shared"}).json()["id"]
    anyone, shown = Client(palace.url), 0
    for text in NASTY:
        course = admin.post("/v1/courses", {"title": text, "description": text, "category": text, "capacity": 5,
                                            "site_id": site})
        assert course.status_code == 201, course.text
        course = course.json()
        assert (course["title"], course["description"], course["category"]) == (text, text, text)
        assert eventually(lambda: anyone.get(f"/v1/courses/{course['id']}").json()["title"] == text)
        # found by its own text, from the catalog (a read model: it catches up within moments) and from the
        # enrolment service (which answers the filters the catalog does not)
        eventually(lambda: [c["id"] for c in anyone.get("/v1/courses", params={"site_id": site, "q": text}).json()]
                   == [course["id"]])
        assert [c["id"] for c in anyone.get("/v1/courses", params={"site_id": site, "q": text,
                                                                   "state": "published"}).json()] == [course["id"]]

        member = new_member(palace.url, name=text)
        assert member.get("/v1/me").json()["name"] == text
        assert member.id in [a["id"] for a in admin.get("/v1/accounts", params={"q": text, "limit": 200}).json()]
        member.put("/v1/me/notification-preferences", {"language": "zh-CN"})
        assert member.post(f"/v1/courses/{course['id']}/enrolments").status_code == 201
        [note] = eventually(lambda: member.get("/v1/me/notifications").json(), timeout=20)
        assert note["title"] == f"报名成功：{text}", "the title goes into the message as text, not as a template"
        assert f"《{text}》" in note["body"] and "49" not in note["body"]

        for path, body in (("/v1/sites", {"name": text, "kind": "shared"}), ("/v1/units", {"name": text})):
            made = admin.post(path, body)
            assert made.status_code == 201 and made.json()["name"] == text, made.text
        room = admin.post("/v1/rooms", {"site_id": site, "name": text, **NO_LIMITS, "capacity": 10}).json()
        assert room["name"] == text and anyone.get(f"/v1/rooms/{room['id']}").json()["name"] == text
        booking = member.post("/v1/bookings", {"room_id": room["id"], "title": text,
                                               "starts_at": "2030-03-05T19:00:00+08:00",
                                               "ends_at": "2030-03-05T20:00:00+08:00"})
        assert booking.status_code == 201 and member.get(f"/v1/bookings/{booking.json()['id']}").json()["title"] \
            == text, booking.text
        case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": text})
        assert case.status_code == 201 and member.get(f"/v1/welfare/applications/{case.json()['id']}").json()[
            "reason"] == text, case.text
        shown += 1
    # LIKE's own characters mean themselves in a search: "%" is not "everything"
    for q, expected in (("%", 3), ("_", 1), ("\\", 1), ("100%", 1), ("7*7", 2), ("e%r", 0)):
        for extra in ({}, {"state": "published"}):
            found = anyone.get("/v1/courses", params={"site_id": site, "q": q, **extra}).json()
            assert len(found) == expected, (q, extra, [c["title"] for c in found])
    underscored = admin.get("/v1/accounts", params={"q": "_", "limit": 200}).json()
    assert underscored and all("_" in a["name"] for a in underscored), [a["name"] for a in underscored]
    figures("inputs-verbatim", strings=len(NASTY), stored_and_shown_in=["course", "catalog search", "account",
                                                                          "inbox", "site", "unit", "room",
                                                                          "booking", "welfare case"],
            rounds=shown)


def test_a_certificate_page_escapes_what_it_shows(palace, admin):  # noqa: F811
    text = "<script>alert('x')</script> {{7*7}}"
    held = admin.post("/v1/courses", {"title": text, "capacity": 5, "attendance_threshold": 0.5, "schedule": {
        "dates": [{"starts_at": "2026-01-05T19:00:00+08:00", "ends_at": "2026-01-05T21:00:00+08:00"}]}}).json()
    member = new_member(palace.url, name=text)
    enrolment = member.post(f"/v1/courses/{held['id']}/enrolments").json()["id"]
    assert admin.post(f"/v1/sessions/{held['sessions'][0]['id']}/attendance",
                      {"marks": [{"member_id": member.id, "present": True}]}).status_code == 200
    page = member.get(f"/v1/enrolments/{enrolment}/certificate").text
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; {{7*7}}" in page


def test_a_nul_in_a_query_parameter_is_a_400(palace, admin):  # noqa: F811
    for path, name in (("/v1/welfare/applications", "state"), ("/v1/welfare/applications", "programme"),
                       ("/v1/mutual-aid/claims", "state"), ("/v1/courses", "q"), ("/v1/accounts", "q"),
                       ("/v1/bookings", "status"), ("/v1/sites", "district")):
        assert "NUL" in problem(admin.get(path, params={name: "submitted\x00"}), 400)["detail"], (path, name)


def test_times_without_a_zone_are_refused_naming_the_field(palace, admin):  # noqa: F811
    site = admin.post("/v1/sites", {"name": "Zone home", "kind": "shared"}).json()["id"]
    room = admin.post("/v1/rooms", {"site_id": site, "name": "Zone hall", **NO_LIMITS, "capacity": 10}).json()["id"]
    member = new_member(palace.url)
    case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "wages"}).json()["id"]
    naive, aware = "2030-03-05T19:00:00", "2030-03-05T21:00:00+08:00"
    cases = [
        (admin, "/v1/courses", {"title": "t", "capacity": 5, "opens_at": naive}, "opens_at"),
        (admin, "/v1/courses", {"title": "t", "capacity": 5, "closes_at": naive}, "closes_at"),
        (admin, "/v1/courses", {"title": "t", "capacity": 5, "allocation": "lottery", "draw_at": naive}, "draw_at"),
        (admin, "/v1/courses", {"title": "t", "capacity": 5,
                                "schedule": {"dates": [{"starts_at": naive, "ends_at": aware}]}}, "starts_at"),
        (member, "/v1/bookings", {"room_id": room, "title": "t", "starts_at": naive, "ends_at": aware}, "starts_at"),
        (member, "/v1/bookings", {"room_id": room, "title": "t", "starts_at": "2030-03-05T19:00:00+08:00",
                                  "ends_at": "2030-03-05 21:00"}, "ends_at"),
        (admin, "/v1/closures", {"room_id": room, "reason": "t", "starts_at": naive, "ends_at": aware}, "starts_at"),
        (admin, f"/v1/welfare/applications/{case}/appointments", {"room_id": room, "starts_at": naive, "ends_at": aware},
         "starts_at"),
    ]
    for who, path, body, field in cases:
        problem(who.post(path, body), 422, field)
    problem(Client(palace.url).get("/v1/rooms/availability", params={"starts_at": naive, "ends_at": aware}), 422,
            "starts_at")
    figures("inputs-naive-times", refused=len(cases) + 1, status=422)


def test_the_year_9999_is_accepted_consistently_or_refused(palace, admin):  # noqa: F811
    site = admin.post("/v1/sites", {"name": "Far home", "kind": "shared"}).json()["id"]
    room = admin.post("/v1/rooms", {"site_id": site, "name": "Far hall", **NO_LIMITS, "capacity": 10}).json()["id"]
    member = new_member(palace.url)
    outcomes = Counter()

    def tried(who, method, path, body=None, params=None):
        answer = who.http.request(method, who.base + path, json=body, params=params, timeout=15)
        assert answer.status_code < 500, (path, body, answer.status_code, answer.text)
        assert answer.status_code in (200, 201, 409, 422), (path, body, answer.status_code, answer.text)
        outcomes[answer.status_code] += 1
        return answer

    term = tried(admin, "POST", "/v1/terms", {"name": f"far {uuid.uuid4().hex[:6]}", "starts_on": "9999-11-01",
                                              "ends_on": "9999-12-30"})
    if term.status_code == 201:
        course = tried(admin, "POST", "/v1/courses", {"title": "Far weekly", "capacity": 5,
                                                      "term_id": term.json()["id"],
                                                      "schedule": {"weekly": {"weekdays": [4, 5], "start_time": "23:30",
                                                                              "duration_minutes": 120}}})
        if course.status_code == 201:
            again = Client(palace.url).get(f"/v1/courses/{course.json()['id']}").json()
            assert again["sessions"] == course.json()["sessions"] and again["sessions"]
            assert again["sessions"][-1]["starts_at"].startswith("9999-12-")
    tried(admin, "POST", "/v1/terms", {"name": "past the end", "starts_on": "9999-12-01", "ends_on": "9999-12-31"})
    for starts, ends in (("9999-06-01T19:00:00+08:00", "9999-06-01T21:00:00+08:00"),
                         ("9999-12-30T22:00:00+08:00", "9999-12-30T23:59:00+08:00"),
                         ("9999-12-31T19:00:00-08:00", "9999-12-31T21:00:00-08:00")):
        course = tried(admin, "POST", "/v1/courses", {"title": "Far", "capacity": 5,
                                                      "schedule": {"dates": [{"starts_at": starts, "ends_at": ends}]},
                                                      "closes_at": starts})
        if course.status_code == 201:
            shown = Client(palace.url).get(f"/v1/courses/{course.json()['id']}").json()
            assert shown["sessions"] == course.json()["sessions"] and shown["closes_at"] == course.json()["closes_at"]
        booking = tried(member, "POST", "/v1/bookings", {"room_id": room, "title": "far", "starts_at": starts,
                                                         "ends_at": ends})
        if booking.status_code == 201:
            assert member.get(f"/v1/bookings/{booking.json()['id']}").json()["starts_at"] \
                == booking.json()["starts_at"]
        tried(admin, "POST", "/v1/closures", {"room_id": room, "reason": "far", "starts_at": starts, "ends_at": ends})
        tried(admin, "POST", "/v1/courses", {"title": "Far lottery", "capacity": 5, "allocation": "lottery",
                                             "draw_at": starts})
        tried(Client(palace.url), "GET", "/v1/rooms/availability", params={"starts_at": starts, "ends_at": ends})
    day = tried(admin, "POST", "/v1/calendar/days", {"day": "9999-12-31", "kind": "holiday", "name": "the end"})
    if day.status_code in (200, 201):
        assert Client(palace.url).get("/v1/calendar/9999").json()[-1]["day"] == "9999-12-31"
    tried(admin, "GET", "/v1/rooms/utilisation", params={"days": 366})
    tried(member, "POST", "/v1/mutual-aid/claims", {"plan_id": str(uuid.uuid4()), "kind": "accident",
                                                     "details": {"severity": "minor"}, "event_date": "9999-12-31"})
    tried(admin, "POST", "/v1/mutual-aid/plans", {"year": 9999, "name": "far", "contribution": "60.00", "rules": {}})
    tried(Client(palace.url), "GET", "/v1/courses", params={"q": "9999-12-31T23:59:59+14:00"})
    figures("inputs-year-9999", outcomes=dict(sorted(outcomes.items())))


@pytest.mark.parametrize("path", ["/v1/courses", "/v1/bookings", "/v1/welfare/applications", "/v1/sites"])
def test_too_big_too_deep_or_not_json_is_a_4xx(palace, admin, path):  # noqa: F811
    def sent(data, content_type="application/json"):  # each on a new connection: a 413 closes it
        return requests.post(palace.url + path, data=data, timeout=15, headers={
            "Content-Type": content_type, "Authorization": admin.http.headers["Authorization"], "Connection": "close"})

    problem(sent(b"{" + b" " * (1024 * 1024 + 1) + b"}"), 413)
    problem(sent("[" * 200_000), 400)
    problem(sent('{"a":' * 5_000 + "1" + "}" * 5_000), 400)
    problem(sent(b'{"title": "\xff\xfe"}'), 400)
    problem(sent("title=x", "application/x-www-form-urlencoded"), 415)
    problem(sent("title=x", "text/plain"), 415)


def test_a_refused_body_leaves_the_connection_usable(palace):  # noqa: F811
    http, body = requests.Session(), '{"title": "' + "x" * 200_000 + '"}'
    for _ in range(5):  # refused before the body is read: not signed in
        assert http.post(palace.url + "/v1/courses", data=body, timeout=15,
                         headers={"Content-Type": "application/json"}).status_code == 401
        assert http.get(palace.url + "/healthz", timeout=15).status_code == 200
