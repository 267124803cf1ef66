"""Venue rules alone: recurrence on Shanghai wall-clock time with the 2026 holidays and make-up
working days (调休), exceptions, limits, opening hours, quotas, states, check-in windows."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.venues import domain, holidays, ical
from services.venues.domain import Occurrence, Rule, RuleError

SH = ZoneInfo("Asia/Shanghai")
YEAR_2026 = {d.day: d for d in holidays.read(holidays.DIRECTORY / "2026.json")[2]}


def sh(*args):
    return datetime(*args, tzinfo=SH)


def test_the_shipped_2026_file_names_the_spring_festival_and_its_make_up_saturdays():
    assert YEAR_2026[date(2026, 2, 17)].kind == "holiday" and "春节" in YEAR_2026[date(2026, 2, 17)].name
    assert YEAR_2026[date(2026, 2, 14)] == domain.Day(date(2026, 2, 14), "workday", YEAR_2026[date(2026, 2, 14)].name, 5)
    assert YEAR_2026[date(2026, 10, 10)].as_weekday == 3
    years = [year for year, _, _ in holidays.shipped()]
    assert years == [2026, 2027]


def test_a_calendar_file_that_names_a_day_twice_is_refused():
    with pytest.raises(holidays.CalendarFileError):
        holidays.parse({"year": 2026, "holidays": [{"from": "2026-05-01", "to": "2026-05-03", "name": "a"}],
                        "workdays": [{"date": "2026-05-02", "as_weekday": 1, "name": "b"}]})
    with pytest.raises(holidays.CalendarFileError):
        holidays.parse({"year": 2026, "holidays": [{"from": "2027-05-01", "name": "a"}]})


def test_a_weekly_evening_class_is_computed_on_shanghai_wall_clock_time():
    # 19:00 in Shanghai is 11:00 UTC, every week, whatever zone the request came in
    start = sh(2026, 3, 3, 19).astimezone(timezone.utc)
    got = domain.expand(start, start + timedelta(hours=2), Rule(count=4), {})
    assert [o.starts_at.astimezone(SH).strftime("%m-%d %H:%M %a") for o in got] == [
        "03-03 19:00 Tue", "03-10 19:00 Tue", "03-17 19:00 Tue", "03-24 19:00 Tue"]
    assert all(o.starts_at.utcoffset() == timedelta(hours=8) for o in got)


def test_holidays_are_left_out_with_their_name_and_make_up_days_added():
    # Fridays 19:00 from 23 Jan to 6 Mar 2026: 20 Feb falls in the Spring Festival; Saturday 14 Feb
    # is worked with Friday's timetable, so the class meets then
    start = sh(2026, 1, 23, 19)
    got = domain.expand(start, start + timedelta(hours=2), Rule(until=date(2026, 3, 6)), YEAR_2026)
    days = {o.starts_at.date(): o.skipped for o in got}
    assert days[date(2026, 2, 20)].startswith("public holiday: 春节")
    assert date(2026, 2, 14) in days and days[date(2026, 2, 14)] is None
    assert days[date(2026, 2, 13)] is None and len(days) == 8


def test_make_up_days_and_holidays_can_be_ignored():
    start = sh(2026, 1, 23, 19)
    rule = Rule(until=date(2026, 3, 6), on_holidays="keep", makeup_days=False)
    got = domain.expand(start, start + timedelta(hours=2), rule, YEAR_2026)
    assert [o.skipped for o in got] == [None] * 7 and date(2026, 2, 14) not in {o.starts_at.date() for o in got}


def test_october_make_up_days_keep_the_weekday_they_stand_for():
    start = sh(2026, 9, 15, 19)  # Tuesdays and Wednesdays
    got = domain.expand(start, start + timedelta(hours=1), Rule(weekdays=(2, 3), until=date(2026, 10, 14)), YEAR_2026)
    held = [o.starts_at.date() for o in got if o.skipped is None]
    assert date(2026, 9, 20) in held          # Sunday, worked as a Tuesday
    assert date(2026, 10, 10) in held         # Saturday, worked as a Wednesday
    assert date(2026, 10, 6) not in held and date(2026, 10, 7) not in held


def test_every_other_week_on_two_weekdays_until_a_date():
    start = sh(2026, 3, 2, 18, 30)  # a Monday
    got = domain.expand(start, start + timedelta(hours=1), Rule(every_weeks=2, weekdays=(1, 4), until=date(2026, 3, 31)), {})
    assert [o.starts_at.day for o in got] == [2, 5, 16, 19, 30]


def test_exceptions_leave_out_dates_and_overlapping_ones_are_refused():
    start = sh(2026, 3, 3, 19)
    rule = Rule(count=5, exceptions=[(date(2026, 3, 10), date(2026, 3, 12), "exam week")])
    got = domain.expand(start, start + timedelta(hours=2), rule, {})
    assert [o.skipped for o in got] == [None, "exception: exam week", None, None, None]
    with pytest.raises(RuleError) as bad:
        domain.expand(start, start + timedelta(hours=2), Rule(count=5, exceptions=[
            (date(2026, 3, 10), date(2026, 3, 20), "a"), (date(2026, 3, 15), date(2026, 3, 25), "b")]), {})
    assert "overlaps exception 0" in str(bad.value.errors)


def test_bad_series_are_refused_with_the_reason():
    start = sh(2026, 3, 3, 19)
    with pytest.raises(RuleError, match="at most"):
        domain.expand(start, start + timedelta(hours=1), Rule(count=10_000), {})
    with pytest.raises(RuleError, match="at most"):
        domain.expand(start, start + timedelta(hours=1), Rule(weekdays=(1, 2, 3, 4, 5, 6, 7), until=date(2027, 3, 3)), {})
    with pytest.raises(RuleError, match="ends before it starts"):
        domain.expand(start, start - timedelta(hours=1), Rule(count=2), {})
    with pytest.raises(RuleError, match="series ends before"):
        domain.expand(start, start + timedelta(hours=1), Rule(until=date(2026, 3, 1)), {})


def test_opening_hours_are_wall_clock_and_a_make_up_day_opens_as_its_weekday():
    hours = {"tue": ["08:00", "22:00"], "fri": ["08:00", "21:00"]}
    assert domain.opening_problem(hours, sh(2026, 3, 3, 19), sh(2026, 3, 3, 21)) is None
    assert "open 08:00-22:00" in domain.opening_problem(hours, sh(2026, 3, 3, 21), sh(2026, 3, 3, 23))
    assert "closed on sat" in domain.opening_problem(hours, sh(2026, 3, 7, 19), sh(2026, 3, 7, 20))
    assert domain.opening_problem(hours, sh(2026, 2, 14, 19), sh(2026, 2, 14, 20), YEAR_2026) is None
    assert domain.opening_problem(None, sh(2026, 3, 7, 3), sh(2026, 3, 7, 4)) is None


def test_advance_limits():
    now = sh(2026, 3, 1, 12)
    assert domain.advance_problem(now, now - timedelta(minutes=1), None, None) == "the booking starts in the past"
    assert "14 days ahead" in domain.advance_problem(now, now + timedelta(days=15), 14, None)
    assert "60 minutes ahead" in domain.advance_problem(now, now + timedelta(minutes=30), None, 60)
    assert domain.advance_problem(now, now + timedelta(days=3), 14, 60) is None


def test_weekly_quotas_count_hours_and_bookings_per_shanghai_week():
    week = date(2026, 3, 2)
    new = [Occurrence(sh(2026, 3, 3, 19), sh(2026, 3, 3, 21)), Occurrence(sh(2026, 3, 5, 19), sh(2026, 3, 5, 21)),
           Occurrence(sh(2026, 3, 10, 19), sh(2026, 3, 10, 21))]
    assert domain.quota_problem({week: (1.0, 1)}, new, 4, None) == {sh(2026, 3, 5, 19): "quota: at most 4 hours a week in this room"}
    assert list(domain.quota_problem({}, new, None, 1)) == [sh(2026, 3, 5, 19)]
    # Monday 00:30 in Shanghai is still Sunday in UTC, but it is the new week here
    assert domain.week_of(sh(2026, 3, 9, 0, 30)) == date(2026, 3, 9)


def test_booking_states():
    assert domain.initial_status(True, by_manager=False, by_service=False) == "pending"
    assert domain.initial_status(True, by_manager=True, by_service=False) == "confirmed"
    assert domain.initial_status(False, by_manager=False, by_service=False) == "confirmed"
    assert domain.transition("approve", "pending") == "confirmed"
    assert domain.transition("cancel", "pending") == "cancelled"
    with pytest.raises(RuleError):
        domain.transition("approve", "confirmed")
    with pytest.raises(RuleError):
        domain.transition("checkin", "cancelled")


def test_the_check_in_window():
    start = sh(2026, 3, 3, 19)
    assert domain.checkin_problem(start - timedelta(minutes=20), start, start + timedelta(hours=2), 15)
    assert domain.checkin_problem(start + timedelta(minutes=10), start, start + timedelta(hours=2), 15) is None
    assert "closed" in domain.checkin_problem(start + timedelta(minutes=16), start, start + timedelta(hours=2), 15)
    # a room that opens check-in an hour ahead
    assert domain.checkin_problem(start - timedelta(minutes=50), start, start + timedelta(hours=2), 15, 60) is None
    assert "60 minutes before" in domain.checkin_problem(start - timedelta(minutes=61), start, start, 15, 60)


def test_a_holder_names_a_service_and_a_reference():
    assert domain.holder_key({"service": "enrolment", "reference": "c-1"}) == ("enrolment", "c-1")
    for bad in (None, {}, {"service": "enrolment"}, {"service": "", "reference": "x"}, "enrolment"):
        with pytest.raises(RuleError):
            domain.holder_key(bad)


def test_the_ical_feed_lists_each_booking_in_utc_with_a_stable_uid():
    booking = {"id": "b1", "title": "Choir 合唱团", "starts_at": sh(2026, 3, 3, 19), "ends_at": sh(2026, 3, 3, 21),
               "room_name": "Hall", "site_name": "Palace", "status": "pending"}
    text = ical.feed("Hall", [booking])
    assert "UID:b1@venues.palace" in text and "DTSTART:20260303T110000Z" in text
    assert "STATUS:TENTATIVE" in text and "SUMMARY:Choir 合唱团" in text


def test_a_public_room_feed_names_a_members_booking_only_by_its_club():
    mine = {"id": "b2", "title": "Talk with my lawyer", "starts_at": sh(2026, 3, 3, 19), "ends_at": sh(2026, 3, 3, 20),
            "room_name": "Room 2", "site_name": "Palace", "status": "confirmed", "holder_service": "members",
            "club": None}
    club = {**mine, "id": "b3", "title": "Choir", "club": "Choir 合唱团"}
    course = {**mine, "id": "b4", "title": "Tea art", "holder_service": "enrolment"}
    text = ical.feed("Room 2", [mine, club, course], public=True)
    assert "lawyer" not in text and "SUMMARY:Booked\r\n" in text
    assert "SUMMARY:Booked: Choir 合唱团" in text and "SUMMARY:Tea art" in text


def test_a_public_room_feed_shows_a_welfare_case_only_as_booked():
    session = {"id": "b5", "title": "Counselling WA-2026-000123", "starts_at": sh(2026, 3, 3, 19),
               "ends_at": sh(2026, 3, 3, 20), "room_name": "Quiet room", "site_name": "Palace",
               "status": "confirmed", "holder_service": "welfare", "club": None}
    text = ical.feed("Quiet room", [session, {**session, "id": "b6", "holder_service": "someone-new"}], public=True)
    assert "WA-" not in text and "Counselling" not in text and text.count("SUMMARY:Booked\r\n") == 2
    assert "SUMMARY:Counselling WA-2026-000123" in ical.feed("Mine", [session]), "the holder's own feed names it"
