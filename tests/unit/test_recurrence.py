"""One weekly timetable on China's working calendar for room series and classes
(services/common/recurrence.py): a make-up working day (调休) keeping a timetable weekday gets the
class, a public holiday does not; venues' series and enrolment's classes agree date for date."""
from datetime import date, datetime, time, timedelta

import pytest

from services.common.recurrence import Day, TooMany, holiday, weekly_dates
from services.common.zone import HOME_ZONE
from services.enrolment import domain as enrolment
from services.venues import domain as venues
from services.venues.holidays import DIRECTORY, read

# National Day 2026: 1 to 7 October off; Saturday 10 October worked with Wednesday's timetable
NATIONAL_DAY = {d: Day(d, "holiday", "国庆节") for d in (date(2026, 10, 1) + timedelta(days=i) for i in range(7))}
NATIONAL_DAY[date(2026, 10, 10)] = Day(date(2026, 10, 10), "workday", "国庆节调休", as_weekday=3)
WEDNESDAY = 3


def test_a_make_up_saturday_is_in_a_wednesday_timetable_and_a_holiday_is_named():
    dates = weekly_dates(date(2026, 9, 28), [WEDNESDAY], until=date(2026, 10, 16), calendar=NATIONAL_DAY, limit=50)
    assert dates == [date(2026, 9, 30), date(2026, 10, 7), date(2026, 10, 10), date(2026, 10, 14)]
    assert holiday(NATIONAL_DAY, date(2026, 10, 7)).name == "国庆节"
    assert holiday(NATIONAL_DAY, date(2026, 10, 10)) is None  # a working day, not a holiday


def test_a_make_up_day_of_another_weekday_or_outside_the_timetable_adds_nothing():
    assert date(2026, 10, 10) not in weekly_dates(date(2026, 9, 28), [1], until=date(2026, 10, 16),
                                                  calendar=NATIONAL_DAY, limit=50)
    assert date(2026, 10, 10) not in weekly_dates(date(2026, 9, 28), [WEDNESDAY], until=date(2026, 10, 9),
                                                  calendar=NATIONAL_DAY, limit=50)
    assert date(2026, 10, 10) not in weekly_dates(date(2026, 9, 28), [WEDNESDAY], until=date(2026, 10, 16),
                                                  calendar=NATIONAL_DAY, makeup_days=False, limit=50)


def test_every_other_week_counts_weeks_from_the_first_and_keeps_make_up_days_of_its_weeks():
    # weeks from Monday 28 September: 0 (30 Sep), 2 (14 Oct); the make-up Saturday is in week 1
    dates = weekly_dates(date(2026, 9, 28), [WEDNESDAY], until=date(2026, 10, 16), every_weeks=2,
                         calendar=NATIONAL_DAY, limit=50)
    assert dates == [date(2026, 9, 30), date(2026, 10, 14)]


def test_count_counts_the_dates_the_rule_names_and_the_bound_is_kept():
    assert weekly_dates(date(2026, 9, 30), [], count=3, limit=50) == [
        date(2026, 9, 30), date(2026, 10, 7), date(2026, 10, 14)]
    with pytest.raises(TooMany):
        weekly_dates(date(2026, 1, 5), [1, 2, 3], until=date(2026, 12, 31), limit=100)


def test_a_class_is_held_on_the_make_up_saturday_and_not_on_the_holiday():
    times = enrolment.weekly_sessions(date(2026, 9, 28), date(2026, 10, 16), [], [WEDNESDAY], time(19), 90,
                                      calendar=NATIONAL_DAY)
    starts = [begin.astimezone(HOME_ZONE) for begin, _ in times]
    assert [s.date() for s in starts] == [date(2026, 9, 30), date(2026, 10, 10), date(2026, 10, 14)]
    assert all(s.hour == 19 for s in starts)


def test_without_a_calendar_a_class_skips_only_its_terms_own_holidays():
    times = enrolment.weekly_sessions(date(2026, 9, 28), date(2026, 10, 16), [date(2026, 9, 30)], [WEDNESDAY],
                                      time(19), 90)
    assert [b.astimezone(HOME_ZONE).date() for b, _ in times] == [date(2026, 10, 7), date(2026, 10, 14)]


def test_room_series_and_classes_agree_on_the_shipped_2026_calendar():
    _, _, days = read(DIRECTORY / "2026.json")
    calendar = {d.day: d for d in days}
    for weekdays in ([1], [2], [3], [5], [2, 4]):
        start = datetime(2026, 1, 1, 19, tzinfo=HOME_ZONE)
        series = venues.expand(start, start + timedelta(minutes=90),
                               venues.Rule(weekdays=tuple(weekdays), until=date(2026, 12, 31)), calendar)
        held = [o.starts_at for o in series if o.skipped is None]
        classes = enrolment.weekly_sessions(date(2026, 1, 1), date(2026, 12, 31), [], weekdays, time(19), 90,
                                            calendar=calendar)
        assert held == [begin.astimezone(HOME_ZONE) for begin, _ in classes], weekdays
    fridays = enrolment.weekly_sessions(date(2026, 1, 1), date(2026, 2, 28), [], [5], time(19), 90, calendar=calendar)
    held = {b.astimezone(HOME_ZONE).date() for b, _ in fridays}
    assert {date(2026, 1, 4), date(2026, 2, 14)} <= held  # the Sunday and Saturday worked as Fridays
    assert date(2026, 1, 2) not in held and date(2026, 2, 20) not in held  # New Year and Spring Festival
