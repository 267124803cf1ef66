"""Publishing a course reserves its room through the real venues service: all sessions or none, a
clash names its dates; a course gets or changes its timetable and room the same way, its old
bookings released only with the new ones; when venues cancels a booking the session moves to
another free room of the site, or is cancelled, and members are told."""
import os
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Invalid
from tests.harness import eventually

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}


@pytest.fixture(scope="module")
def palace(stack):
    stack.start_all(["venues", "enrolment"])
    return stack


def call(stack, service, method, *args, context=ADMIN):
    with stack.rpc(context=context, timeout=30) as rpc:
        return getattr(getattr(rpc, service), method)(*args)


@pytest.fixture(scope="module")
def room(palace):
    site = call(palace, "venues", "create_site", {"name": f"Palace {uuid.uuid4().hex[:6]}", "kind": "palace"})
    return call(palace, "venues", "create_room", {"site_id": site["id"], "name": "Classroom 3", "capacity": 40})


def weekly(first, weeks):
    return {"dates": [{"starts_at": (first + timedelta(weeks=w)).isoformat(),
                       "ends_at": (first + timedelta(weeks=w, hours=2)).isoformat()} for w in range(weeks)]}


def bookings(stack, room_id):
    return [b for b in call(stack, "venues", "list_bookings", 200, 0, room_id) if b["status"] != "cancelled"]


def outbox(stack, event_type, course_id):
    with stack.db("enrolment") as conn:
        return [r["p"] for r in conn.execute(
            "SELECT body->'payload' AS p FROM outbox WHERE event_type = %s AND body->'payload'->>'course_id' = %s",
            (event_type, course_id))]


def test_publishing_reserves_every_session_and_a_clash_fails_whole_with_its_dates(palace, room):
    first = datetime(2030, 3, 4, 11, 0, tzinfo=timezone.utc)  # Mondays, 19:00 in Shanghai
    course = call(palace, "enrolment", "create_course", {"title": "Choir 合唱", "capacity": 30, "room_id": room["id"],
                                                         "schedule": weekly(first, 4)})
    assert course["state"] == "published" and course["site_id"] == room["site_id"]
    assert len(bookings(palace, room["id"])) == 4

    clashing = weekly(first + timedelta(weeks=3), 3)  # its first date is the choir's last
    with pytest.raises(Conflict) as exc:
        call(palace, "enrolment", "create_course", {"title": "Dance", "capacity": 10, "room_id": room["id"],
                                                    "schedule": clashing})
    assert exc.value.problem == "room-clash" and exc.value.errors["occurrences"]
    assert "2030-03-25" in exc.value.detail
    assert len(bookings(palace, room["id"])) == 4, "nothing half-reserved"
    assert not [c for c in call(palace, "enrolment", "list_courses", 200, 0, {"q": "Dance"})]

    draft = call(palace, "enrolment", "create_course", {"title": "Drama", "capacity": 10, "room_id": room["id"],
                                                        "schedule": clashing, "publish": False})
    with pytest.raises(Conflict):
        call(palace, "enrolment", "publish_course", draft["id"])
    assert call(palace, "enrolment", "get_course", draft["id"])["state"] == "draft"


