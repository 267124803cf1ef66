"""Publishing a course reserves its room through the real venues service: all sessions or none, a
clash names its dates; when venues cancels a booking the session is marked and members are told."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict
from tests.harness import eventually

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}


@pytest.fixture(scope="module")
def palace(stack):
    stack.start("venues")
    stack.start("enrolment")
    yield stack
    stack.stop("enrolment")
    stack.stop("venues")


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


def test_a_booking_cancelled_by_venues_marks_the_session_and_tells_the_members(palace, room):
    first = datetime(2030, 6, 4, 11, 0, tzinfo=timezone.utc)
    course = call(palace, "enrolment", "create_course", {"title": "Yoga", "capacity": 5, "room_id": room["id"],
                                                         "schedule": weekly(first, 2)})
    member = str(uuid.uuid4())
    call(palace, "enrolment", "enrol", course["id"], context={"caller_id": member, "caller_roles": "member"})
    booking = [b for b in bookings(palace, room["id"]) if b["starts_at"].startswith("2030-06-04")][0]
    call(palace, "venues", "act", booking["id"], "cancel", {"reason": "burst pipe"})

    [moved] = eventually(lambda: outbox(palace, "session_moved", course["id"]), timeout=15)
    assert moved["member_ids"] == [member] and moved["reason"] == "burst pipe" and moved["state"] == "room_lost"
    sessions = call(palace, "enrolment", "get_course", course["id"])["sessions"]
    assert [s["state"] for s in sessions] == ["room_lost", "scheduled"]

    call(palace, "enrolment", "cancel_course", course["id"], {"reason": "teacher moved away"})
    eventually(lambda: not [b for b in bookings(palace, room["id"]) if b["starts_at"].startswith("2030-06")])
    [told] = outbox(palace, "course_cancelled", course["id"])
    assert told["member_ids"] == [member] and told["course"]["state"] == "cancelled"
