"""Counselling sessions in a private room, booked through the real venues service."""
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.common.context import Caller
from services.common.errors import Conflict, Forbidden
from tests.e2e.conftest import NO_LIMITS
from tests.harness import eventually

MEMBER, OFFICER, MANAGER = (str(uuid.uuid4()) for _ in range(3))


def context(caller_id, *roles):
    return Caller(caller_id, frozenset(roles), None, None, None).to_context()


@pytest.fixture(scope="module")
def palace(stack):
    stack.start_all(["venues", "welfare", "notify"])
    return stack


@pytest.fixture(scope="module")
def room(palace):
    with palace.rpc(context=context(MANAGER, "admin")) as rpc:
        site = rpc.venues.create_site({"name": "Heart station 心灵驿站", "kind": "palace",
                                       "address": "东城区工人文化宫北楼三层"})
        return rpc.venues.create_room({"site_id": site["id"], "name": "Quiet room 2", **NO_LIMITS, "capacity": 2,
                                       "features": ["private"], "bookable_by": ["admin"]})


def counselling_case(palace):
    with palace.rpc(context=context(MEMBER, "member")) as rpc:
        return rpc.welfare.create_application({"programme": "counselling", "reason": "sleepless since the layoff",
                                               "private": {"health": "insomnia"}})


