"""The session times of a course's schedule, the holder of its room series in venues, and another
room for a session that lost its own, a swap of room series undone (workflows.py): plain
functions, no service around them."""
from contextlib import contextmanager
from datetime import date, datetime, time, timezone

import pytest
from nameko.exceptions import RpcTimeout

from services.common.errors import Conflict, Invalid
from services.enrolment.workflows import RoomBookings, check_changes, free_room, restore, series_holder, session_times

TERM = {"starts_on": date(2030, 3, 4), "ends_on": date(2030, 3, 17), "holidays": [date(2030, 3, 11)]}
WEEKLY = {"weekdays": [1], "start_time": time(19, 0), "duration_minutes": 90}


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_explicit_dates_are_the_sessions_as_given():
    dates = {"dates": [{"starts_at": utc(2030, 3, 4, 11), "ends_at": utc(2030, 3, 4, 13)}]}
    assert session_times(dates, None) == [(utc(2030, 3, 4, 11), utc(2030, 3, 4, 13))]
    assert session_times(None, TERM) == []


def test_a_weekly_pattern_runs_over_the_term_and_skips_its_holidays():
    assert session_times({"weekly": WEEKLY}, TERM) == [(utc(2030, 3, 4, 11), utc(2030, 3, 4, 12, 30))]


class Venues:
    """venues' list_calendar: National Day 2030 (1 to 7 October) and Saturday 12 October worked as a Monday."""

    def __init__(self, down=False):
        self.down, self.asked = down, []

    def list_calendar(self, year):
        self.asked.append(year)
        if self.down:
            raise RpcTimeout()
        return [{"day": f"2030-10-0{d}", "kind": "holiday", "name": "国庆节", "as_weekday": None} for d in range(1, 8)] + [
            {"day": "2030-10-12", "kind": "workday", "name": "国庆节调休", "as_weekday": 1}]


def test_a_weekly_pattern_follows_venues_calendar_make_up_saturday_in_holiday_out():
    autumn = {**WEEKLY, "starts_on": date(2030, 9, 30), "ends_on": date(2030, 10, 18)}
    venues = Venues()
    starts = [b.date() for b, _ in session_times({"weekly": autumn}, None, venues)]
    assert starts == [date(2030, 9, 30), date(2030, 10, 12), date(2030, 10, 14)]  # not Monday 7 October
    assert venues.asked == [2030]
    with pytest.raises(Conflict) as down:
        session_times({"weekly": autumn}, None, Venues(down=True))
    assert down.value.problem == "venues-unavailable"


def test_a_weekly_pattern_needs_a_term_or_its_own_dates_in_order():
    with pytest.raises(Invalid) as no_term:
        session_times({"weekly": WEEKLY}, None)
    assert "schedule" in no_term.value.errors
    backwards = {**WEEKLY, "starts_on": date(2030, 3, 17), "ends_on": date(2030, 3, 4)}
    with pytest.raises(Invalid):
        session_times({"weekly": backwards}, None)


def test_each_new_room_series_of_a_course_has_its_own_holder():
    assert series_holder("c1") == {"service": "enrolment", "reference": "c1"}
    assert series_holder("c1", 2) == {"service": "enrolment", "reference": "c1/2"}


class Site:
    """A venues whose site has `free` rooms at the session's time, `taken` ones refusing a booking."""
    def __init__(self, free, taken=()):
        self.free, self.taken, self.asked = free, set(taken), []

    def availability(self, query):
        return [{"id": room, "name": room} for room in self.free]

    def reserve_series(self, holder, room_id, occurrences, title):
        self.asked.append(room_id)
        if room_id in self.taken:
            raise Conflict("the room is taken", "booking-conflict")
        return {"bookings": [{"id": f"booking-in-{room_id}"}]}


SESSION = {"starts_at": utc(2031, 5, 5, 11), "ends_at": utc(2031, 5, 5, 13)}
COURSE = {"id": "c1", "title": "Ballet", "confirmed_count": 3}


def test_a_lost_room_is_replaced_by_the_first_free_room_of_the_site_that_takes_the_booking():
    venues, rooms = Site(["A", "B", "C"], taken={"B"}), RoomBookings(None, None)
    room, booking, holder = free_room(venues, COURSE, SESSION, {"site_id": "s", "room_id": "A"}, rooms)
    assert room["id"] == "C" and booking == "booking-in-C" and venues.asked == ["B", "C"]
    assert rooms.reserved == [holder] and holder["reference"].startswith("c1/session/")


def test_no_free_room_or_no_site_books_nothing():
    rooms = RoomBookings(None, None)
    assert free_room(Site(["A"]), COURSE, SESSION, {"site_id": "s", "room_id": "A"}, rooms) is None
    assert free_room(Site(["B"]), COURSE, SESSION, {"room_id": "A"}, rooms) is None and rooms.reserved == []


class Ledger:
    """A database that records the statements of its transactions."""
    def __init__(self):
        self.statements = []

    @contextmanager
    def transaction(self):
        yield self

    def execute(self, sql, args=()):
        self.statements.append((sql.split()[0], args))


class Swapped:
    def __init__(self):
        self.reserved, self.released = [], []

    def reserve_series(self, holder, room_id, occurrences, title, replaces):
        self.reserved.append((holder, room_id, replaces))
        return {"bookings": [{"id": "b-old", "starts_at": "2031-05-05T11:00:00+00:00"}]}

    def release_series(self, holder):
        self.released.append(holder)


def test_a_swap_undone_books_the_old_series_back_in_place_of_the_new_and_the_sessions_know_it():
    venues, db = Swapped(), Ledger()
    restore(venues, db, {"course_id": "c1", "holder": "new", "old": ["old"], "room_id": "A", "sessions": [SESSION],
                         "title": "Ballet"})
    assert venues.reserved == [("old", "A", ["new"])] and venues.released == []
    assert db.statements == [("UPDATE", ("b-old", "c1", "2031-05-05T11:00:00+00:00"))]


def test_a_swap_from_no_room_undone_only_releases_the_new_series():
    venues, db = Swapped(), Ledger()
    restore(venues, db, {"course_id": "c1", "holder": "new", "old": [], "room_id": None, "sessions": [SESSION],
                         "title": "Ballet"})
    assert venues.released == ["new"] and venues.reserved == [] and db.statements == []


def test_a_change_keeps_the_window_the_ages_and_the_seats_already_taken():
    course = {"opens_at": utc(2030, 3, 1), "closes_at": None, "min_age": 50, "max_age": None,
              "confirmed_count": 12}
    check_changes(course, {"capacity": 12, "max_age": 60, "closes_at": utc(2030, 3, 2)})
    with pytest.raises(Conflict) as below:
        check_changes(course, {"capacity": 11})
    assert below.value.problem == "capacity-below-taken" and below.value.errors == {"capacity": ["at least 12"]}
    with pytest.raises(Invalid) as window:
        check_changes(course, {"closes_at": utc(2030, 3, 1)})
    assert "closes_at" in window.value.errors
    with pytest.raises(Invalid) as ages:
        check_changes({**course, "max_age": 70}, {"min_age": 71})
    assert "max_age" in ages.value.errors
