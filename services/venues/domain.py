"""Venue rules, free of I/O: recurrence in Asia/Shanghai with holidays and make-up working days,
opening hours, advance limits, quotas, booking states, check-in windows."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from services.common.recurrence import Day, TooMany, holiday, weekly_dates
from services.common.zone import HOME_ZONE

MAX_OCCURRENCES = 200          # a series longer than this is refused (four years of a weekly class)
MAX_DURATION = timedelta(hours=24)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

PENDING, CONFIRMED, CHECKED_IN, REJECTED, CANCELLED, RELEASED = (
    "pending", "confirmed", "checked_in", "rejected", "cancelled", "released")
LIVE = (PENDING, CONFIRMED, CHECKED_IN)
STRIKES_LIMIT = 3              # no-shows within STRIKES_WINDOW that stop a holder from booking (a room's default)
STRIKES_WINDOW = timedelta(days=90)
CHECKIN_OPENS_MINUTES = 15     # check-in opens this long before the start (a room's default)
# A new room's limits when the manager names none (issue 18: a room with no limits let one member hold
# it every evening for years). A month ahead is how far the palace publishes its own programme and a
# member plans a rehearsal; three bookings a week leave a busy room to more than one choir or team.
# A manager sets either to null for a room that is truly open (a member may not).
ADVANCE_DAYS = 30
BOOKINGS_PER_WEEK = 3


class RuleError(ValueError):
    """Bad input: `errors` maps each field to its reasons."""

    def __init__(self, detail, errors):
        super().__init__(detail)
        self.detail, self.errors = detail, errors


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime
    ends_at: datetime
    skipped: str | None = None     # why the rule leaves this date out (holiday, exception)


@dataclass
class Rule:
    """Weekly (or every N weeks) on some weekdays, until a date or N times, with exceptions."""
    every_weeks: int = 1
    weekdays: tuple = ()           # 1 = Monday ... 7 = Sunday; empty: the first occurrence's weekday
    until: date | None = None
    count: int | None = None
    exceptions: list = field(default_factory=list)   # [(from_date, to_date, reason)]
    on_holidays: str = "skip"      # "skip": a holiday has no occurrence; "keep": it has
    makeup_days: bool = True       # a make-up working day with a series weekday's timetable gets one


def check_exceptions(exceptions):
    """(from, to, reason) ranges: each in order, none overlapping another."""
    errors = {}
    ordered = sorted(enumerate(exceptions), key=lambda e: e[1][0])
    for i, (start, end, _) in enumerate(exceptions):
        if end < start:
            errors.setdefault(str(i), []).append("'to' is before 'from'")
    for (i, a), (j, b) in zip(ordered, ordered[1:]):
        if b[0] <= a[1]:
            errors.setdefault(str(max(i, j)), []).append(
                f"overlaps exception {min(i, j)} ({a[0].isoformat()} to {a[1].isoformat()})")
    if errors:
        raise RuleError("the exceptions overlap or are reversed", {"recurrence": {"exceptions": errors}})


def local(moment: datetime) -> datetime:
    return moment.astimezone(HOME_ZONE)


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=HOME_ZONE)


def check_span(starts_at: datetime, ends_at: datetime):
    if ends_at <= starts_at:
        raise RuleError("the booking ends before it starts", {"ends_at": ["must be after starts_at"]})
    if ends_at - starts_at > MAX_DURATION:
        raise RuleError("a booking lasts at most 24 hours", {"ends_at": ["must be at most 24 hours after starts_at"]})


def expand(starts_at: datetime, ends_at: datetime, rule: Rule, calendar: dict[date, Day],
           limit: int = MAX_OCCURRENCES) -> list[Occurrence]:
    """The occurrences of a series, computed on Asia/Shanghai wall-clock time.

    `count` counts the dates the rule names (as an iCalendar COUNT does); holidays and exceptions
    are then left out (reported with their reason) and make-up working days added."""
    check_span(starts_at, ends_at)
    if rule.until is None and rule.count is None:
        raise RuleError("a series needs an end", {"recurrence": ["give 'until' or 'count'"]})
    if rule.count is not None and rule.count > limit:
        raise RuleError(f"a series has at most {limit} occurrences",
                        {"recurrence": {"count": [f"must be at most {limit}"]}})
    first = local(starts_at)
    if rule.until is not None and rule.until < first.date():
        raise RuleError("the series ends before it starts", {"recurrence": {"until": ["must not be before starts_at"]}})
    check_exceptions(rule.exceptions)
    duration = ends_at - starts_at
    clock = first.timetz().replace(tzinfo=None)
    try:
        dates = weekly_dates(first.date(), rule.weekdays, until=rule.until, count=rule.count,
                             every_weeks=rule.every_weeks, calendar=calendar, makeup_days=rule.makeup_days,
                             limit=limit)
    except TooMany:
        raise RuleError(f"a series has at most {limit} occurrences",
                        {"recurrence": [f"names more than {limit} occurrences; shorten it"]}) from None

    occurrences = []
    for d in dates:
        start = at(d, clock)
        skipped = None
        special = holiday(calendar, d)
        if special is not None and rule.on_holidays == "skip":
            skipped = f"public holiday: {special.name}"
        for ex_from, ex_to, reason in rule.exceptions:
            if ex_from <= d <= ex_to:
                skipped = f"exception: {reason}" if reason else "exception"
        occurrences.append(Occurrence(start, start + duration, skipped))
    return occurrences


def opening_problem(opening_hours: dict | None, starts_at: datetime, ends_at: datetime,
                    calendar: dict[date, Day] | None = None):
    """Why the room is not open for this whole booking, or None. Opening hours are wall-clock
    Asia/Shanghai times per weekday; a make-up working day opens as the weekday it stands for."""
    if opening_hours is None:
        return None
    start, end = local(starts_at), local(ends_at)
    special = (calendar or {}).get(start.date())
    weekday = special.as_weekday if special is not None and special.kind == "workday" else start.isoweekday()
    hours = opening_hours.get(WEEKDAYS[weekday - 1])
    if not hours:
        return f"the room is closed on {WEEKDAYS[weekday - 1]}"
    opens, closes = (time.fromisoformat(h) for h in hours)
    day_opens = at(start.date(), opens)
    day_closes = at(start.date(), closes) if closes > opens else at(start.date() + timedelta(days=1), closes)
    if start < day_opens or end > day_closes:
        return f"the room is open {hours[0]}-{hours[1]} on {WEEKDAYS[weekday - 1]}"
    return None


def check_opening_hours(hours: dict):
    errors = {}
    for key, value in hours.items():
        if key not in WEEKDAYS:
            errors[key] = [f"must be one of {', '.join(WEEKDAYS)}"]
            continue
        if value is None:
            continue
        try:
            opens, closes = (time.fromisoformat(v) for v in value)
        except (TypeError, ValueError):
            errors[key] = ["must be [\"HH:MM\", \"HH:MM\"]"]
            continue
        if opens == closes:
            errors[key] = ["opening and closing times must differ"]
    if errors:
        raise RuleError("bad opening hours", {"opening_hours": errors})


def advance_problem(now: datetime, starts_at: datetime, max_advance_days, min_notice_minutes):
    if starts_at < now:
        return "the booking starts in the past"
    if max_advance_days is not None and starts_at > now + timedelta(days=max_advance_days):
        return f"the room can be booked at most {max_advance_days} days ahead"
    if min_notice_minutes is not None and starts_at < now + timedelta(minutes=min_notice_minutes):
        return f"the room must be booked at least {min_notice_minutes} minutes ahead"
    return None


def week_of(moment: datetime) -> date:
    """Monday of the Asia/Shanghai week a moment falls in (quotas count per week)."""
    d = local(moment).date()
    return d - timedelta(days=d.weekday())


def quota_problem(used: dict, new: list[Occurrence], max_hours, max_bookings):
    """`used` maps a week's Monday to (hours, bookings) already held; `new` are the candidates.
    Returns {starts_at: reason} for each candidate that would break a weekly quota."""
    problems = {}
    hours = {w: h for w, (h, _) in used.items()}
    counts = {w: n for w, (_, n) in used.items()}
    for occ in new:
        w = week_of(occ.starts_at)
        h = hours.get(w, 0) + (occ.ends_at - occ.starts_at).total_seconds() / 3600
        n = counts.get(w, 0) + 1
        if max_bookings is not None and n > max_bookings:
            problems[occ.starts_at] = f"quota: at most {max_bookings} bookings a week in this room"
        elif max_hours is not None and h > float(max_hours):
            problems[occ.starts_at] = f"quota: at most {max_hours} hours a week in this room"
        else:
            hours[w], counts[w] = h, n
    return problems


def initial_status(requires_approval: bool, by_manager: bool, by_service: bool) -> str:
    """A room that needs approval holds the slot as pending until a venue manager decides."""
    if by_service or by_manager or not requires_approval:
        return CONFIRMED
    return PENDING


TRANSITIONS = {
    "approve": ({PENDING}, CONFIRMED),
    "reject": ({PENDING}, REJECTED),
    "cancel": ({PENDING, CONFIRMED}, CANCELLED),
    "checkin": ({CONFIRMED}, CHECKED_IN),
    "release": ({CONFIRMED}, RELEASED),
}
EVENT_FOR = {CONFIRMED: "booking_confirmed", PENDING: "booking_pending", REJECTED: "booking_rejected",
             CANCELLED: "booking_cancelled", RELEASED: "booking_released"}

# Why a booking ended, as the machine field `cause` of booking_cancelled and booking_released:
# consumers act on it (and notify words it) instead of reading the `reason` sentence, which is for
# people and may be a staff member's own words.
CANCELLED_BY_HOLDER = "cancelled_by_holder"  # the member (or club) that booked it
CANCELLED_BY_MANAGER = "cancelled_by_manager"
REPLACED = "replaced"  # its holder service booked a new series in its place (reserve_series replaces)
RELEASED_BY_HOLDER = "released_by_holder"  # its holder service gave it back (release_series)
ROOM_CLOSED = "room_closed"
NO_SHOW = "no_show"  # nobody checked in in time (booking_released)
CAUSES = (CANCELLED_BY_HOLDER, CANCELLED_BY_MANAGER, REPLACED, RELEASED_BY_HOLDER, ROOM_CLOSED, NO_SHOW)


def transition(action: str, status: str) -> str:
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise RuleError(f"a {status} booking cannot be {action}d".replace("checkind", "checked in"),
                        {"status": [f"is {status}"]})
    return target


def checkin_problem(now: datetime, starts_at: datetime, ends_at: datetime, window_minutes,
                    opens_minutes=CHECKIN_OPENS_MINUTES):
    """Check-in opens `opens_minutes` before the start and closes `window_minutes` after it."""
    if now < starts_at - timedelta(minutes=opens_minutes):
        return f"check-in opens {opens_minutes} minutes before the start"
    limit = starts_at + timedelta(minutes=window_minutes) if window_minutes else ends_at
    if now > limit:
        return "the check-in window has closed"
    return None


def holder_key(holder) -> tuple[str, str]:
    if not isinstance(holder, dict):
        raise RuleError("holder must be an object", {"holder": ["must be {service, reference}"]})
    service, reference = holder.get("service"), holder.get("reference")
    if not isinstance(service, str) or not service or not isinstance(reference, str) or not reference:
        raise RuleError("holder needs a service and a reference", {"holder": ["must be {service, reference}"]})
    if len(service) > 50 or len(reference) > 200 or "\x00" in service + reference:
        raise RuleError("holder is too long", {"holder": ["service ≤ 50 and reference ≤ 200 characters"]})
    return service, reference