def test_a_booking_cancelled_by_venues_with_no_other_room_cancels_the_session_and_tells_the_members(palace, room):
    first = datetime(2030, 6, 4, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Yoga", "capacity": 5, "room_id": room["id"],
                                                         "schedule": weekly(first, 2)})
    member = str(uuid.uuid4())
    call(palace, "enrolment", "enrol", course["id"], context={"caller_id": member, "caller_roles": "member"})
    booking = [b for b in bookings(palace, room["id"]) if b["starts_at"].startswith("2030-06-04")][0]
    call(palace, "venues", "act", booking["id"], "cancel", {"reason": "burst pipe"})

    [gone] = eventually(lambda: outbox(palace, "session_cancelled", course["id"]), timeout=15)
    assert gone["member_ids"] == [member] and gone["reason"] == "burst pipe" and gone["state"] == "cancelled"
    assert (gone["cause"], gone["note"]) == ("cancelled_by_manager", "burst pipe"), "venues' cause passed on"
    assert gone["starts_at"] == gone["old_starts_at"] and not outbox(palace, "session_moved", course["id"])
    sessions = call(palace, "enrolment", "get_course", course["id"])["sessions"]
    assert [s["state"] for s in sessions] == ["cancelled", "scheduled"]

    call(palace, "enrolment", "cancel_course", course["id"], {"reason": "teacher moved away"})
    eventually(lambda: not [b for b in bookings(palace, room["id"]) if b["starts_at"].startswith("2030-06")])
    [told] = outbox(palace, "course_cancelled", course["id"])
    assert told["member_ids"] == [member] and told["course"]["state"] == "cancelled"


