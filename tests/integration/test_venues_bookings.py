"""The venues service on real PostgreSQL and RabbitMQ: the contract other services use
(reserve_series, release_series, get_room), the database refusing double bookings under a real
race, series with conflicts, divisible rooms, approval, check-in and release."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.types.range import Range

from services.common import config
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from tests.e2e.conftest import NO_LIMITS
from tests.harness import RACE_CONNECTIONS, at_once, eventually

SH = ZoneInfo("Asia/Shanghai")
MANAGER = {"caller_id": str(uuid.uuid4()), "caller_roles": "venue_manager"}


def member_ctx(member_id=None):
    return {"caller_id": member_id or str(uuid.uuid4()), "caller_roles": "member"}


@pytest.fixture(scope="module")
def venues(stack):
    stack.start("venues", extra_env={"PALACE_VENUES_SWEEP_SECONDS": "0.5"})
    return stack


@pytest.fixture(scope="module")
def site(venues):
    with venues.rpc(context=MANAGER) as rpc:
        return rpc.venues.create_site({"name": "Workers' Cultural Palace", "kind": "palace", "district": "Xiangshan"})


def new_room(stack, site, **extra):
    with stack.rpc(context=MANAGER) as rpc:
        return rpc.venues.create_room({"site_id": site["id"], "name": f"Room {uuid.uuid4().hex[:8]}",
                                       **NO_LIMITS, "capacity": 30, **extra})


def evening(weeks_ahead=1, weekday=2, hour=19, hours=2):
    """A Shanghai evening some weeks ahead on a weekday (1 = Monday), in the future."""
    today = datetime.now(SH).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    start = datetime(monday.year, monday.month, monday.day, hour, tzinfo=SH) + timedelta(days=weekday - 1)
    return start, start + timedelta(hours=hours)


def holder(reference=None):
    return {"service": "enrolment", "reference": reference or str(uuid.uuid4())}


def test_reserve_series_books_all_confirmed_replays_and_release_frees_them(venues, site):
    room = new_room(venues, site)
    start, end = evening(60)
    occurrences = [{"starts_at": (start + timedelta(weeks=k)).isoformat(),
                    "ends_at": (end + timedelta(weeks=k)).isoformat()} for k in range(4)]
    course = holder()
    with venues.rpc(part="enrolment") as rpc:  # another service books for its holders
        got = rpc.venues.reserve_series(course, room["id"], occurrences, "Tea art 茶艺")
        assert len(got["bookings"]) == 4 and {b["status"] for b in got["bookings"]} == {"confirmed"}
        again = rpc.venues.reserve_series(course, room["id"], occurrences, "Tea art 茶艺")
        assert [b["id"] for b in again["bookings"]] == [b["id"] for b in got["bookings"]]

        # another holder wanting the 3rd evening and a free one gets nothing, and is told which clashed
        clash = [occurrences[2], {"starts_at": (start + timedelta(weeks=10)).isoformat(),
                                  "ends_at": (end + timedelta(weeks=10)).isoformat()}]
        with pytest.raises(Conflict) as refused:
            rpc.venues.reserve_series(holder(), room["id"], clash, "Choir")
        assert refused.value.errors["occurrences"] == [occurrences[2]["starts_at"]]
        assert (start + timedelta(weeks=2)).strftime("%Y-%m-%d") in refused.value.detail
        with venues.db("venues") as conn:
            assert conn.execute("SELECT count(*) AS n FROM bookings WHERE title = 'Choir'").fetchone()["n"] == 0

        assert rpc.venues.get_room(room["id"])["capacity"] == 30
        with pytest.raises(NotFound):
            rpc.venues.get_room(str(uuid.uuid4()))

        released = rpc.venues.release_series(course)
        assert released["cancelled"] == 4
        assert rpc.venues.release_series(course)["cancelled"] == 0
        # the slot is free again
        assert len(rpc.venues.reserve_series(holder(), room["id"], clash, "Choir")["bookings"]) == 2

    with venues.db("venues") as conn:
        events = conn.execute("SELECT body FROM outbox WHERE event_type = 'booking_cancelled'"
                              " AND body->'payload'->>'holder_reference' = %s", (course["reference"],)).fetchall()
    assert len(events) == 4
    payload = events[0]["body"]["payload"]
    assert {"booking_id", "room_id", "site_id", "starts_at", "ends_at", "holder_service", "holder_reference",
            "reason"} <= payload.keys()
    assert {e["body"]["payload"]["cause"] for e in events} == {"released_by_holder"}


def test_a_series_replacing_another_may_take_its_times_and_a_clash_leaves_the_old_one_standing(venues, site):
    room, other = new_room(venues, site), new_room(venues, site)
    start, end = evening(70)
    weeks = [{"starts_at": (start + timedelta(weeks=k)).isoformat(),
              "ends_at": (end + timedelta(weeks=k)).isoformat()} for k in range(3)]
    half_past = [{"starts_at": (start + timedelta(weeks=k, minutes=30)).isoformat(),
                  "ends_at": (end + timedelta(weeks=k, minutes=30)).isoformat()} for k in range(3)]
    old, new = holder(), holder()
    with venues.rpc(part="enrolment") as rpc:  # another service books for its holders
        first = rpc.venues.reserve_series(old, room["id"], weeks, "Erhu")
        rpc.venues.reserve_series(holder(), other["id"], weeks[1:2], "Chess")
        with pytest.raises(Conflict) as refused:  # the other room is taken the second week: nothing moves
            rpc.venues.reserve_series(new, other["id"], weeks, "Erhu", old)
        assert refused.value.errors["occurrences"] == [weeks[1]["starts_at"]]
        with venues.db("venues") as conn:
            statuses = [r["status"] for r in conn.execute(
                "SELECT status FROM bookings WHERE id = ANY(%s)", ([b["id"] for b in first["bookings"]],))]
        assert statuses == ["confirmed"] * 3

        # half an hour later in the same room: the new series overlaps the old one it replaces
        moved = rpc.venues.reserve_series(new, room["id"], half_past, "Erhu", [old])
        assert len(moved["bookings"]) == 3 and sorted(moved["released"]) == sorted(b["id"] for b in first["bookings"])
        causes = [outbox_events(venues, "booking_cancelled", b["id"])[0]["payload"]["cause"] for b in first["bookings"]]
        assert causes == ["replaced"] * 3, "the old series ended because the new one replaced it"
        with pytest.raises(Invalid):
            rpc.venues.reserve_series(holder(), room["id"], weeks, "Erhu", {"service": "welfare", "reference": "x"})


def test_reserve_series_refuses_bad_input_without_writing(venues, site):
    room = new_room(venues, site)
    start, end = evening(70)
    with venues.rpc(part="enrolment") as rpc:  # another service books for its holders
        with pytest.raises(Invalid) as bad:
            rpc.venues.reserve_series(holder(), room["id"], [{"starts_at": end.isoformat(),
                                                               "ends_at": start.isoformat()}], "x")
        assert "ends_at" in str(bad.value.errors)
        with pytest.raises(NotFound):
            rpc.venues.reserve_series(holder(), str(uuid.uuid4()), [{"starts_at": start.isoformat(),
                                                                      "ends_at": end.isoformat()}], "x")
        with pytest.raises(Invalid):
            rpc.venues.reserve_series(holder(), room["id"], [{"starts_at": "2026-03-03T19:00:00",
                                                               "ends_at": "2026-03-03T21:00:00"}], "x")
        too_many = [{"starts_at": (start + timedelta(days=k)).isoformat(),
                     "ends_at": (end + timedelta(days=k)).isoformat()} for k in range(10_000)]
        with pytest.raises(Invalid):
            rpc.venues.reserve_series(holder(), room["id"], too_many, "x")


def test_60_concurrent_attempts_at_one_room_and_hour_make_exactly_one_booking(venues, site):
    """Sixty contenders prove the exclusion constraint as two hundred would, and fit a new
    machine's PostgreSQL (max_connections = 100) beside the service: tests/harness.py counts it."""
    room = new_room(venues, site)
    start, end = evening(30, hour=10, hours=1)
    url = f"{config.pg_server()}/{venues.tag}_venues"

    def contender(k):
        def attempt(go):
            # each contender its own connection, straight at the table with no lock, at the same instant
            with psycopg.connect(url, connect_timeout=10) as conn:
                conn.execute("SET deadlock_timeout = '10ms'")  # contenders that deadlock are refused sooner
                conn.execute("SET lock_timeout = '30s'")
                conn.commit()
                go()
                try:
                    with conn.transaction():
                        conn.execute(
                            """INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked,
                                   holder_service, holder_reference) VALUES (%s, %s, %s, %s, %s, %s, %s, 'members', %s)""",
                            (room["id"], site["id"], f"club {k}", "pending" if k % 2 else "confirmed",
                             start + timedelta(minutes=k % 30), end + timedelta(minutes=k % 30),
                             Range(start + timedelta(minutes=k % 30), end + timedelta(minutes=k % 30), "[)"), str(k)))
                    return "booked"
                except psycopg.errors.ExclusionViolation:
                    return "refused"
                except psycopg.errors.DeadlockDetected:  # two checking each other's rows: one is refused
                    return "refused"
        return attempt

    outcomes = at_once([contender(k) for k in range(RACE_CONNECTIONS)])
    assert outcomes.count("booked") == 1 and outcomes.count("refused") == RACE_CONNECTIONS - 1
    with venues.db("venues") as conn:
        assert conn.execute("SELECT count(*) AS n FROM bookings WHERE room_id = %s", (room["id"],)).fetchone()["n"] == 1


