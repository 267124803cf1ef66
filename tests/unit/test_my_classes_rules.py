"""My enrolments told with their course (gateway/classes.py): the next session is the first not
cancelled that has not ended, check-in is open from an hour before a start to twelve hours after,
names come from the room (or the site), and a course the catalog does not know yet is null."""
from datetime import datetime, timedelta, timezone

from gateway import classes
from services.common.zone import HOME_ZONE

NOW = datetime(2027, 3, 3, 19, 30, tzinfo=HOME_ZONE)


def session(id_, hours_from_now, state="scheduled", minutes=90):
    start = NOW + timedelta(hours=hours_from_now)
    # as the catalog keeps them: UTC, as enrolment told them
    return {"id": id_, "starts_at": start.astimezone(timezone.utc).isoformat(),
            "ends_at": (start + timedelta(minutes=minutes)).astimezone(timezone.utc).isoformat(), "state": state, "room_id": None}


def row(sessions, room_id="r1", site_id="s1"):
    return {"title": "书法", "site_id": site_id, "room_id": room_id, "state": "published", "sessions": sessions}


def test_the_next_session_is_the_one_under_way_or_the_first_to_come_told_in_home_time():
    sessions = [session("later", 48), session("cancelled", 24, state="cancelled"), session("now", -0.5),
                session("past", -48)]
    nxt = classes.next_session(sessions, NOW)
    assert nxt["id"] == "now" and nxt["starts_at"].endswith("+08:00")
    assert classes.next_session([session("past", -48)], NOW) is None


def test_check_in_is_open_from_an_hour_before_to_twelve_hours_after_a_start():
    assert classes.checkin_session([session("soon", 0.9)], NOW)["id"] == "soon"
    assert classes.checkin_session([session("too soon", 1.1)], NOW) is None
    assert classes.checkin_session([session("ended", -11, minutes=60)], NOW)["id"] == "ended"
    assert classes.checkin_session([session("closed", -12.5)], NOW) is None
    assert classes.checkin_session([session("off", 0.5, state="cancelled")], NOW) is None


def test_names_come_from_the_room_or_else_the_site_and_an_unknown_course_is_null():
    rooms, sites = {"r1": {"name": "301 教室", "site_name": "工人文化宫"}}, {"s2": {"name": "职工之家"}}
    entries = [{"id": "e1", "course_id": "c1"}, {"id": "e2", "course_id": "c2"}, {"id": "e3", "course_id": "c3"}]
    rows = {"c1": row([session("a", 24)]), "c2": row([], room_id=None, site_id="s2")}
    first, second, third = classes.told(entries, rows, rooms, sites, NOW)
    assert (first["course"]["title"], first["course"]["room_name"], first["course"]["site_name"]) == (
        "书法", "301 教室", "工人文化宫")
    assert first["course"]["next_session"]["id"] == "a" and first["id"] == "e1"
    assert (second["course"]["room_name"], second["course"]["site_name"], second["course"]["next_session"]) == (
        None, "职工之家", None)
    assert third["course"] is None