def site_with(stack, *names):
    site = call(stack, "venues", "create_site", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"})
    return [call(stack, "venues", "create_room", {"site_id": site["id"], "name": n, "capacity": 40}) for n in names]


def member():
    return {"caller_id": str(uuid.uuid4()), "caller_roles": "member"}


def at(*texts):
    return [datetime.fromisoformat(t) for t in texts]


def starts(stack, room_id):
    return sorted(at(*(b["starts_at"] for b in bookings(stack, room_id))))


def test_a_course_announced_without_a_timetable_gets_its_sessions_and_room_later(palace):
    [hall] = site_with(palace, "Hall")
    first = datetime(2030, 9, 2, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Erhu 二胡", "capacity": 5})
    assert course["state"] == "published" and course["sessions"] == [] and course["room_id"] is None
    fan = member()
    assert call(palace, "enrolment", "enrol", course["id"], context=fan)["status"] == "confirmed"
    call(palace, "enrolment", "create_course", {"title": "Opera", "capacity": 5, "room_id": hall["id"],
                                                "schedule": weekly(first + timedelta(weeks=2), 1)})

    with pytest.raises(Conflict) as exc:  # its third week clashes: nothing changes, nothing is kept
        call(palace, "enrolment", "update_course", course["id"], {"room_id": hall["id"],
                                                                  "schedule": weekly(first, 4)})
    assert exc.value.problem == "room-clash" and at(*exc.value.errors["occurrences"]) == [first + timedelta(weeks=2)]
    assert "2030-09-16" in exc.value.detail
    after = call(palace, "enrolment", "get_course", course["id"])
    assert after["sessions"] == [] and after["room_id"] is None and after["version"] == course["version"] + 1
    assert len(bookings(palace, hall["id"])) == 1

    done = call(palace, "enrolment", "update_course", course["id"], {"room_id": hall["id"],
                                                                     "schedule": weekly(first + timedelta(hours=3), 4)})
    assert done["room_id"] == hall["id"] and len(done["sessions"]) == 4 and done["site_id"] == hall["site_id"]
    assert len(bookings(palace, hall["id"])) == 5
    [told] = outbox(palace, "course_rescheduled", course["id"])
    assert told["member_ids"] == [fan["caller_id"]] and told["announced"] is True and told["sessions"] == 4
    assert told["room_name"] == "Hall" and datetime.fromisoformat(told["first_session_at"]) == first + timedelta(hours=3)
    with palace.db("enrolment") as conn:  # the member's time is taken for the new sessions
        held = conn.execute("SELECT count(*) AS n FROM member_slots WHERE member_id = %s",
                            (fan["caller_id"],)).fetchone()["n"]
    assert held == 4


def test_a_published_course_changes_room_and_timetable_new_bookings_first_old_released_after(palace):
    old_room, busy, free = site_with(palace, "Room 1", "Room 2", "Room 3")
    first = datetime(2030, 10, 7, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Tai chi", "capacity": 1, "room_id": old_room["id"],
                                                         "schedule": weekly(first, 3)})
    call(palace, "enrolment", "create_course", {"title": "Chess", "capacity": 5, "room_id": busy["id"],
                                                "schedule": weekly(first + timedelta(weeks=1), 1)})
    seated, waiting = member(), member()
    call(palace, "enrolment", "enrol", course["id"], context=seated)
    assert call(palace, "enrolment", "enrol", course["id"], context=waiting)["status"] == "waitlisted"

    with pytest.raises(Conflict) as exc:
        call(palace, "enrolment", "update_course", course["id"], {"room_id": busy["id"]})
    assert at(*exc.value.errors["occurrences"]) == [first + timedelta(weeks=1)]
    assert len(bookings(palace, old_room["id"])) == 3, "the old bookings stand"
    assert call(palace, "enrolment", "get_course", course["id"])["room_id"] == old_room["id"]

    moved = call(palace, "enrolment", "update_course", course["id"], {"room_id": free["id"]})
    assert moved["room_id"] == free["id"] and [s["state"] for s in moved["sessions"]] == ["scheduled"] * 3
    assert len(bookings(palace, free["id"])) == 3 and bookings(palace, old_room["id"]) == []

    # half an hour later in the same room: the new times overlap the course's own bookings
    later = call(palace, "enrolment", "update_course", course["id"], {
        "schedule": weekly(first + timedelta(minutes=30), 3)})
    half_past = [first + timedelta(weeks=w, minutes=30) for w in range(3)]
    assert at(*(s["starts_at"] for s in later["sessions"])) == half_past
    assert starts(palace, free["id"]) == half_past
    told = outbox(palace, "course_rescheduled", course["id"])
    assert len(told) == 2 and told[-1]["announced"] is False
    assert set(told[-1]["member_ids"]) == {seated["caller_id"], waiting["caller_id"]}

    # the bookings released by the moves are ours: no session is lost, moved or cancelled for them
    time.sleep(3)
    assert not outbox(palace, "session_moved", course["id"]) and not outbox(palace, "session_cancelled", course["id"])
    assert {s["state"] for s in call(palace, "enrolment", "get_course", course["id"])["sessions"]} == {"scheduled"}

    # no room after all: the bookings go, the sessions stay, and nobody is told of a lost room
    call(palace, "enrolment", "update_course", course["id"], {"room_id": None})
    eventually(lambda: bookings(palace, free["id"]) == [], timeout=10)
    time.sleep(2)
    assert not outbox(palace, "session_moved", course["id"]) and not outbox(palace, "session_cancelled", course["id"])
    assert {s["state"] for s in call(palace, "enrolment", "get_course", course["id"])["sessions"]} == {"scheduled"}


def test_a_new_timetable_that_overlaps_a_members_other_class_gives_up_that_seat_to_the_next_in_line(palace):
    first = datetime(2031, 3, 3, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Guzheng", "capacity": 1,
                                                         "schedule": weekly(first, 2)})
    pottery = call(palace, "enrolment", "create_course", {"title": "Pottery", "capacity": 5,
                                                          "schedule": weekly(first + timedelta(days=1), 2)})
    busy, free = member(), member()
    call(palace, "enrolment", "enrol", pottery["id"], context=busy)
    call(palace, "enrolment", "enrol", course["id"], context=busy)
    call(palace, "enrolment", "enrol", course["id"], context=free)

    call(palace, "enrolment", "update_course", course["id"], {"schedule": weekly(first + timedelta(days=1), 2)})
    mine = {e["course_id"]: e["status"] for e in call(palace, "enrolment", "my_enrolments", context=busy)}
    assert mine == {course["id"]: "cancelled", pottery["id"]: "confirmed"}
    [dropped] = outbox(palace, "enrolment_cancelled", course["id"])
    assert dropped["member_id"] == busy["caller_id"] and "overlaps another class" in dropped["reason"]
    [promoted] = outbox(palace, "enrolment_promoted", course["id"])
    assert promoted["member_id"] == free["caller_id"]
    [told] = outbox(palace, "course_rescheduled", course["id"])
    assert told["dropped_member_ids"] == [busy["caller_id"]] and told["member_ids"] == [free["caller_id"]]

    with pytest.raises(Invalid) as exc:  # sessions already passed are not replaced by a new timetable
        call(palace, "enrolment", "update_course", course["id"], {"schedule": weekly(datetime(2020, 1, 6, 11, 0,
                                                                                        tzinfo=timezone.utc), 1)})
    assert exc.value.errors["schedule"]


