"""The timetable's range and merge: a week by default, at most 62 days, one list by start in home time."""
from datetime import date

import pytest

from gateway import timetable
from gateway.problems import Problem

WEDNESDAY = date(2027, 3, 3)


def test_the_default_range_is_this_monday_to_sunday():
    assert timetable.days(None, None, WEDNESDAY) == (date(2027, 3, 1), date(2027, 3, 7))


def test_a_from_alone_gives_that_week():
    assert timetable.days("2027-03-10", None, WEDNESDAY) == (date(2027, 3, 10), date(2027, 3, 16))


@pytest.mark.parametrize(("first", "last", "field"), [("soon", None, "from"), ("2027-01-01", "2027-03-05", "to"),
                                                      ("2027-01-02", "2027-01-01", "to"), (None, "31.1.", "to")])
def test_a_bad_range_names_the_field(first, last, field):
    with pytest.raises(Problem) as refused:
        timetable.days(first, last, WEDNESDAY)
    assert str(refused.value.status).startswith("422") and field in refused.value.errors


def test_sixty_two_days_are_allowed():
    assert timetable.days("2027-01-01", "2027-03-03", WEDNESDAY)[1] == date(2027, 3, 3)


def test_the_bounds_are_home_midnights():
    assert timetable.bounds(date(2027, 3, 1), date(2027, 3, 7)) == ("2027-03-01T00:00:00+08:00",
                                                                     "2027-03-08T00:00:00+08:00")


def test_one_list_by_start_in_home_time_with_only_the_members_live_bookings():
    rooms = {"r1": {"name": "Classroom 3", "site_name": "Palace"}}
    sessions = [{"id": "s1", "course_id": "c1", "title": "Calligraphy", "starts_at": "2027-03-03T11:00:00+00:00",
                 "ends_at": "2027-03-03T13:00:00+00:00", "room_id": "r1"}]
    booking = {"id": "b1", "title": "Choir", "starts_at": "2027-03-02T10:00:00+00:00",
               "ends_at": "2027-03-02T12:00:00+00:00", "room_id": "r1", "member_id": "m1", "status": "confirmed"}
    bookings = [booking, {**booking, "id": "b2", "status": "cancelled"}, {**booking, "id": "b3", "member_id": "m2"}]
    appointments = [{"id": "a1", "application_id": "x1", "room_id": "r9", "starts_at": "2027-03-04T01:00:00+00:00",
                     "ends_at": "2027-03-04T01:50:00+00:00"}]
    items = timetable.merged(sessions, bookings, appointments, rooms, "m1")
    assert [(i["kind"], i["id"]) for i in items] == [("booking", "b1"), ("class", "s1"), ("counselling", "a1")]
    assert items[1]["starts_at"] == "2027-03-03T19:00:00+08:00" and items[1]["site_name"] == "Palace"
    assert items[2]["room_name"] is None and items[2]["application_id"] == "x1"