def next_week_at(hour):
    start = (datetime.now(timezone.utc) + timedelta(days=7)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start, start + timedelta(minutes=50)


def test_a_counselling_case_reserves_a_weekly_private_slot_and_a_clash_names_the_dates(palace, room):
    case = counselling_case(palace)
    starts, ends = next_week_at(6)
    with palace.rpc(context=context(OFFICER, "welfare_officer")) as rpc:
        sessions = rpc.welfare.book_appointments(case["id"], {"room_id": room["id"], "starts_at": starts.isoformat(),
                                                              "ends_at": ends.isoformat(), "weeks": 3})
        assert len(sessions) == 3 and all(s["room_id"] == room["id"] for s in sessions)
        assert [datetime.fromisoformat(s["starts_at"]) for s in sessions] == [
            starts + timedelta(weeks=n) for n in range(3)]
        other = counselling_case(palace)
        clash_start = starts + timedelta(weeks=1)
        with pytest.raises(Conflict) as clash:
            rpc.welfare.book_appointments(other["id"], {
                "room_id": room["id"], "starts_at": clash_start.isoformat(),
                "ends_at": (clash_start + timedelta(minutes=50)).isoformat()})
        assert clash.value.errors["occurrences"], clash.value.detail
    with palace.db("venues") as conn:
        held = conn.execute("SELECT count(*) AS n FROM bookings WHERE holder_service = 'welfare'"
                            " AND holder_reference LIKE %s AND status = 'confirmed'", (f"{case['id']}%",)).fetchone()
    assert held["n"] == 3
    with palace.rpc(context=context(None)) as rpc:  # the room's public feed, as anyone reads it
        feed = rpc.venues.room_calendar(room["id"])
    assert feed.count("SUMMARY:Booked\r\n") >= 3 and "Counselling" not in feed and case["reference"] not in feed


def test_closing_the_case_gives_the_rooms_back(palace, room):
    case = counselling_case(palace)
    starts, ends = next_week_at(3)
    with palace.rpc(context=context(OFFICER, "welfare_officer")) as rpc:
        rpc.welfare.book_appointments(case["id"], {"room_id": room["id"], "starts_at": starts.isoformat(),
                                                   "ends_at": ends.isoformat(), "weeks": 2})
        rpc.welfare.decide(case["id"], {"decision": "approve"})
        assert rpc.welfare.decide(case["id"], {"decision": "close", "note": "done"})["state"] == "closed"

    def live_bookings():
        with palace.db("venues") as conn:
            return conn.execute("SELECT count(*) AS n FROM bookings WHERE holder_reference LIKE %s"
                                " AND status = 'confirmed'", (f"{case['id']}%",)).fetchone()["n"]

    eventually(lambda: live_bookings() == 0)


def test_a_session_cancelled_by_venues_is_marked_off_on_the_case(palace, room):
    case = counselling_case(palace)
    starts, ends = next_week_at(9)
    with palace.rpc(context=context(OFFICER, "welfare_officer")) as rpc:
        rpc.welfare.book_appointments(case["id"], {"room_id": room["id"], "starts_at": starts.isoformat(),
                                                   "ends_at": ends.isoformat(), "weeks": 2})
    with palace.rpc(context=context(MANAGER, "admin")) as rpc:
        rpc.venues.close({"room_id": room["id"], "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
                          "reason": "burst pipe"})

    def sessions():
        with palace.rpc(context=context(MEMBER, "member")) as rpc:
            return rpc.welfare.get_application(case["id"])["appointments"]

    off = eventually(lambda: [s for s in sessions() if s["cancelled_at"]])
    assert len(off) == 1 and "burst pipe" in off[0]["cancel_reason"]
    assert len(sessions()) == 2

    def told():  # the member hears that the session is off, in their inbox
        with palace.rpc(context=context(MEMBER, "member")) as rpc:
            return [n for n in rpc.notify.my_inbox() if n["event_type"] == "welfare.counselling_cancelled"]

    message = eventually(told)
    assert len(message) == 1 and "burst pipe" in message[0]["body"], message


def test_a_member_sees_their_own_appointments_for_their_timetable_and_no_one_else_does(palace, room):
    case = counselling_case(palace)
    starts, ends = next_week_at(8)
    with palace.rpc(context=context(OFFICER, "welfare_officer")) as rpc:
        booked = rpc.welfare.book_appointments(case["id"], {"room_id": room["id"], "starts_at": starts.isoformat(),
                                                            "ends_at": ends.isoformat(), "weeks": 2})
    window = ((starts - timedelta(minutes=1)).isoformat(), (starts + timedelta(days=1)).isoformat())
    with palace.rpc(context=context(MEMBER, "member")) as rpc:
        [first] = rpc.welfare.my_appointments(*window)
    assert first["id"] == booked[0]["id"] and first["application_id"] == case["id"]
    assert datetime.fromisoformat(first["starts_at"]) == starts and first["room_id"] == room["id"]
    assert (first["room_name"], first["site_name"], first["address"]) == (
        "Quiet room 2", "Heart station 心灵驿站", "东城区工人文化宫北楼三层")
    with palace.rpc(context=context(str(uuid.uuid4()), "member")) as rpc:
        assert rpc.welfare.my_appointments(*window) == []
        with pytest.raises(Forbidden):  # the service checks the role itself, whatever the gateway did
            rpc.welfare.list_appointments(*window)
        with pytest.raises(Forbidden):
            rpc.welfare.member_cases(MEMBER)
    with palace.rpc(context=context(OFFICER, "welfare_officer")) as rpc:
        week = rpc.welfare.list_appointments(window[0], (starts + timedelta(minutes=1)).isoformat(), with_total=True)
    assert [(a["id"], a["member_id"], a["state"]) for a in week["items"]] == [(booked[0]["id"], MEMBER, "booked")]


def test_the_member_is_told_when_and_where_their_sessions_are_in_chinese_once(palace, room):
    case = counselling_case(palace)
    starts, ends = next_week_at(10)
    body = {"room_id": room["id"], "starts_at": starts.isoformat(), "ends_at": ends.isoformat(), "weeks": 3}
    with palace.rpc(context=Caller(OFFICER, frozenset({"welfare_officer"}), None, None, "book-1").to_context()) as rpc:
        rpc.welfare.book_appointments(case["id"], body)
        rpc.welfare.book_appointments(case["id"], body)  # a retry of the same booking tells nothing twice

    shanghai = starts.astimezone(ZoneInfo("Asia/Shanghai"))

    def told():  # this case's sessions: the only ones at this hour
        with palace.rpc(context=context(MEMBER, "member")) as rpc:
            return [n for n in rpc.notify.my_inbox(limit=100) if n["event_type"] == "welfare.counselling_booked"
                    and shanghai.strftime("%H:%M") in n["body"]]

    [message] = eventually(told, timeout=15)
    assert message["title"] == "心理咨询已预约", message
    assert f"{shanghai.month}月{shanghai.day}日" in message["body"] and shanghai.strftime("%H:%M") in message["body"]
    assert "Quiet room 2" in message["body"] and "东城区工人文化宫北楼三层" in message["body"]
    assert "共 3 次" in message["body"], message
    time.sleep(1)
    assert len(told()) == 1, "told once"