def test_a_lost_room_is_rebooked_at_the_same_time_in_another_free_room_of_the_site(palace):
    lost, spare = site_with(palace, "Studio A", "Studio B")
    first = datetime(2031, 5, 5, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Ballet", "capacity": 5, "room_id": lost["id"],
                                                         "schedule": weekly(first, 2)})
    dancer = member()
    call(palace, "enrolment", "enrol", course["id"], context=dancer)
    # the spare studio is taken for the second week: that session has nowhere to go
    call(palace, "enrolment", "create_course", {"title": "Tap", "capacity": 5, "room_id": spare["id"],
                                                "schedule": weekly(first + timedelta(weeks=1), 1)})
    for booking in bookings(palace, lost["id"]):
        call(palace, "venues", "act", booking["id"], "cancel", {"reason": "floor repairs"})

    [moved] = eventually(lambda: outbox(palace, "session_moved", course["id"]), timeout=15)
    assert moved["room_id"] == spare["id"] and moved["room_name"] == "Studio B" and moved["state"] == "scheduled"
    assert moved["starts_at"] == moved["old_starts_at"] and moved["old_room_name"] == "Studio A"
    assert moved["member_ids"] == [dancer["caller_id"]] and moved["reason"] == "floor repairs"
    [gone] = eventually(lambda: outbox(palace, "session_cancelled", course["id"]), timeout=15)
    assert datetime.fromisoformat(gone["starts_at"]) == first + timedelta(weeks=1)
    sessions = call(palace, "enrolment", "get_course", course["id"])["sessions"]
    assert [(s["state"], s["room_id"]) for s in sessions] == [("scheduled", spare["id"]), ("cancelled", None)]
    assert starts(palace, spare["id"]) == [first, first + timedelta(weeks=1)]

    # the course's cancellation releases the session rebooked alone too
    call(palace, "enrolment", "cancel_course", course["id"])
    eventually(lambda: len(bookings(palace, spare["id"])) == 1, timeout=10)


def test_a_booking_venues_released_marks_the_session_without_moving_it(palace, room):
    from services.common.outbox import record
    first = datetime(2031, 7, 7, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Yangqin", "capacity": 5, "room_id": room["id"],
                                                         "schedule": weekly(first, 1)})
    [booking] = [b for b in bookings(palace, room["id"]) if at(b["starts_at"]) == [first]]
    with palace.db("venues") as conn:  # venues releases only members' bookings today: as if it released ours
        record(conn, "venues", "booking_released", {**{k: booking.get(k) for k in (
            "room_id", "room_name", "site_id", "title", "starts_at", "ends_at", "holder_service",
            "holder_reference")}, "site_name": room["site_name"], "booking_id": booking["id"], "status": "released",
            "reason": "not checked in"})
    eventually(lambda: call(palace, "enrolment", "get_course", course["id"])["sessions"][0]["state"] == "room_lost",
               timeout=15)
    assert not outbox(palace, "session_moved", course["id"]) and not outbox(palace, "session_cancelled", course["id"])


