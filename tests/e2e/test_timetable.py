"""A member's timetable over HTTP: class sessions and room bookings of a week in one list, in
Asia/Shanghai time, theirs alone; a bad range names the field at fault."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from tests.e2e.conftest import NO_LIMITS, Client, new_member
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually

SH = ZoneInfo("Asia/Shanghai")


def week(weeks_ahead):
    today = datetime.now(SH).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return monday, monday + timedelta(days=6)


def at(day, hour, hours=2):
    start = datetime(day.year, day.month, day.day, hour, tzinfo=SH)
    return start, start + timedelta(hours=hours)


def test_a_member_sees_their_class_and_their_booking_in_order_and_no_one_else_does(palace, admin):
    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Classroom 3", **NO_LIMITS, "capacity": 30}).json()
    monday, sunday = week(21)
    class_start, class_end = at(monday + timedelta(days=2), 19)  # Wednesday evening
    course = admin.post("/v1/courses", {"title": "Calligraphy 书法", "capacity": 5, "room_id": room["id"],
                                        "schedule": {"dates": [{"starts_at": class_start.isoformat(),
                                                                "ends_at": class_end.isoformat()}]}})
    assert course.status_code == 201, course.text
    member, other = new_member(palace.url), new_member(palace.url)
    seat = member.post(f"/v1/courses/{course.json()['id']}/enrolments")
    assert seat.status_code == 201 and seat.json()["status"] == "confirmed", seat.text
    book_start, book_end = at(monday + timedelta(days=1), 18)  # Tuesday, the day before the class
    booked = member.post("/v1/bookings", {"room_id": room["id"], "title": "Choir rehearsal 合唱",
                                          "starts_at": book_start.isoformat(), "ends_at": book_end.isoformat()})
    assert booked.status_code == 201, booked.text

    the_week = {"from": monday.isoformat(), "to": sunday.isoformat()}
    answer = member.get("/v1/me/timetable", params=the_week)
    assert answer.status_code == 200, answer.text
    items = answer.json()
    assert [(i["kind"], i["title"]) for i in items] == [("booking", "Choir rehearsal 合唱"),
                                                         ("class", "Calligraphy 书法")]
    booking, session = items
    assert booking["id"] == booked.json()["id"]
    assert session["course_id"] == course.json()["id"]
    assert session["id"] == course.json()["sessions"][0]["id"]
    assert (session["starts_at"], session["ends_at"]) == (class_start.isoformat(), class_end.isoformat())
    assert booking["starts_at"] == book_start.isoformat() and booking["starts_at"].endswith("+08:00")
    assert {(i["room_name"], i["site_name"]) for i in items} == {("Classroom 3", site["name"])}

    assert other.get("/v1/me/timetable", params=the_week).json() == []
    assert admin.get("/v1/me/timetable", params=the_week).json() == [], "staff see their own week too, not all"
    assert member.get("/v1/me/timetable", params={"from": sunday.isoformat()}).json() == [], "the next week"
    this_week = week(0)
    assert member.get("/v1/me/timetable").json() == member.get("/v1/me/timetable", params={
        "from": this_week[0].isoformat(), "to": this_week[1].isoformat()}).json()


def test_my_enrolments_carry_each_course_title_site_room_and_next_session(palace, admin):
    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Studio 2", **NO_LIMITS, "capacity": 30}).json()
    monday, _ = week(23)
    first, second = at(monday, 19), at(monday + timedelta(days=7), 19)
    dates = [{"starts_at": s.isoformat(), "ends_at": e.isoformat()} for s, e in (second, first)]
    with_room = admin.post("/v1/courses", {"title": "Erhu 二胡", "capacity": 5, "room_id": room["id"],
                                           "schedule": {"dates": dates}}).json()
    no_room = admin.post("/v1/courses", {"title": "Chess 象棋", "capacity": 5, "site_id": site["id"]}).json()
    member = new_member(palace.url)
    for course in (with_room, no_room):
        assert member.post(f"/v1/courses/{course['id']}/enrolments").status_code == 201

    def told():  # the catalog read model is fed by events: it catches up within moments
        answer = member.get("/v1/me/enrolments")
        assert answer.status_code == 200, answer.text
        mine = {e["course_id"]: e["course"] for e in answer.json()}
        return mine if all(mine.values()) else None
    mine = eventually(told)
    erhu, chess = mine[with_room["id"]], mine[no_room["id"]]
    assert (erhu["title"], erhu["room_name"], erhu["site_name"]) == ("Erhu 二胡", "Studio 2", site["name"])
    assert erhu["next_session"]["starts_at"] == first[0].isoformat(), "the earlier of the two, in home time"
    assert erhu["checkin_session"] is None
    assert (chess["title"], chess["room_id"], chess["site_name"], chess["next_session"]) == (
        "Chess 象棋", None, site["name"], None)


def test_the_private_calendar_feed_holds_my_class_sessions_beside_my_bookings(palace, admin):
    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Classroom 5", **NO_LIMITS, "capacity": 30}).json()
    monday, _ = week(25)
    class_start, class_end = at(monday, 19)
    course = admin.post("/v1/courses", {"title": "Erhu 二胡", "capacity": 5, "room_id": room["id"],
                                        "schedule": {"dates": [{"starts_at": class_start.isoformat(),
                                                                "ends_at": class_end.isoformat()}]}}).json()
    member, other = new_member(palace.url), new_member(palace.url)
    assert member.post(f"/v1/courses/{course['id']}/enrolments").json()["status"] == "confirmed"
    book_start, book_end = at(monday + timedelta(days=1), 18)
    booked = member.post("/v1/bookings", {"room_id": room["id"], "title": "Choir 合唱",
                                          "starts_at": book_start.isoformat(), "ends_at": book_end.isoformat()}).json()
    calendar_app = Client(palace.url)  # sends no Authorization header

    def events(client):
        answer = calendar_app.get(client.post("/v1/me/calendar-feed").json()["url"].removeprefix(palace.url))
        assert answer.status_code == 200, answer.text
        return {str(e["uid"]): e for e in Calendar.from_ical(answer.text).walk("VEVENT")}

    mine = events(member)
    [session] = course["sessions"]
    assert set(mine) == {f"{booked['id']}@venues.palace", f"{session['id']}@enrolment.palace"}
    lesson = mine[f"{session['id']}@enrolment.palace"]
    assert str(lesson["summary"]) == "Erhu 二胡" and str(lesson["location"]) == f"Classroom 5, {site['name']}"
    assert lesson.decoded("dtstart") == class_start
    assert events(other) == {}, "another member's feed holds none of it"


def test_a_bad_range_names_the_field(palace):
    member = new_member(palace.url)
    assert_problem(member.get("/v1/me/timetable", params={"from": "next tuesday"}), 422, "validation-failed", "from")
    too_long = member.get("/v1/me/timetable", params={"from": "2027-01-01", "to": "2027-03-05"})
    assert_problem(too_long, 422, "validation-failed", "to")
    backwards = member.get("/v1/me/timetable", params={"from": "2027-01-10", "to": "2027-01-09"})
    assert "to" in backwards.json()["errors"]
    assert "from" in member.get("/v1/me/timetable", params={"from": "2027-02-30"}).json()["errors"]
    assert member.get("/v1/me/timetable", params={"from": "2027-01-01", "to": "2027-03-03"}).status_code == 200
