"""Courses laid out before the recurrence helper: what laying their weekly sessions to come out again
on the working calendar changes (services/enrolment/domain.regeneration), and what it leaves alone."""
from datetime import date, datetime, time, timedelta, timezone

from services.common.recurrence import Day
from services.common.zone import HOME_ZONE
from services.enrolment import domain

# a Tuesday class at 19:00 through March 2027; 2027-03-16 (a Tuesday) a public holiday, Saturday
# 2027-03-20 a make-up working day kept as a Tuesday
CALENDAR = {date(2027, 3, 16): Day(date(2027, 3, 16), "holiday", "假日"),
            date(2027, 3, 20): Day(date(2027, 3, 20), "workday", "调休", 2)}
TERM = {"starts_on": date(2027, 3, 1), "ends_on": date(2027, 3, 31), "holidays": []}
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=HOME_ZONE)  # after the 2nd and 9th's classes


def old_layout(term=TERM):
    """The sessions as the loop before the helper laid them out: every Tuesday, term holidays skipped."""
    times = domain.weekly_sessions(term["starts_on"], term["ends_on"], term["holidays"], [2], time(19), 90)
    return [{"starts_at": b, "ends_at": e, "state": "scheduled"} for b, e in times]


def at(day, hour=19):
    return datetime(2027, 3, day, hour, tzinfo=HOME_ZONE).astimezone(timezone.utc)


def test_the_sessions_to_come_gain_the_make_up_day_and_lose_the_holiday_and_the_past_is_no_part_of_it():
    change = domain.regeneration(old_layout(), TERM, CALENDAR, NOW)
    assert change["adds"] == [at(20)] and change["drops"] == [at(16)]
    assert change["schedule"] == {"weekly": {"weekdays": [2], "start_time": time(19), "duration_minutes": 90,
                                             "starts_on": date(2027, 3, 20), "ends_on": date(2027, 3, 30)}}
    laid = domain.weekly_sessions(date(2027, 3, 20), date(2027, 3, 30), [], [2], time(19), 90, calendar=CALENDAR)
    assert [b for b, _ in laid] == [at(20), at(23), at(30)], "the schedule lays out exactly the sessions wanted"


def test_a_timetable_already_on_the_calendar_changes_nothing_so_a_second_run_does_nothing():
    laid = domain.weekly_sessions(date(2027, 3, 1), date(2027, 3, 31), [], [2], time(19), 90, calendar=CALENDAR)
    sessions = [{"starts_at": b, "ends_at": e, "state": "scheduled"} for b, e in laid]
    assert domain.regeneration(sessions, TERM, CALENDAR, NOW) is None
    assert domain.regeneration(old_layout(), TERM, {}, NOW) is None, "no special day: nothing to change"


def test_a_holiday_already_past_changes_nothing():
    assert domain.regeneration(old_layout(), TERM, CALENDAR, datetime(2027, 3, 21, tzinfo=HOME_ZONE)) is None


def test_explicit_or_moved_or_cancelled_sessions_are_left_as_staff_made_them():
    moved = old_layout()
    moved[3] = {**moved[3], "starts_at": moved[3]["starts_at"] + timedelta(hours=1),
                "ends_at": moved[3]["ends_at"] + timedelta(hours=1)}
    assert domain.regeneration(moved, TERM, CALENDAR, NOW) is None
    cancelled = old_layout()
    cancelled[4] = {**cancelled[4], "state": "cancelled"}
    assert domain.regeneration(cancelled, TERM, CALENDAR, NOW) is None
    assert domain.regeneration(old_layout()[:1], TERM, CALENDAR, NOW) is None, "one session is no weekly timetable"


def test_the_courses_own_first_and_last_class_bound_it_not_its_terms_and_the_terms_holidays_stay_off():
    change = domain.regeneration(old_layout(), None, CALENDAR, NOW)
    assert change["adds"] == [at(20)] and change["drops"] == [at(16)]
    half = {**TERM, "ends_on": date(2027, 3, 23)}  # a course given the first half of the term
    assert domain.regeneration(old_layout(half), TERM, CALENDAR, NOW)["schedule"]["weekly"]["ends_on"] == \
        date(2027, 3, 23), "not stretched to the term's end"
    off = {**TERM, "holidays": [date(2027, 3, 23)]}
    change = domain.regeneration(old_layout(off), off, CALENDAR, NOW)
    assert change["adds"] == [at(20)] and at(23) not in change["adds"], "a day the term took off stays off"