def test_a_change_refused_after_venues_swapped_the_bookings_books_the_old_room_back(palace):
    old_room, new_room = site_with(palace, "Room A", "Room B")
    first = datetime(2031, 9, 1, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Flute", "capacity": 2, "room_id": old_room["id"],
                                                         "schedule": weekly(first, 2)})
    # group_limit above capacity is refused by the database, after venues took the new room
    with pytest.raises(Conflict) as exc:
        call(palace, "enrolment", "update_course", course["id"], {"room_id": new_room["id"], "group_limit": 5})
    assert exc.value.problem == "course-rule"
    assert starts(palace, old_room["id"]) == [first, first + timedelta(weeks=1)] and bookings(palace, new_room["id"]) == []
    after = call(palace, "enrolment", "get_course", course["id"])
    assert after["room_id"] == old_room["id"] and after["version"] == course["version"]

    # the bookings given back are the sessions' own: venues taking one moves or cancels that session
    [booking] = [b for b in bookings(palace, old_room["id"]) if at(b["starts_at"]) == [first]]
    call(palace, "venues", "act", booking["id"], "cancel", {"reason": "leak"})
    [moved] = eventually(lambda: outbox(palace, "session_moved", course["id"]), timeout=15)
    assert moved["room_id"] == new_room["id"]


def test_two_staff_moving_a_course_at_once_leave_it_in_one_room_with_one_set_of_bookings(palace):
    from concurrent.futures import ThreadPoolExecutor
    home, left, right = site_with(palace, "Room L0", "Room L1", "Room L2")
    first = datetime(2031, 11, 3, 11, 0, tzinfo=timezone.utc)
    for attempt in range(3):
        course = call(palace, "enrolment", "create_course", {
            "title": f"Race {attempt}", "capacity": 3, "room_id": home["id"],
            "schedule": weekly(first + timedelta(days=attempt), 3)})

        def move(room):
            return call(palace, "enrolment", "update_course", course["id"], {"room_id": room["id"]})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(move, [left, right]))
        final = call(palace, "enrolment", "get_course", course["id"])["room_id"]
        assert final == answers[-1]["room_id"] or final == answers[0]["room_id"]
        held = {r["id"]: len([b for b in bookings(palace, r["id"])
                              if b["holder_reference"].startswith(course["id"])]) for r in (home, left, right)}
        assert held == {home["id"]: 0, left["id"]: 3 if final == left["id"] else 0,
                        right["id"]: 3 if final == right["id"] else 0}, held


def tell_cancelled(stack, room, booking, **fields):
    """A booking_cancelled in venues' outbox, as venues would send it, with `fields` over it."""
    from services.common.outbox import record
    with stack.db("venues") as conn:
        record(conn, "venues", "booking_cancelled", {**{k: booking.get(k) for k in (
            "room_id", "room_name", "site_id", "title", "starts_at", "ends_at", "holder_service",
            "holder_reference")}, "site_name": room["site_name"], "booking_id": booking["id"], "status": "cancelled",
            **fields})


def test_enrolment_knows_its_own_released_bookings_by_the_cause_not_by_the_words(palace):
    [hall] = site_with(palace, "Hall")
    first = datetime(2031, 9, 1, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Guzheng", "capacity": 5, "room_id": hall["id"],
                                                         "schedule": weekly(first, 2)})
    one, two = sorted(bookings(palace, hall["id"]), key=lambda b: b["starts_at"])
    # ours (a series we replaced), whatever the words say: passed over
    tell_cancelled(palace, hall, one, reason="burst pipe", cause="replaced")
    # a venues from before causes: no cause, so the session check decides, and this booking is the session's
    tell_cancelled(palace, hall, two, reason="replaced by enrolment")
    [gone] = eventually(lambda: outbox(palace, "session_cancelled", course["id"]), timeout=15)
    assert datetime.fromisoformat(gone["starts_at"]) == first + timedelta(weeks=1) and gone["cause"] is None
    time.sleep(2)
    assert len(outbox(palace, "session_cancelled", course["id"])) == 1 and not outbox(palace, "session_moved",
                                                                                       course["id"])
    sessions = call(palace, "enrolment", "get_course", course["id"])["sessions"]
    assert [s["state"] for s in sessions] == ["scheduled", "cancelled"]


