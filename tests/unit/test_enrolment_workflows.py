"""The session times of a course's schedule (workflows.session_times) and the holder of its room
series in venues (workflows.series_holder): plain functions, no service around them."""
from datetime import date, datetime, time, timezone

import pytest

from services.common.errors import Invalid
from services.enrolment.workflows import series_holder, session_times

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
