"""Weekly timetables on China's working calendar, one rule for room series (venues) and class
timetables (enrolment): python-dateutil's rrule names the dates, then the 调休 overlay adds each
make-up working day that keeps one of the timetable's weekdays (a Saturday worked "as Friday" gets
Friday's class) and says which dates are public holidays. Pure: no I/O, dates only."""
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice

from dateutil.rrule import MO, WEEKLY, rrule

HOLIDAY, WORKDAY = "holiday", "workday"


@dataclass(frozen=True)
class Day:
    """A special day of the calendar: a public holiday, or a make-up working day (调休)."""
    day: date
    kind: str                  # "holiday" | "workday"
    name: str
    as_weekday: int | None = None   # a make-up working day keeps this weekday's timetable (1 = Monday)


class TooMany(ValueError):
    """The timetable names more than `limit` dates."""

    def __init__(self, limit):
        super().__init__(f"more than {limit} dates")
        self.limit = limit


def weekly_dates(first: date, weekdays, *, until: date | None = None, count: int | None = None,
                 every_weeks: int = 1, calendar: dict | None = None, makeup_days: bool = True,
                 limit: int) -> list[date]:
    """The dates of a weekly timetable from `first`, in order: `weekdays` (ISO, 1 = Monday; empty:
    `first`'s own) every `every_weeks` weeks (weeks start on Monday, `first`'s week is the first),
    until a date or for `count` dates (as an iCalendar COUNT: the dates the rule names), then the
    make-up working days of `calendar` up to the last of them, in a week of the timetable, added.
    Public holidays are still in the list: `holiday` says which, and each caller decides."""
    days = sorted(set(weekdays or (first.isoweekday(),)))
    named = rrule(WEEKLY, dtstart=datetime.combine(first, time()), interval=every_weeks, wkst=MO,
                  byweekday=[d - 1 for d in days], count=count,
                  until=None if until is None else datetime.combine(until, time()))
    dates = [moment.date() for moment in islice(named, limit + 1)]
    if len(dates) > limit:
        raise TooMany(limit)
    last = dates[-1] if dates else first
    week0 = first.toordinal() - first.weekday()
    if makeup_days:
        for special in (calendar or {}).values():
            if (special.kind == WORKDAY and special.as_weekday in days and first <= special.day <= last
                    and ((special.day.toordinal() - week0) // 7) % every_weeks == 0 and special.day not in dates):
                dates.append(special.day)
    if len(dates) > limit:
        raise TooMany(limit)
    return sorted(dates)


def holiday(calendar: dict | None, day: date) -> Day | None:
    """The public holiday `day` is, or None."""
    special = (calendar or {}).get(day)
    return special if special is not None and special.kind == HOLIDAY else None
