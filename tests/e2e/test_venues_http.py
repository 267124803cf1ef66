"""Rooms over HTTP through the gateway: managers set up sites and rooms, members find a free room
and book it, series with conflicts, approvals, roles, Idempotency-Key, bad input, the iCal feed."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.e2e.conftest import NO_LIMITS, Client, new_member, new_staff
from tests.harness import eventually

SH = ZoneInfo("Asia/Shanghai")
PROBLEM = "application/problem+json"


def evening(weeks_ahead, weekday=2, hour=19, hours=2):
    today = datetime.now(SH).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    start = datetime(monday.year, monday.month, monday.day, hour, tzinfo=SH) + timedelta(days=weekday - 1)
    return start, start + timedelta(hours=hours)


def problem(answer, status, field=None):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    doc = answer.json()
    if field:
        assert field in doc["errors"], doc
    return doc


@pytest.fixture(scope="module")
def manager(palace, admin):
    return new_staff(palace.url, admin, ["venue_manager"], name="Zhao Lei")


@pytest.fixture(scope="module")
def palace_site(manager):
    answer = manager.post("/v1/sites", {"name": "Yantai Workers' Cultural Palace", "kind": "palace",
                                        "district": "Zhifu", "address": "1 Culture Road"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def make_room(manager, site, **extra):
    answer = manager.post("/v1/rooms", {"site_id": site["id"], "name": f"Room {uuid.uuid4().hex[:6]}",
                                        **NO_LIMITS, "capacity": 40, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def booking(room, start, end, **extra):
    return {"room_id": room["id"], "title": "Choir rehearsal 合唱", "starts_at": start.isoformat(),
            "ends_at": end.isoformat(), **extra}


def test_a_member_finds_a_room_with_a_piano_books_it_and_the_next_member_is_refused(palace, manager, palace_site):
    room = make_room(manager, palace_site, features=["piano", "mirrors"], floor=3)
    make_room(manager, palace_site, features=["projector"])
    start, end = evening(20)
    anyone = Client(palace.url)
    found = anyone.get("/v1/rooms/availability", params={
        "starts_at": start.isoformat(), "ends_at": end.isoformat(), "capacity": 30, "features": "piano",
        "district": "Zhifu"})
    assert found.status_code == 200, found.text
    assert room["id"] in [r["id"] for r in found.json()]
    assert all("piano" in r["features"] for r in found.json())

    first, second = new_member(palace.url), new_member(palace.url)
    made = first.post("/v1/bookings", booking(room, start, end), headers={"Idempotency-Key": "b-1"})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "confirmed" and made.json()["member_id"] == first.id
    again = first.post("/v1/bookings", booking(room, start, end), headers={"Idempotency-Key": "b-1"})
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"]

    clash = problem(second.post("/v1/bookings", booking(room, start + timedelta(hours=1), end)), 409, "occurrences")
    assert clash["type"].endswith("/problems/booking-conflict") and start.strftime("%Y-%m-%d") in clash["detail"]

    gone = anyone.get("/v1/rooms/availability", params={"starts_at": start.isoformat(), "ends_at": end.isoformat(),
                                                        "features": "piano", "capacity": 30})
    assert room["id"] not in [r["id"] for r in gone.json()]

    # a member sees only their own bookings; staff see them all
    assert [b["id"] for b in first.get("/v1/bookings").json()] == [made.json()["id"]]
    assert second.get("/v1/bookings").json() == []
    problem(second.get(f"/v1/bookings/{made.json()['id']}"), 404)
    assert made.json()["id"] in [b["id"] for b in manager.get("/v1/bookings", params={"room_id": room["id"]}).json()]

    # someone else cannot cancel it; its member can, and the slot is free again
    problem(second.post(f"/v1/bookings/{made.json()['id']}/cancel"), 404)
    cancelled = first.post(f"/v1/bookings/{made.json()['id']}/cancel", {"reason": "choir on tour"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert second.post("/v1/bookings", booking(room, start, end)).status_code == 201


def test_a_16_week_series_reports_the_taken_evenings_when_skipping_and_books_nothing_otherwise(
        palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(90, weekday=4)
    other = new_member(palace.url)
    for k in (1, 5, 9):
        taken = other.post("/v1/bookings", booking(room, start + timedelta(weeks=k), end + timedelta(weeks=k)))
        assert taken.status_code == 201, taken.text
    club = new_member(palace.url)
    troupe = manager.post("/v1/clubs", {"name": f"Dance troupe 舞蹈队 {uuid.uuid4().hex[:4]}", "leader_id": club.id})
    assert troupe.status_code == 201, troupe.text
    series = booking(room, start, end, club_id=troupe.json()["id"], recurrence={"count": 16})
    refused = problem(club.post("/v1/bookings", series), 409, "occurrences")
    assert len(refused["errors"]["occurrences"]) == 3 and "nothing was booked" in refused["detail"]
    assert club.get("/v1/bookings").json() == []

    done = club.post("/v1/bookings", {**series, "skip_conflicts": True})
    assert done.status_code == 201, done.text
    assert len(done.json()["bookings"]) == 13
    assert [s["reason"][:5] for s in done.json()["skipped"]] == ["taken"] * 3

    # cancel this and the following occurrences from the 10th on
    tenth = done.json()["bookings"][9]  # bookings are in time order; week 9 was skipped
    assert datetime.fromisoformat(tenth["starts_at"]) == start + timedelta(weeks=12)
    cut = club.post(f"/v1/bookings/{tenth['id']}/cancel", {"scope": "following"})
    assert cut.status_code == 200 and cut.json()["affected"] == 4
    live = club.get("/v1/bookings", params={"status": "confirmed", "limit": 200}).json()
    assert len(live) == 9


def test_an_approval_room_goes_pending_then_a_manager_decides(palace, manager, palace_site):
    theatre = make_room(manager, palace_site, requires_approval=True, capacity=600)
    start, end = evening(21, weekday=6, hour=14)
    member = new_member(palace.url)
    pending = member.post("/v1/bookings", booking(theatre, start, end))
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    problem(member.post(f"/v1/bookings/{pending.json()['id']}/approve"), 403)
    problem(new_member(palace.url).post("/v1/bookings", booking(theatre, start, end)), 409)  # the slot is held
    rejected = manager.post(f"/v1/bookings/{pending.json()['id']}/reject", {"reason": "stage repairs"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    problem(manager.post(f"/v1/bookings/{pending.json()['id']}/approve"), 409)


def test_only_venue_managers_set_up_sites_and_rooms(palace, palace_site):
    member = new_member(palace.url)
    problem(member.post("/v1/sites", {"name": "Home", "kind": "shared"}), 403)
    problem(member.post("/v1/rooms", {"site_id": palace_site["id"], "name": "x", "capacity": 3}), 403)
    problem(Client(palace.url).post("/v1/bookings", {}), 401)


@pytest.mark.parametrize("change, field", [
    (lambda b: {**b, "ends_at": b["starts_at"], "starts_at": b["ends_at"]}, "ends_at"),
    (lambda b: {**b, "starts_at": b["starts_at"][:19]}, "starts_at"),
    (lambda b: {**b, "recurrence": {"count": 10_000}}, "recurrence"),
    (lambda b: {**b, "recurrence": {"until": "2040-01-01", "weekdays": [1, 2, 3, 4, 5]}}, "recurrence"),
    (lambda b: {**b, "recurrence": {"count": 5, "exceptions": [
        {"from": "2030-01-01", "to": "2030-01-20"}, {"from": "2030-01-10", "to": "2030-01-30"}]}}, "recurrence"),
    (lambda b: {**b, "recurrence": {"count": 5, "until": "2030-01-01"}}, "recurrence"),
    (lambda b: {**b, "title": "\u0000"}, "title"),
])
def test_bad_bookings_get_a_422_naming_the_field_and_write_nothing(palace, manager, palace_site, change, field):
    room = make_room(manager, palace_site)
    start, end = evening(22)
    member = new_member(palace.url)
    problem(member.post("/v1/bookings", change(booking(room, start, end))), 422, field)
    assert member.get("/v1/bookings").json() == []


def test_an_unknown_room_is_a_404(palace):
    start, end = evening(22)
    member = new_member(palace.url)
    problem(member.post("/v1/bookings", {"room_id": str(uuid.uuid4()), "title": "x", "starts_at": start.isoformat(),
                                         "ends_at": end.isoformat()}), 404, "room_id")
    problem(Client(palace.url).get("/v1/rooms/not-a-room"), 404)


def test_a_whole_hall_and_its_halves_over_http(palace, manager, palace_site):
    hall = make_room(manager, palace_site, capacity=300)
    half = make_room(manager, palace_site, capacity=150, parent_id=hall["id"])
    start, end = evening(23)
    member = new_member(palace.url)
    assert member.post("/v1/bookings", booking(half, start, end)).status_code == 201
    problem(member.post("/v1/bookings", booking(hall, start, end)), 409)


def test_a_closure_cancels_the_bookings_in_it_and_keeps_the_room_closed(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(24)
    member = new_member(palace.url)
    made = member.post("/v1/bookings", booking(room, start, end)).json()
    closed = manager.post("/v1/closures", {"room_id": room["id"], "starts_at": (start - timedelta(days=1)).isoformat(),
                                           "ends_at": (end + timedelta(days=1)).isoformat(), "reason": "floor repairs"})
    assert closed.status_code == 201 and closed.json()["cancelled"] == 1, closed.text
    assert member.get(f"/v1/bookings/{made['id']}").json()["status"] == "cancelled"
    refused = problem(member.post("/v1/bookings", booking(room, start, end)), 409)
    assert "floor repairs" in refused["detail"]


def test_a_manager_lists_a_rooms_closures_and_reopens_one(palace, manager, palace_site):
    room, other = make_room(manager, palace_site), make_room(manager, palace_site)
    start, end = evening(30)
    week = {"from": (start - timedelta(days=2)).isoformat(), "before": (start + timedelta(days=5)).isoformat()}
    closed = manager.post("/v1/closures", {"room_id": room["id"], "starts_at": start.isoformat(),
                                           "ends_at": end.isoformat(), "reason": "painting"}).json()
    manager.post("/v1/closures", {"room_id": other["id"], "starts_at": start.isoformat(), "ends_at": end.isoformat(),
                                  "reason": "other room"})
    listed = manager.get("/v1/closures", params={"room_id": room["id"], **week})
    assert listed.status_code == 200 and [c["reason"] for c in listed.json()] == ["painting"], listed.text
    assert {"id", "site_id", "room_id", "starts_at", "ends_at"} <= listed.json()[0].keys()
    by_site = manager.get("/v1/closures", params={"site_id": palace_site["id"], **week}).json()
    assert {"painting", "other room"} <= {c["reason"] for c in by_site}
    assert {"painting", "other room"} <= {c["reason"] for c in manager.get("/v1/closures", params=week).json()}
    problem(manager.get("/v1/closures", params={"site_id": palace_site["id"], "room_id": room["id"]}), 422, "room_id")
    problem(new_member(palace.url).get("/v1/closures", params={"room_id": room["id"]}), 403)

    assert manager.delete(f"/v1/closures/{closed['id']}").status_code == 204
    assert manager.get("/v1/closures", params={"room_id": room["id"], **week}).json() == []
    assert new_member(palace.url).post("/v1/bookings", booking(room, start, end)).status_code == 201
    assert problem(manager.delete(f"/v1/closures/{closed['id']}"), 404)["type"].endswith("closure-not-found")


def test_a_manager_extends_a_closure_and_the_bookings_it_now_covers_are_cancelled(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    (tue, tue_end), (thu, thu_end) = evening(31, weekday=2), evening(31, weekday=4)
    member = new_member(palace.url)
    later = member.post("/v1/bookings", booking(room, thu, thu_end)).json()
    closed = manager.post("/v1/closures", {"room_id": room["id"], "starts_at": tue.isoformat(),
                                           "ends_at": tue_end.isoformat(), "reason": "painting"}).json()
    path = f"/v1/closures/{closed['id']}"

    extended = manager.patch(path, {"ends_at": (thu_end + timedelta(hours=1)).isoformat(), "reason": "second coat"})
    assert extended.status_code == 200, extended.text
    assert (extended.json()["cancelled"], extended.json()["reason"]) == (1, "second coat")
    assert member.get(f"/v1/bookings/{later['id']}").json()["status"] == "cancelled"
    shortened = manager.patch(path, {"ends_at": tue_end.isoformat()}).json()
    assert (shortened["cancelled"], shortened["ends_at"][:16]) == (0, tue_end.isoformat()[:16])
    assert member.get(f"/v1/bookings/{later['id']}").json()["status"] == "cancelled"  # stays cancelled

    problem(manager.patch(path, {"ends_at": (tue - timedelta(hours=1)).isoformat()}), 422, "ends_at")
    problem(manager.patch(path, {"starts_at": thu.isoformat(), "reason": ""}), 422, "reason")
    problem(manager.patch(path, {"starts_at": thu.isoformat()}), 422, "starts_at")
    assert problem(manager.patch(f"/v1/closures/{uuid.uuid4()}", {"reason": "x"}), 404)["type"].endswith(
        "closure-not-found")
    problem(member.patch(path, {"reason": "x"}), 403)


def test_the_room_calendar_feed_parses_and_lists_the_bookings(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(25)
    member = new_member(palace.url)
    made = member.post("/v1/bookings", booking(room, start, end)).json()
    feed = Client(palace.url).get(f"/v1/rooms/{room['id']}/calendar.ics")
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    [event] = Calendar.from_ical(feed.text).walk("VEVENT")
    assert str(event["uid"]) == f"{made['id']}@venues.palace"
    assert event.decoded("dtstart") == start


def test_the_holiday_calendar_is_loaded_and_the_openapi_names_the_venue_paths(palace):
    days = Client(palace.url).get("/v1/calendar/2026").json()
    assert {"day": "2026-02-14", "kind": "workday", "as_weekday": 5} == {
        k: v for k, v in next(d for d in days if d["day"] == "2026-02-14").items() if k != "name"}
    paths = Client(palace.url).get("/openapi.json").json()["paths"]
    for path in ("/v1/sites", "/v1/rooms", "/v1/rooms/availability", "/v1/bookings",
                 "/v1/bookings/{booking_id}/approve", "/v1/rooms/{room_id}/calendar.ics"):
        assert path in paths


def test_members_hear_nothing_twice_and_events_carry_the_member(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(26)
    member = new_member(palace.url)
    made = member.post("/v1/bookings", booking(room, start, end)).json()
    with palace.db("venues") as conn:
        [event] = conn.execute("SELECT body FROM outbox WHERE body->'payload'->>'booking_id' = %s",
                               (made["id"],)).fetchall()
    payload = event["body"]["payload"]
    assert event["body"]["event_type"] == "venues.booking_confirmed" and payload["member_id"] == member.id
    assert payload["title"] == "Choir rehearsal 合唱" and payload["starts_at"] == start.isoformat()
    eventually(lambda: Client(palace.url).get("/readyz").status_code == 200)


def test_a_member_moves_one_occurrence_and_reads_their_own_feed(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(27)
    member = new_member(palace.url)
    series = member.post("/v1/bookings", booking(room, start, end, recurrence={"count": 3, "on_holidays": "keep"}))
    assert series.status_code == 201, series.text
    second = series.json()["bookings"][1]
    later = datetime.fromisoformat(second["starts_at"]) + timedelta(minutes=30)
    moved = member.patch(f"/v1/bookings/{second['id']}", {"starts_at": later.isoformat(),
                                                          "ends_at": (later + timedelta(hours=2)).isoformat()})
    assert moved.status_code == 200 and moved.json()["affected"] == 1, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == later
    feed = member.get("/v1/bookings/calendar.ics")
    assert feed.status_code == 200
    assert len(Calendar.from_ical(feed.text).walk("VEVENT")) == 3
    problem(Client(palace.url).get("/v1/bookings/calendar.ics"), 401)


def test_managers_read_utilisation_per_room_and_members_may_not(palace, manager, palace_site):
    rows = manager.get("/v1/rooms/utilisation", params={"site_id": palace_site["id"], "days": 7})
    assert rows.status_code == 200, rows.text
    assert rows.json() and {"room_id", "site_name", "booked_hours", "bookings", "no_shows", "share"} <= rows.json()[0].keys()
    problem(new_member(palace.url).get("/v1/rooms/utilisation"), 403)


def test_a_weeks_utilisation_is_its_booked_hours_over_its_open_hours(palace, manager, palace_site):
    room = make_room(manager, palace_site, opening_hours={day: ["08:00", "20:00"] for day in ("mon", "tue", "wed")})
    start, end = evening(31, hour=9, hours=3)  # a Tuesday morning
    assert new_member(palace.url).post("/v1/bookings", booking(room, start, end)).status_code == 201
    monday = (start - timedelta(days=1)).date().isoformat()
    rows = manager.get("/v1/rooms/utilisation", params={"site_id": palace_site["id"], "days": 7, "from": monday})
    assert rows.status_code == 200, rows.text
    [mine] = [r for r in rows.json() if r["room_id"] == room["id"]]
    # 36 open hours, less any holiday that week: 3 booked of them
    assert mine["booked_hours"] == 3.0 and mine["bookings"] == 1 and mine["open_hours"] in (24.0, 36.0), mine
    assert mine["share"] == round(3.0 / mine["open_hours"], 4)
    for bad in ("next monday", "9999-12-27"):
        problem(manager.get("/v1/rooms/utilisation", params={"from": bad}), 422, "from")


def test_a_member_subscribes_by_a_secret_address_that_a_new_one_kills(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(28)
    member, other = new_member(palace.url), new_member(palace.url)
    mine = member.post("/v1/bookings", booking(room, start, end)).json()
    theirs = other.post("/v1/bookings", booking(room, start + timedelta(days=1), end + timedelta(days=1))).json()
    assert member.get("/v1/me/calendar-feed").json() == {"active": False, "token": None, "url": None,
                                                         "created_at": None}

    issued = member.post("/v1/me/calendar-feed")
    assert issued.status_code == 201, issued.text
    url = issued.json()["url"]
    assert url.startswith(palace.url) and issued.json()["token"] in url
    with palace.db("venues") as conn:  # only the token's hash is kept
        [kept] = conn.execute("SELECT token_sha256 FROM calendar_feeds WHERE holder_reference = %s",
                              (member.id,)).fetchall()
    assert issued.json()["token"].encode() not in bytes(kept["token_sha256"])
    status = member.get("/v1/me/calendar-feed").json()
    assert status["active"] and status["url"] is None and status["token"] is None

    calendar_app = Client(palace.url)  # sends no Authorization header
    feed = calendar_app.get(url.removeprefix(palace.url))
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    assert [str(e["uid"]) for e in Calendar.from_ical(feed.text).walk("VEVENT")] == [f"{mine['id']}@venues.palace"]

    # the other member's own address shows their booking and never this member's
    their_url = other.post("/v1/me/calendar-feed").json()["url"]
    their_feed = calendar_app.get(their_url.removeprefix(palace.url))
    assert [str(e["uid"]) for e in Calendar.from_ical(their_feed.text).walk("VEVENT")] == [
        f"{theirs['id']}@venues.palace"]

    rotated = member.post("/v1/me/calendar-feed").json()["url"]
    assert rotated != url
    problem(calendar_app.get(url.removeprefix(palace.url)), 404)
    assert calendar_app.get(rotated.removeprefix(palace.url)).status_code == 200
    problem(calendar_app.get("/v1/calendar-feeds/" + "A" * 43 + "/calendar.ics"), 404)
    problem(calendar_app.get("/v1/calendar-feeds/short/calendar.ics"), 404)
    problem(calendar_app.post("/v1/me/calendar-feed"), 401)


def uids(answer):
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/calendar"), answer.text
    return [str(e["uid"]) for e in Calendar.from_ical(answer.text).walk("VEVENT")]


def test_a_member_switches_their_feed_off_and_its_address_is_gone_until_they_ask_again(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(30)
    member, other = new_member(palace.url), new_member(palace.url)
    mine = member.post("/v1/bookings", booking(room, start, end)).json()
    theirs = other.post("/v1/bookings", booking(room, start + timedelta(days=1), end + timedelta(days=1))).json()
    calendar_app = Client(palace.url)  # sends no Authorization header
    path = member.post("/v1/me/calendar-feed").json()["url"].removeprefix(palace.url)
    their_path = other.post("/v1/me/calendar-feed").json()["url"].removeprefix(palace.url)
    assert uids(calendar_app.get(path)) == [f"{mine['id']}@venues.palace"]

    off = member.delete("/v1/me/calendar-feed")
    assert off.status_code == 204 and not off.content, off.text
    gone = problem(calendar_app.get(path), 404)
    unknown = problem(calendar_app.get("/v1/calendar-feeds/" + "B" * 43 + "/calendar.ics"), 404)
    gone.pop("request_id", None), unknown.pop("request_id", None)
    assert gone == unknown  # a switched-off address cannot be told from one never given
    assert member.get("/v1/me/calendar-feed").json() == {"active": False, "token": None, "url": None,
                                                         "created_at": None}
    with palace.db("venues") as conn:
        assert not conn.execute("SELECT 1 FROM calendar_feeds WHERE holder_reference = %s", (member.id,)).fetchall()
    assert member.delete("/v1/me/calendar-feed").status_code == 204  # nothing to switch off: the same answer
    problem(calendar_app.delete("/v1/me/calendar-feed"), 401)

    # the other member's address is untouched
    assert uids(calendar_app.get(their_path)) == [f"{theirs['id']}@venues.palace"]
    assert other.get("/v1/me/calendar-feed").json()["active"] is True

    again = member.post("/v1/me/calendar-feed")
    assert again.status_code == 201, again.text
    new_path = again.json()["url"].removeprefix(palace.url)
    assert new_path != path and member.get("/v1/me/calendar-feed").json()["active"] is True
    assert uids(calendar_app.get(new_path)) == [f"{mine['id']}@venues.palace"]
    problem(calendar_app.get(path), 404)


def test_the_feed_of_a_club_leader_shows_what_staff_booked_for_the_club(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(31, weekday=6, hour=14)
    leader, stranger = new_member(palace.url), new_member(palace.url)
    club = manager.post("/v1/clubs", {"name": f"Dance troupe {uuid.uuid4().hex[:6]} 舞蹈队", "leader_id": leader.id})
    assert club.status_code == 201, club.text
    own = leader.post("/v1/bookings", booking(room, start, end)).json()
    by_staff = manager.post("/v1/bookings", booking(room, start + timedelta(days=1), end + timedelta(days=1),
                                                    club_id=club.json()["id"], title="Dance troupe rehearsal"))
    assert by_staff.status_code == 201, by_staff.text
    staff_uid = f"{by_staff.json()['id']}@venues.palace"
    calendar_app = Client(palace.url)

    # the same bookings as the leader's list, in the secret feed and the signed-in one alike
    listed = {f"{b['id']}@venues.palace" for b in leader.get("/v1/bookings").json()}
    assert listed == {f"{own['id']}@venues.palace", staff_uid}
    leader_path = leader.post("/v1/me/calendar-feed").json()["url"].removeprefix(palace.url)
    assert sorted(uids(calendar_app.get(leader_path))) == sorted(listed)
    assert sorted(uids(leader.get("/v1/bookings/calendar.ics"))) == sorted(listed)
    [event] = [e for e in Calendar.from_ical(calendar_app.get(leader_path).text).walk("VEVENT")
               if str(e["uid"]) == staff_uid]
    assert str(event["summary"]) == "Dance troupe rehearsal"

    stranger_path = stranger.post("/v1/me/calendar-feed").json()["url"].removeprefix(palace.url)
    assert uids(calendar_app.get(stranger_path)) == []
    assert uids(stranger.get("/v1/bookings/calendar.ics")) == []

    # a new leader takes the club's bookings with them; the old one keeps only their own
    assert manager.patch(f"/v1/clubs/{club.json()['id']}", {"leader_id": stranger.id}).status_code == 200
    assert uids(calendar_app.get(leader_path)) == [f"{own['id']}@venues.palace"]
    assert uids(calendar_app.get(stranger_path)) == [staff_uid]


def test_a_club_is_booked_for_by_its_leader_and_staff_and_nobody_else(palace, manager, palace_site):
    room = make_room(manager, palace_site, max_bookings_per_week=2)
    start, end = evening(29, weekday=6, hour=14)
    leader, member = new_member(palace.url), new_member(palace.url)
    problem(manager.post("/v1/clubs", {"name": "Ghost club", "leader_id": str(uuid.uuid4())}), 422, "leader_id")
    problem(member.post("/v1/clubs", {"name": "My club", "leader_id": member.id}), 403)
    made = manager.post("/v1/clubs", {"name": "Workers' Choir 职工合唱团", "leader_id": leader.id,
                                      "site_id": palace_site["id"]})
    assert made.status_code == 201, made.text
    choir = made.json()
    assert choir["site_name"] == palace_site["name"] and choir["leader_id"] == leader.id
    problem(manager.post("/v1/clubs", {"name": "workers' choir 职工合唱团", "leader_id": member.id,
                                       "site_id": palace_site["id"]}), 409, "name")
    assert choir["id"] in [c["id"] for c in member.get("/v1/clubs", params={"site_id": palace_site["id"]}).json()]

    rehearsal = leader.post("/v1/bookings", booking(room, start, end, club_id=choir["id"]))
    assert rehearsal.status_code == 201, rehearsal.text
    assert rehearsal.json()["club_id"] == choir["id"] and rehearsal.json()["club"] == choir["name"]
    refused = problem(member.post("/v1/bookings", booking(room, start + timedelta(hours=3), end + timedelta(hours=3),
                                                          club_id=choir["id"])), 403, "club_id")
    assert refused["type"].endswith("/problems/not-club-leader")
    problem(leader.post("/v1/bookings", booking(room, start, end, club_id=str(uuid.uuid4()))), 404, "club_id")
    problem(leader.post("/v1/bookings", booking(room, start, end, club="Workers' Choir 职工合唱团")), 422, "club")

    # staff book for the club too: the leader sees it, may cancel it, and it counts in the club's quota
    by_staff = manager.post("/v1/bookings", booking(room, start + timedelta(days=-1), end + timedelta(days=-1),
                                                    club_id=choir["id"]))
    assert by_staff.status_code == 201, by_staff.text
    assert {b["id"] for b in leader.get("/v1/bookings").json()} == {rehearsal.json()["id"], by_staff.json()["id"]}
    over = problem(leader.post("/v1/bookings", booking(room, start + timedelta(hours=3), end + timedelta(hours=3),
                                                       club_id=choir["id"])), 409)
    assert "at most 2 bookings a week" in over["detail"]
    # the leader's own bookings are counted apart from the club's
    assert leader.post("/v1/bookings", booking(room, start + timedelta(hours=3),
                                               end + timedelta(hours=3))).status_code == 201
    problem(member.get(f"/v1/bookings/{by_staff.json()['id']}"), 404)
    assert leader.post(f"/v1/bookings/{by_staff.json()['id']}/cancel").status_code == 200

    # a new leader takes over: the old one may no longer book for it
    handed = manager.patch(f"/v1/clubs/{choir['id']}", {"leader_id": member.id})
    assert handed.status_code == 200 and handed.json()["leader_id"] == member.id, handed.text
    problem(leader.post("/v1/bookings", booking(room, start + timedelta(weeks=1), end + timedelta(weeks=1),
                                                club_id=choir["id"])), 403, "club_id")
    problem(manager.patch(f"/v1/clubs/{uuid.uuid4()}", {"name": "x"}), 404)


def test_a_venue_manager_takes_a_day_out_of_the_calendar_and_members_may_not(palace, manager):
    day = {"day": "2029-06-11", "kind": "holiday", "name": "Palace anniversary 宫庆", "as_weekday": None}
    assert manager.post("/v1/calendar/days", day).status_code == 200
    assert day in Client(palace.url).get("/v1/calendar/2029").json()
    problem(new_member(palace.url).delete("/v1/calendar/days/2029-06-11"), 403)
    problem(Client(palace.url).delete("/v1/calendar/days/2029-06-11"), 401)
    gone = manager.delete("/v1/calendar/days/2029-06-11")
    assert gone.status_code == 204, gone.text
    assert "2029-06-11" not in [d["day"] for d in Client(palace.url).get("/v1/calendar/2029").json()]
    problem(manager.delete("/v1/calendar/days/2029-06-11"), 404)
    problem(manager.delete("/v1/calendar/days/2029-13-40"), 404)


def test_a_venue_manager_changes_a_rooms_settings_for_the_bookings_to_come(palace, manager, palace_site):
    room = make_room(manager, palace_site)
    start, end = evening(30, weekday=3)
    member = new_member(palace.url)
    kept = member.post("/v1/bookings", booking(room, start, end)).json()
    changed = manager.patch(f"/v1/rooms/{room['id']}", {"opening_hours": {"wed": ["08:00", "18:00"]},
                                                        "no_show_limit": 1, "checkin_opens_minutes": 30})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["no_show_limit"], changed.json()["checkin_opens_minutes"]) == (1, 30)
    assert changed.json()["capacity"] == room["capacity"] and changed.json()["buffer_minutes"] == 0
    assert member.get(f"/v1/bookings/{kept['id']}").json()["status"] == "confirmed"
    refused = problem(member.post("/v1/bookings", booking(room, start + timedelta(weeks=1), end + timedelta(weeks=1))),
                      409)
    assert "open 08:00-18:00" in refused["detail"]
    problem(manager.patch(f"/v1/rooms/{room['id']}", {"no_show_limit": 0}), 422, "no_show_limit")
    problem(manager.patch(f"/v1/rooms/{room['id']}", {"buffer_minutes": 30}), 422, "buffer_minutes")
    problem(manager.patch(f"/v1/rooms/{uuid.uuid4()}", {"capacity": 3}), 404)
    problem(member.patch(f"/v1/rooms/{room['id']}", {"capacity": 3}), 403)