def test_a_cancellation_without_a_cause_of_a_booking_no_session_holds_changes_nothing(palace):
    [hall] = site_with(palace, "Hall")
    first = datetime(2031, 10, 6, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Pipa", "capacity": 5, "room_id": hall["id"],
                                                         "schedule": weekly(first, 1)})
    [booking] = bookings(palace, hall["id"])
    call(palace, "enrolment", "update_course", course["id"], {"schedule": weekly(first + timedelta(hours=3), 1)})
    # the old booking, told again as an old venues would (no cause): it serves no session any more
    tell_cancelled(palace, hall, booking, reason="anything at all")
    time.sleep(3)
    assert not outbox(palace, "session_cancelled", course["id"]) and not outbox(palace, "session_moved", course["id"])
    assert {s["state"] for s in call(palace, "enrolment", "get_course", course["id"])["sessions"]} == {"scheduled"}


def test_enrolments_go_on_while_venues_is_slow_to_book_a_course_its_new_room(palace):
    """The course's row lock is not held while venues is asked: a member enrols at once while staff's
    change of room waits on a venues that has stopped answering for a moment."""
    old, new = site_with(palace, "Room A", "Room B")
    course = call(palace, "enrolment", "create_course", {"title": "Erhu", "capacity": 5, "room_id": old["id"],
                                                         "schedule": weekly(datetime(2032, 3, 1, 11, tzinfo=timezone.utc), 2)})
    moved = {}
    mover = threading.Thread(target=lambda: moved.update(
        call(palace, "enrolment", "update_course", course["id"], {"room_id": new["id"]})), daemon=True)
    venues = palace.procs["venues"].pid
    os.killpg(venues, signal.SIGSTOP)  # alive and connected, silent
    try:
        mover.start()
        time.sleep(0.5)
        started = time.monotonic()
        seat = call(palace, "enrolment", "enrol", course["id"], context=member())
        took = time.monotonic() - started
        change_waiting = mover.is_alive()
    finally:
        os.killpg(venues, signal.SIGCONT)
    mover.join(timeout=30)
    assert seat["status"] == "confirmed" and took < 1.5, f"the enrolment waited {took:.1f}s"
    assert change_waiting, "the change of room was still waiting on venues"
    assert moved["room_id"] == new["id"] and len(bookings(palace, new["id"])) == 2
    assert bookings(palace, old["id"]) == []


def test_enrolments_go_on_while_a_session_that_lost_its_room_waits_for_venues(palace):
    from tests.broker import publish
    lost, spare = site_with(palace, "Studio C", "Studio D")
    course = call(palace, "enrolment", "create_course", {"title": "Pipa", "capacity": 5, "room_id": lost["id"],
                                                         "schedule": weekly(datetime(2032, 5, 3, 11, tzinfo=timezone.utc), 1)})
    [booking] = bookings(palace, lost["id"])
    cancelled = {**{k: booking.get(k) for k in ("room_id", "room_name", "site_id", "title", "starts_at", "ends_at",
                                                "holder_service", "holder_reference")},
                 "site_name": lost["site_name"], "booking_id": booking["id"], "status": "cancelled",
                 "reason": "floor repairs", "cause": "cancelled_by_manager", "note": "floor repairs"}
    venues = palace.procs["venues"].pid
    os.killpg(venues, signal.SIGSTOP)
    try:
        publish("venues", "booking_cancelled", cancelled)
        time.sleep(1)  # enrolment has heard it and asks venues for a free room
        started = time.monotonic()
        seat = call(palace, "enrolment", "enrol", course["id"], context=member())
        took = time.monotonic() - started
        waiting = not outbox(palace, "session_moved", course["id"])
    finally:
        os.killpg(venues, signal.SIGCONT)
    assert seat["status"] == "confirmed" and took < 1.5, f"the enrolment waited {took:.1f}s"
    [moved] = eventually(lambda: outbox(palace, "session_moved", course["id"]), timeout=20)
    assert waiting and moved["room_id"] == spare["id"] and moved["member_ids"] == [seat["member_id"]]