def test_200_members_racing_through_the_service_get_one_booking_and_199_conflicts(venues, site):
    """Through the service the race goes through its pool, whatever the number of members."""
    room = new_room(venues, site)
    start, end = evening(31, hour=15, hours=1)
    body = {"room_id": room["id"], "title": "Rehearsal", "starts_at": start.isoformat(), "ends_at": end.isoformat()}

    def attempt(go):
        with venues.rpc(timeout=60, context=member_ctx()) as rpc:
            go()
            try:
                return rpc.venues.create_booking(body)["status"]
            except Conflict as exc:
                return exc.problem

    answers = at_once([attempt] * 200, timeout=90)
    assert answers.count("confirmed") == 1 and answers.count("booking-conflict") == 199, set(answers)


def test_a_16_week_series_against_3_taken_evenings_books_13_when_skipping_and_nothing_when_not(venues, site):
    room = new_room(venues, site)
    start, end = evening(80, weekday=3)  # Wednesdays, far from any shipped holiday file? checked below
    taken = [start + timedelta(weeks=k) for k in (2, 7, 11)]
    with venues.rpc(part="enrolment") as rpc:  # another service books for its holders
        for k, t in enumerate(taken):
            rpc.venues.reserve_series(holder(), room["id"], [{"starts_at": t.isoformat(),
                                                              "ends_at": (t + timedelta(hours=2)).isoformat()}], f"x{k}")
    series = {"room_id": room["id"], "title": "Choir 合唱团", "starts_at": start.isoformat(),
              "ends_at": end.isoformat(), "recurrence": {"count": 16, "on_holidays": "keep", "makeup_days": False}}
    member = member_ctx()
    with venues.rpc(context=member) as rpc:
        with pytest.raises(Conflict) as refused:
            rpc.venues.create_booking(series)
        assert sorted(refused.value.errors["occurrences"]) == sorted(t.isoformat() for t in taken)
        assert rpc.venues.list_bookings(room_id=room["id"], status="confirmed") == []
        with venues.db("venues") as conn:
            assert conn.execute("SELECT count(*) AS n FROM bookings WHERE room_id = %s AND title = 'Choir 合唱团'",
                                (room["id"],)).fetchone()["n"] == 0

        done = rpc.venues.create_booking({**series, "skip_conflicts": True})
    assert len(done["bookings"]) == 13
    assert [datetime.fromisoformat(s["starts_at"]) for s in done["skipped"]] == taken
    assert all(s["reason"].startswith("taken") for s in done["skipped"])
    assert len({b["series_id"] for b in done["bookings"]}) == 1


