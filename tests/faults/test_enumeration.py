"""A member probing others' objects by id: real ids of another member's enrolment, welfare case,
booking and notification, and guessed ones (random, neighbours of a real id, small numbers, the
nil and max UUIDs) all get the same 404 an unknown id gets (403 where the API documents it), the
lists never show another's objects whatever the filters say, and the ids handed out are random
(version 4) UUIDs that share nothing guessable."""
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import NO_LIMITS, admin, new_member, palace  # noqa: F401 (fixtures)
from tests.faults.conftest import figures
from tests.harness import eventually

GUESSES = 30  # random ids per route, besides the neighbours and the odd ones


@pytest.fixture(scope="module")
def world(palace, admin):  # noqa: F811
    """The owner's objects of each kind, and a stranger who goes looking for them."""
    owner, stranger = new_member(palace.url, "Owner Chen"), new_member(palace.url, "Stranger Wu")
    course = admin.post("/v1/courses", {"title": "Tea art 茶艺", "capacity": 5}).json()["id"]
    enrolment = owner.post(f"/v1/courses/{course}/enrolments").json()["id"]
    stranger.post(f"/v1/courses/{course}/enrolments")  # the stranger has objects of their own
    site = admin.post("/v1/sites", {"name": "Probe Workers' Home", "kind": "shared"}).json()["id"]
    room = admin.post("/v1/rooms", {"site_id": site, "name": "Probe hall", **NO_LIMITS, "capacity": 20}).json()["id"]
    booking = owner.post("/v1/bookings", {"room_id": room, "title": "Owner's rehearsal",
                                          "starts_at": "2030-03-05T19:00:00+08:00",
                                          "ends_at": "2030-03-05T21:00:00+08:00"}).json()["id"]
    case = owner.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "unpaid wages"}).json()["id"]
    notification = eventually(lambda: owner.get("/v1/me/notifications").json(), timeout=20)[0]["id"]
    return {"owner": owner, "stranger": stranger, "course": course, "enrolment": enrolment, "booking": booking,
            "case": case, "notification": notification, "room": room, "site": site}


# (method, path with {id}, the object it names, what a stranger gets)
ROUTES = [
    ("GET", "/v1/enrolments/{id}", "enrolment", 404),
    ("DELETE", "/v1/enrolments/{id}", "enrolment", 404),
    ("POST", "/v1/enrolments/{id}/accept", "enrolment", 404),
    ("GET", "/v1/enrolments/{id}/certificate", "enrolment", 404),
    ("GET", "/v1/welfare/applications/{id}", "case", 404),
    ("GET", "/v1/welfare/applications/{id}/reads", "case", 404),
    ("POST", "/v1/welfare/applications/{id}/submission", "case", 404),
    ("GET", "/v1/bookings/{id}", "booking", 404),
    ("PATCH", "/v1/bookings/{id}", "booking", 404),
    ("POST", "/v1/bookings/{id}/checkin", "booking", 404),
    ("POST", "/v1/bookings/{id}/cancel", "booking", 404),
    ("POST", "/v1/me/notifications/{id}/read", "notification", 404),
    ("GET", "/v1/members/{id}/strikes", "owner", 403),  # documented: members see only their own
]


def neighbours(real):
    """Ids next to a real one, as a prober would try if ids were sequential."""
    n = uuid.UUID(real).int
    return [str(uuid.UUID(int=(n + d) % 2 ** 128)) for d in (1, -1, 2 ** 64, 256)]


ODD = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "1", "0", "-1",
       "00000000-0000-4000-8000-000000000001", "9999999999", "%20", "x" * 300]


def same_problem(a, b):
    """Two refusals that a prober cannot tell apart (the id itself aside)."""
    return a.status_code == b.status_code and a.json()["type"] == b.json()["type"]


def test_a_member_cannot_reach_anothers_objects_by_real_or_guessed_ids(world):
    stranger, owner = world["stranger"], world["owner"]
    tried, statuses = 0, Counter()
    for method, path, kind, refused in ROUTES:
        real = world[kind].id if kind == "owner" else world[kind]
        unknown = stranger.http.request(method, stranger.base + path.format(id=uuid.uuid4()), json={}, timeout=15)
        for guess in [real, *neighbours(real), *ODD, *(str(uuid.uuid4()) for _ in range(GUESSES))]:
            answer = stranger.http.request(method, stranger.base + path.format(id=guess), json={}, timeout=15)
            tried += 1
            statuses[answer.status_code] += 1
            assert answer.status_code in (refused, 404), (method, path, guess, answer.status_code, answer.text)
            if answer.status_code == 404 and unknown.status_code == 404:
                assert same_problem(answer, unknown), (method, path, guess, answer.text, unknown.text)
            assert "Owner" not in answer.text and "unpaid" not in answer.text, answer.text
    for path in ("/v1/enrolments/{id}", "/v1/welfare/applications/{id}", "/v1/bookings/{id}"):
        kind = {"enrolments": "enrolment", "welfare": "case", "bookings": "booking"}[path.split("/")[2]]
        assert owner.get(path.format(id=world[kind])).status_code == 200, "the owner still reaches it"
    figures("enumeration-by-id", routes=len(ROUTES), probes=tried, statuses=dict(sorted(statuses.items())),
            leaks=0)


def test_lists_show_a_member_only_their_own_whatever_the_filters(world):
    stranger, owner = world["stranger"], world["owner"]
    theirs = {world["enrolment"], world["booking"], world["case"], world["notification"]}
    probes = [("/v1/me/enrolments", {}), ("/v1/me/enrolments", {"member_id": owner.id}),
              ("/v1/bookings", {}), ("/v1/bookings", {"room_id": world["room"]}),
              ("/v1/bookings", {"site_id": world["site"]}), ("/v1/bookings", {"holder_id": owner.id}),
              ("/v1/welfare/applications", {}), ("/v1/welfare/applications", {"mine": "false"}),
              ("/v1/welfare/applications", {"member_id": owner.id}), ("/v1/mutual-aid/claims", {"mine": "false"}),
              ("/v1/me/notifications", {}), ("/v1/me/notifications", {"member_id": owner.id})]
    for path, params in probes:
        answer = stranger.get(path, params=params)
        assert answer.status_code in (200, 400), (path, params, answer.text)
        if answer.status_code == 200:
            seen = {item["id"] for item in answer.json()}
            assert not seen & theirs, (path, params, seen & theirs)
    calendar = stranger.get(f"/v1/rooms/{world['room']}/calendar.ics").text  # public: busy, not whose
    assert "Owner" not in calendar and "rehearsal" not in calendar and "SUMMARY:Booked" in calendar
    taken = stranger.post("/v1/bookings", {"room_id": world["room"], "title": "mine",
                                           "starts_at": "2030-03-05T19:30:00+08:00",
                                           "ends_at": "2030-03-05T20:00:00+08:00"})
    assert taken.status_code == 409 and world["booking"] not in taken.text and "Owner" not in taken.text
    figures("enumeration-lists", probes=len(probes) + 2, leaks=0)


def test_the_ids_handed_out_are_random_uuids(palace, admin, world):  # noqa: F811
    owner = world["owner"]
    ids = [world[k] for k in ("course", "enrolment", "booking", "case", "notification", "room", "site")]
    ids += [owner.id, world["stranger"].id]
    for n in range(12):  # objects made one right after the other, where a counter or a clock would show
        member = new_member(palace.url, f"Probe {n}")
        ids.append(member.id)
        ids.append(member.post("/v1/bookings", {"room_id": world["room"], "title": f"probe {n}",
                                                "starts_at": f"2030-04-{n + 1:02d}T19:00:00+08:00",
                                                "ends_at": f"2030-04-{n + 1:02d}T20:00:00+08:00"}).json()["id"])
        ids.append(member.post("/v1/welfare/applications", {"programme": "legal_aid",
                                                            "reason": "probe"}).json()["id"])
        ids.append(admin.post("/v1/courses", {"title": f"Probe {n}", "capacity": 1}).json()["id"])
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed), \
        [str(u) for u in parsed if u.version != 4]
    # the 122 random bits: consecutive ids differ in about half of them, and share no prefix
    random_bits = [u.int & ~((0xF << 76) | (0x3 << 62)) for u in parsed]
    distances = [bin(a ^ b).count("1") for a, b in zip(random_bits, random_bits[1:])]
    assert min(distances) > 35 and 50 < sum(distances) / len(distances) < 72, distances
    assert len({str(u)[:8] for u in parsed}) == len(parsed), "no two ids share their first 32 bits"
    certificate = _certificate_code(palace, admin, owner)
    figures("enumeration-ids", ids=len(parsed), version=4, mean_bits_differing=round(sum(distances) / len(distances), 1),
            least_bits_differing=min(distances), certificate_code_bits=len(certificate) * 4,
            checkin_code_digits=6)


def test_a_check_in_code_cannot_be_guessed_by_trying(palace, admin):  # noqa: F811
    """Six digits, open 13 hours: without a limit a member could try them all and attend from home."""
    starts = datetime.now(timezone.utc) + timedelta(minutes=30)
    course = admin.post("/v1/courses", {"title": "Probe choir", "capacity": 5, "schedule": {"dates": [
        {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()}]}}).json()
    session = course["sessions"][0]["id"]
    member, other = new_member(palace.url), new_member(palace.url)
    for m in (member, other):
        assert m.post(f"/v1/courses/{course['id']}/enrolments").status_code == 201
    code = admin.get(f"/v1/sessions/{session}/code").json()["checkin_code"]
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, 6)]
    answers = [member.post(f"/v1/sessions/{session}/attendance", {"code": guess}).status_code for guess in wrong]
    limited = member.post(f"/v1/sessions/{session}/attendance", {"code": code})
    assert answers == [422] * 5 and limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0, \
        (answers, limited.text)
    assert other.post(f"/v1/sessions/{session}/attendance", {"code": code}).status_code == 200, "others unaffected"
    register = admin.post(f"/v1/sessions/{session}/attendance", {"marks": [{"member_id": member.id, "present": True}]})
    assert register.status_code == 200, register.text
    figures("enumeration-checkin-code", wrong_tries_allowed=5, then=429, window_seconds=900,
            tries_to_sweep_half_the_codes=500_000)


def _certificate_code(palace, admin, owner):  # noqa: F811
    """A certificate's public verification code: 16 hex digits (64 bits) from secrets."""
    held = admin.post("/v1/courses", {"title": "Probe tea", "capacity": 5, "attendance_threshold": 0.5, "schedule": {
        "dates": [{"starts_at": "2026-01-05T19:00:00+08:00", "ends_at": "2026-01-05T21:00:00+08:00"}]}}).json()
    earned = owner.post(f"/v1/courses/{held['id']}/enrolments").json()["id"]
    assert admin.post(f"/v1/sessions/{held['sessions'][0]['id']}/attendance",
                      {"marks": [{"member_id": owner.id, "present": True}]}).status_code == 200
    code = owner.get(f"/v1/enrolments/{earned}/certificate").text.split("<code>")[1].split("</code>")[0]
    assert len(code) >= 16 and int(code, 16) >= 0
    return code