def test_a_whole_hall_blocks_its_halves_and_a_half_blocks_the_whole(venues, site):
    hall = new_room(venues, site, capacity=200)
    east = new_room(venues, site, parent_id=hall["id"], capacity=100)
    west = new_room(venues, site, parent_id=hall["id"], capacity=100)
    start, end = evening(40)
    later = (start + timedelta(days=1), end + timedelta(days=1))
    with venues.rpc(context=member_ctx()) as rpc:
        def book(room, s, e):
            return rpc.venues.create_booking({"room_id": room["id"], "title": "Dance", "starts_at": s.isoformat(),
                                              "ends_at": e.isoformat()})
        book(east, start, end)
        book(west, start, end)  # the other half is free
        with pytest.raises(Conflict):
            book(hall, start, end)
        book(hall, *later)
        with pytest.raises(Conflict):
            book(west, *later)


def test_a_room_needing_approval_holds_the_slot_while_pending(venues, site):
    theatre = new_room(venues, site, requires_approval=True, capacity=500)
    start, end = evening(41)
    body = {"room_id": theatre["id"], "title": "Opera", "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    with venues.rpc(context=member_ctx()) as rpc:
        pending = rpc.venues.create_booking(body)
        assert pending["status"] == "pending"
        with pytest.raises(Forbidden):
            rpc.venues.act(pending["id"], "approve")
    with venues.rpc(context=member_ctx()) as rpc:
        with pytest.raises(Conflict):
            rpc.venues.create_booking(body)
    with venues.rpc(context=MANAGER) as rpc:
        assert rpc.venues.act(pending["id"], "approve")["status"] == "confirmed"


def test_a_booking_not_checked_in_is_released_and_counts_as_a_strike(venues, site):
    room = new_room(venues, site, checkin_minutes=1)
    member = member_ctx()
    start = datetime.now(SH) + timedelta(seconds=3)
    with venues.rpc(context=member) as rpc:
        booking = rpc.venues.create_booking({"room_id": room["id"], "title": "Yoga", "starts_at": start.isoformat(),
                                             "ends_at": (start + timedelta(hours=1)).isoformat()})
    with venues.db("venues") as conn:  # as if it had started a while ago
        conn.execute("UPDATE bookings SET starts_at = starts_at - interval '5 minutes',"
                     " blocked = tstzrange(lower(blocked) - interval '5 minutes', upper(blocked)) WHERE id = %s",
                     (booking["id"],))
    with venues.rpc(context=member) as rpc:
        eventually(lambda: rpc.venues.get_booking(booking["id"])["status"] == "released", timeout=10)
    with venues.db("venues") as conn:
        assert conn.execute("SELECT count(*) AS n FROM strikes WHERE booking_id = %s",
                            (booking["id"],)).fetchone()["n"] == 1
        assert conn.execute("SELECT count(*) AS n FROM outbox WHERE event_type = 'booking_released'"
                            " AND body->'payload'->>'booking_id' = %s", (booking["id"],)).fetchone()["n"] == 1
    [released] = outbox_events(venues, "booking_released", booking["id"])
    assert released["payload"]["cause"] == "no_show"


def outbox_events(stack, event_type, booking_id):
    with stack.db("venues") as conn:
        return [r["body"] for r in conn.execute(
            "SELECT body FROM outbox WHERE event_type = %s AND (body->'payload'->>'booking_id' = %s"
            " OR body->'payload'->'booking_ids' ? %s) ORDER BY id", (event_type, booking_id, booking_id))]


def test_weekly_quotas_and_advance_limits_refuse_with_the_reason(venues, site):
    room = new_room(venues, site, max_bookings_per_week=1, max_advance_days=120)
    start, end = evening(3, weekday=2)
    member = member_ctx()
    with venues.rpc(context=member) as rpc:
        def book(s, e, **extra):
            return rpc.venues.create_booking({"room_id": room["id"], "title": "Calligraphy", "starts_at": s.isoformat(),
                                              "ends_at": e.isoformat(), **extra})
        book(start, end)
        with pytest.raises(Conflict) as over:
            book(start + timedelta(days=2), end + timedelta(days=2))
        assert "at most 1 bookings a week" in over.value.detail
        # a series Tuesdays and Thursdays with skipping: one a week fits, the rest is reported
        done = book(start + timedelta(weeks=1), end + timedelta(weeks=1), skip_conflicts=True,
                    recurrence={"weekdays": [2, 4], "count": 4, "on_holidays": "keep", "makeup_days": False})
        assert len(done["bookings"]) == 2 and all("quota" in s["reason"] for s in done["skipped"])
        with pytest.raises(Conflict) as far:
            book(start + timedelta(weeks=30), end + timedelta(weeks=30))
        assert "at most 120 days ahead" in far.value.detail
    with venues.rpc(context=MANAGER) as rpc:  # staff are not held to members' limits
        rpc.venues.create_booking({"room_id": room["id"], "title": "Repairs", "starts_at": (start + timedelta(days=2)).isoformat(),
                                   "ends_at": (end + timedelta(days=2)).isoformat()})


def test_check_in_inside_the_window_and_not_before(venues, site):
    room = new_room(venues, site, checkin_minutes=30)
    member = member_ctx()
    soon = datetime.now(SH) + timedelta(minutes=5)
    later = datetime.now(SH) + timedelta(hours=5)
    with venues.rpc(context=member) as rpc:
        now_booking = rpc.venues.create_booking({"room_id": room["id"], "title": "Counselling", "starts_at": soon.isoformat(),
                                                 "ends_at": (soon + timedelta(hours=1)).isoformat()})
        late_booking = rpc.venues.create_booking({"room_id": room["id"], "title": "Counselling", "starts_at": later.isoformat(),
                                                  "ends_at": (later + timedelta(hours=1)).isoformat()})
        assert rpc.venues.act(now_booking["id"], "checkin")["status"] == "checked_in"
        with pytest.raises(Conflict) as early:
            rpc.venues.act(late_booking["id"], "checkin")
        assert "15 minutes before" in early.value.detail
    with venues.rpc(context=member_ctx()) as rpc:  # not someone else's
        with pytest.raises(NotFound):
            rpc.venues.act(late_booking["id"], "checkin")


def test_three_no_shows_suspend_a_member_from_booking(venues, site):
    room = new_room(venues, site)
    member = member_ctx()
    with venues.db("venues") as conn:
        for _ in range(3):
            b = conn.execute(
                "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
                " holder_reference, member_id) VALUES (%s, %s, 'Gym', 'released', now() - interval '3 days',"
                " now() - interval '2 days', tstzrange(now() - interval '3 days', now() - interval '2 days'),"
                " 'members', %s, %s) RETURNING id",
                (room["id"], site["id"], member["caller_id"], member["caller_id"])).fetchone()
            conn.execute("INSERT INTO strikes (booking_id, holder_service, holder_reference) VALUES (%s, 'members', %s)",
                         (b["id"], member["caller_id"]))
    start, end = evening(5)
    with venues.rpc(context=member) as rpc:
        with pytest.raises(Forbidden) as suspended:
            rpc.venues.create_booking({"room_id": room["id"], "title": "Gym", "starts_at": start.isoformat(),
                                       "ends_at": end.isoformat()})
        assert suspended.value.problem == "too-many-no-shows"


def test_move_this_and_the_following_occurrences_all_or_nothing(venues, site):
    room = new_room(venues, site)
    start, end = evening(50, weekday=1)
    member = member_ctx()
    with venues.rpc(context=member) as rpc:
        series = rpc.venues.create_booking({"room_id": room["id"], "title": "Tea art", "starts_at": start.isoformat(),
                                            "ends_at": end.isoformat(),
                                            "recurrence": {"count": 4, "on_holidays": "keep", "makeup_days": False}})
        second = series["bookings"][1]
        later = datetime.fromisoformat(second["starts_at"]) + timedelta(hours=1)
        moved = rpc.venues.edit_booking(second["id"], {"starts_at": later.isoformat(),
                                                       "ends_at": (later + timedelta(hours=2)).isoformat(),
                                                       "scope": "following"})
        assert moved["affected"] == 3
        times = [datetime.fromisoformat(b["starts_at"]) for b in rpc.venues.list_bookings(series_id=series["series_id"])]
        assert times == [start, start + timedelta(weeks=1, hours=1), start + timedelta(weeks=2, hours=1),
                         start + timedelta(weeks=3, hours=1)]
    # another booking in the way of one of them: nothing moves
    blocker_at = start + timedelta(weeks=3, hours=4)
    with venues.rpc(part="enrolment") as rpc:  # another service books for its holders
        rpc.venues.reserve_series(holder(), room["id"], [{"starts_at": blocker_at.isoformat(),
                                                          "ends_at": (blocker_at + timedelta(hours=1)).isoformat()}], "x")
    with venues.rpc(context=member) as rpc:
        with pytest.raises(Conflict) as refused:
            rpc.venues.edit_booking(second["id"], {"starts_at": (later + timedelta(hours=3)).isoformat(),
                                                   "ends_at": (later + timedelta(hours=5)).isoformat(), "scope": "following"})
        assert len(refused.value.errors["occurrences"]) == 1
        times = [datetime.fromisoformat(b["starts_at"]) for b in rpc.venues.list_bookings(series_id=series["series_id"])]
        assert times[1] == later


def test_approval_events_and_a_closure_tell_the_member(venues, site):
    theatre = new_room(venues, site, requires_approval=True)
    start, end = evening(52)
    member = member_ctx()
    with venues.rpc(context=member) as rpc:
        pending = rpc.venues.create_booking({"room_id": theatre["id"], "title": "Opera", "starts_at": start.isoformat(),
                                             "ends_at": end.isoformat()})
    with venues.rpc(context=MANAGER) as rpc:
        rpc.venues.act(pending["id"], "approve")
        closure = rpc.venues.close({"site_id": site["id"], "starts_at": (start - timedelta(hours=1)).isoformat(),
                                    "ends_at": (end + timedelta(hours=1)).isoformat(), "reason": "power cut"})
        assert closure["cancelled"] >= 1
    assert [e["event_type"] for e in outbox_events(venues, "booking_pending", pending["id"])] == ["venues.booking_pending"]
    [confirmed] = outbox_events(venues, "booking_confirmed", pending["id"])
    assert confirmed["payload"]["member_id"] == member["caller_id"] and confirmed["payload"]["title"] == "Opera"
    [cancelled] = outbox_events(venues, "booking_cancelled", pending["id"])
    assert cancelled["payload"]["reason"] == "closed: power cut"
    assert (cancelled["payload"]["cause"], cancelled["payload"]["note"]) == ("room_closed", "power cut")
    with venues.db("venues") as conn:
        [closed] = conn.execute("SELECT body FROM outbox WHERE event_type = 'room_closed'"
                                " AND body->'payload'->>'closure_id' = %s", (closure["id"],)).fetchall()
    assert member["caller_id"] in closed["body"]["payload"]["member_ids"]


def test_an_edited_calendar_day_shapes_the_next_series_and_stats_add_up(venues, site):
    start, end = evening(60, weekday=5)
    extra_holiday = (start + timedelta(weeks=1)).date().isoformat()
    with venues.rpc(context=MANAGER) as rpc:
        rpc.venues.set_calendar_day({"day": extra_holiday, "kind": "holiday", "name": "Palace anniversary"})
        series = rpc.venues.create_booking({"room_id": new_room(venues, site)["id"], "title": "Rehearsals",
                                            "starts_at": start.isoformat(), "ends_at": end.isoformat(),
                                            "recurrence": {"count": 3}})
        assert len(series["bookings"]) == 2
        assert [(s["starts_at"][:10], s["reason"]) for s in series["skipped"]] == [
            (extra_holiday, "public holiday: Palace anniversary")]
        figures = rpc.venues.stats()
    assert figures["rooms"] >= 1 and figures["bookings"] >= figures["bookings_confirmed"] >= 1
    assert {"no_shows", "utilisation_28d", "bookings_released", "bookings_pending"} <= figures.keys()
    assert all(isinstance(v, (int, float)) for v in figures.values())


def test_a_room_bookable_by_teachers_only_refuses_a_member(venues, site):
    room = new_room(venues, site, bookable_by=["teacher"])
    start, end = evening(61)
    with venues.rpc(context=member_ctx()) as rpc:
        with pytest.raises(Forbidden):
            rpc.venues.create_booking({"room_id": room["id"], "title": "x", "starts_at": start.isoformat(),
                                       "ends_at": end.isoformat()})


def test_utilisation_counts_the_hours_each_room_stands_open(venues):
    with venues.rpc(context=MANAGER) as rpc:
        home = rpc.venues.create_site({"name": f"Evening Home {uuid.uuid4().hex[:6]}", "kind": "shared"})
    evenings = new_room(venues, home, opening_hours={d: ["18:00", "22:00"] for d in
                                                      ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    mondays = new_room(venues, home, opening_hours={"mon": ["18:00", "22:00"]})
    always = new_room(venues, home)
    with venues.db("venues") as conn:
        conn.execute(
            "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
            " holder_reference) VALUES (%s, %s, 'Choir', 'confirmed', now() - interval '50 hours',"
            " now() - interval '48 hours', tstzrange(now() - interval '50 hours', now() - interval '48 hours'),"
            " 'members', 'x')", (evenings["id"], home["id"]))
    with venues.rpc(context=MANAGER) as rpc:
        rows = {r["room_id"]: r for r in rpc.venues.utilisation(site_id=home["id"], days=7)}
        # any 7 x 24 hours hold seven 18:00-22:00 evenings and one Monday evening
        assert rows[evenings["id"]]["open_hours"] == 28 and rows[evenings["id"]]["share"] == round(2 / 28, 4)
        assert rows[mondays["id"]]["open_hours"] == 4 and rows[mondays["id"]]["share"] == 0
        assert rows[always["id"]]["open_hours"] == 7 * 24
        # a day's closure takes its evening away; a room closed all the period has no share
        now = datetime.now(SH)
        rpc.venues.close({"room_id": evenings["id"], "starts_at": (now - timedelta(hours=30)).isoformat(),
                          "ends_at": (now - timedelta(hours=6)).isoformat(), "reason": "boiler"})
        rpc.venues.close({"room_id": mondays["id"], "starts_at": (now - timedelta(days=8)).isoformat(),
                          "ends_at": (now + timedelta(days=1)).isoformat(), "reason": "repainting"})
        rows = {r["room_id"]: r for r in rpc.venues.utilisation(site_id=home["id"], days=7)}
        assert rows[evenings["id"]]["open_hours"] == 24
        assert rows[mondays["id"]]["open_hours"] == 0 and rows[mondays["id"]]["share"] is None
        assert rpc.venues.stats()["utilisation_28d"] > 0


def test_a_room_sets_its_own_no_show_limit_and_how_early_check_in_opens(venues, site):
    strict = new_room(venues, site, no_show_limit=1, no_show_days=30, checkin_opens_minutes=60)
    lenient = new_room(venues, site)
    assert (strict["no_show_limit"], strict["no_show_days"], strict["checkin_opens_minutes"]) == (1, 30, 60)
    assert (lenient["no_show_limit"], lenient["no_show_days"], lenient["checkin_opens_minutes"]) == (3, 90, 15)
    member = member_ctx()
    with venues.db("venues") as conn:  # one no-show, in another room, 10 days ago
        b = conn.execute(
            "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
            " holder_reference, member_id) VALUES (%s, %s, 'Gym', 'released', now() - interval '10 days',"
            " now() - interval '10 days' + interval '1 hour', tstzrange(now() - interval '10 days',"
            " now() - interval '10 days' + interval '1 hour'), 'members', %s, %s) RETURNING id",
            (lenient["id"], site["id"], member["caller_id"], member["caller_id"])).fetchone()
        conn.execute("INSERT INTO strikes (booking_id, holder_service, holder_reference, created_at)"
                     " VALUES (%s, 'members', %s, now() - interval '10 days')", (b["id"], member["caller_id"]))
    soon = datetime.now(SH) + timedelta(minutes=45)
    with venues.rpc(context=member) as rpc:
        with pytest.raises(Forbidden) as suspended:
            rpc.venues.create_booking({"room_id": strict["id"], "title": "Gym", "starts_at": soon.isoformat(),
                                       "ends_at": (soon + timedelta(hours=1)).isoformat()})
        assert suspended.value.problem == "too-many-no-shows"
        made = rpc.venues.create_booking({"room_id": lenient["id"], "title": "Gym", "starts_at": soon.isoformat(),
                                          "ends_at": (soon + timedelta(hours=1)).isoformat()})
        with pytest.raises(Conflict) as early:  # 45 minutes ahead: the lenient room opens check-in at 15
            rpc.venues.act(made["id"], "checkin")
        assert "15 minutes before" in early.value.detail
    with venues.rpc(context=MANAGER) as rpc:
        with pytest.raises(Invalid):
            rpc.venues.create_room({"site_id": site["id"], "name": "x", "capacity": 3, "no_show_limit": 0})
        staff = rpc.venues.create_booking({"room_id": strict["id"], "title": "Gym", "starts_at": soon.isoformat(),
                                           "ends_at": (soon + timedelta(hours=1)).isoformat()})
        assert rpc.venues.act(staff["id"], "checkin")["status"] == "checked_in"  # the strict room opens at 60
