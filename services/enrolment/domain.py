"""Enrolment rules, free of I/O."""
import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from services.common.recurrence import WORKDAY, TooMany, holiday, weekly_dates
from services.common.zone import HOME_ZONE

CONFIRMED, WAITLISTED, OFFERED, REGISTERED, CANCELLED = (
    "confirmed", "waitlisted", "offered", "registered", "cancelled")
LIVE = (CONFIRMED, WAITLISTED, OFFERED, REGISTERED)
FIRST_COME, LOTTERY = "first_come", "lottery"
DRAFT, PUBLISHED, CANCELLED_COURSE = "draft", "published", "cancelled"

EVENING_FROM = time(18, 0)
MAX_SESSIONS = 400

# The public catalog, answered twice: by the gateway's event-fed read model (gateway/catalog.py)
# for anyone browsing with only these filters, and by store.list_courses for everything else. Both
# list the same courses in the same order (tests/integration/test_catalog_contract.py): no drafts;
# `q` looks in CATALOG_SEARCHES; `open_seats` means a published course with a seat left; newest
# course first (created_at, then id).
CATALOG_FILTERS = ("category", "site_id", "open_seats", "q")
CATALOG_SEARCHES = ("title", "description", "teacher", "category")


def runs_course(roles, caller_id, teacher_ids, readers=("admin",)):
    """Whether the caller sees and acts on a course's staff side (its roster, register, check-in
    codes, edits, lottery): one of the `readers` roles (admins), or a teacher the course names.
    A teacher of other courses does not: to them that side does not exist."""
    if set(roles) & set(readers):
        return True
    return "teacher" in roles and caller_id is not None and str(caller_id) in {str(t) for t in teacher_ids or ()}


def with_teacher(teacher_ids, creator):
    """A course's teachers when `creator` (a teacher) makes it: those named, and always the creator."""
    named = [str(t) for t in teacher_ids or ()]
    return list(dict.fromkeys([str(creator), *named]))


@dataclass(frozen=True)
class Seats:
    capacity: int
    confirmed: int  # seats taken: confirmed and offered entries

    @property
    def left(self):
        return max(self.capacity - self.confirmed, 0)


def allocate(seats: Seats, wanted: int = 1) -> str:
    """First come, first served: an entry whose seats are all free is confirmed, otherwise it
    waits in line. A group entry is one entry: all its seats or none."""
    return CONFIRMED if seats.left >= wanted else WAITLISTED


def enrolment_window_problem(now: datetime, opens_at: datetime, closes_at: datetime | None):
    """Why enrolment is refused at `now`, or None when the window is open."""
    if now < opens_at:
        return f"enrolment opens at {opens_at.isoformat()}"
    if closes_at is not None and now >= closes_at:
        return f"enrolment closed at {closes_at.isoformat()}"
    return None


def course_state_problem(state: str):
    """Why a course takes no enrolment in this state, or None."""
    if state == DRAFT:
        return "the course is not published yet"
    if state == CANCELLED_COURSE:
        return "the course is cancelled"
    return None


def entry_status(allocation: str, drawn: bool, seats: Seats, wanted: int = 1) -> str:
    """A lottery course registers interest until its draw; after it, and in a first-come
    course, a seat is confirmed while one is free."""
    if allocation == LOTTERY and not drawn:
        return REGISTERED
    return allocate(seats, wanted)


def group_problem(seats: int, group_limit: int):
    if seats < 1:
        return "must be at least 1"
    if seats > group_limit:
        return f"this course takes at most {group_limit} seat(s) per entry"
    return None


EVENT_FOR_STATUS = {CONFIRMED: "enrolment_confirmed", WAITLISTED: "enrolment_waitlisted",
                    REGISTERED: "lottery_interest_registered"}


# eligibility

def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def eligibility_problem(*, min_age, max_age, unit_ids, birth_date, unit_id, today):
    """Why a member may not take this course, or None. Age is checked on `today` (Shanghai)."""
    if unit_ids and (unit_id is None or str(unit_id) not in {str(u) for u in unit_ids}):
        return "this course is reserved for members of particular union branches"
    if min_age is not None or max_age is not None:
        if birth_date is None:
            return "this course has an age restriction: give birth_date"
        age = age_on(birth_date, today)
        if min_age is not None and age < min_age:
            return f"this course is for ages {min_age} and over"
        if max_age is not None and age > max_age:
            return f"this course is for ages {max_age} and under"
    return None


# cancellation, offers and the waitlist

def member_cancel_problem(status: str, now: datetime, cutoff: datetime | None):
    """A member may leave a waitlist, an offer or a lottery at any time, and give up a seat
    only before the course's cancel cut-off (staff are not bound by it)."""
    if status == CANCELLED:
        return "the enrolment is already cancelled"
    if status == CONFIRMED and cutoff is not None and now >= cutoff:
        return f"seats can be given up only before {cutoff.isoformat()}; ask the palace staff"
    return None


def default_cutoff(first_session_start: datetime | None):
    """Without a cut-off of its own, a course takes cancellations until its first session starts."""
    return first_session_start


def next_in_line(waitlist, free_seats: int):
    """Entries to move up, head first: `waitlist` is [(id, seats)] in line order. The line is
    never jumped: it stops at the first entry whose seats do not fit."""
    chosen = []
    for entry_id, seats in waitlist:
        if seats > free_seats:
            break
        chosen.append(entry_id)
        free_seats -= seats
    return chosen


def offer_expiry(now: datetime, offer_hours: int) -> datetime:
    return now + timedelta(hours=offer_hours)


# sessions

def weekly_sessions(starts_on: date, ends_on: date, holidays, weekdays, start: time, minutes: int, zone=HOME_ZONE,
                    calendar=None):
    """Every `weekdays` (ISO, 1 = Monday) from `starts_on` to `ends_on` at `start` local time for
    `minutes`, as a room series is laid out (services.common.recurrence): a make-up working day (调休)
    of `calendar` that keeps one of the weekdays has its class, a public holiday of `calendar` or one
    of the term's own `holidays` has none. [(starts_at, ends_at)] in UTC, in order."""
    if not weekdays:
        raise ValueError("give at least one weekday")
    if minutes <= 0:
        raise ValueError("duration must be positive")
    skip = set(holidays or ())
    try:  # a term of holidays names more dates than it keeps: the bound is on the sessions kept
        dates = weekly_dates(starts_on, weekdays, until=ends_on, calendar=calendar, limit=MAX_SESSIONS * 2)
    except TooMany:
        raise ValueError(f"more than {MAX_SESSIONS} sessions") from None
    out = []
    for day in dates:
        if day in skip or holiday(calendar, day):
            continue
        begin = datetime.combine(day, start, tzinfo=zone)
        out.append((begin.astimezone(timezone.utc), (begin + timedelta(minutes=minutes)).astimezone(timezone.utc)))
    if len(out) > MAX_SESSIONS:
        raise ValueError(f"more than {MAX_SESSIONS} sessions")
    return out


# timetables laid out before the working calendar: the recurrence helper lays them out again


def weekly_pattern(times, calendar=None, zone=HOME_ZONE):
    """The weekly timetable [(starts_at, ends_at)] follow: the same local start and length for every
    one, two at least. A session on a make-up working day of `calendar` is of the weekday that day
    keeps (a Saturday worked as Tuesday holds Tuesday's class). {weekdays, start_time,
    duration_minutes, first, last} or None."""
    if len(times) < 2:
        return None
    local = [(begin.astimezone(zone), end - begin) for begin, end in times]
    starts, lengths = {b.time() for b, _ in local}, {length for _, length in local}
    if len(starts) != 1 or len(lengths) != 1 or lengths.pop() % timedelta(minutes=1):
        return None
    days = sorted(b.date() for b, _ in local)
    kept = {day: special.as_weekday for day, special in (calendar or {}).items() if special.kind == WORKDAY}
    return {"weekdays": sorted({kept.get(day) or day.isoweekday() for day in days}), "start_time": starts.pop(),
            "duration_minutes": int((local[0][1]).total_seconds() // 60), "first": days[0], "last": days[-1]}


def regeneration(sessions, term, calendar, now, zone=HOME_ZONE):
    """What laying a course's weekly timetable out again on the working calendar changes in its
    sessions still to come: None when nothing, else {schedule: the weekly schedule from its first
    session to come (workflows.change_course lays it out and rebooks the room), adds, drops: the
    starts it gains (a make-up working day, 调休) and loses (a public holiday)}. Sessions begun or
    held are no part of it. A course that is not one weekly timetable (explicit dates, a session
    moved or cancelled alone) is left as staff made it: None. `sessions`: rows with starts_at,
    ends_at and state; `term`: its holidays, or None."""
    pattern = weekly_pattern([(s["starts_at"], s["ends_at"]) for s in sessions], calendar, zone)
    upcoming = [s for s in sessions if s["starts_at"] > now]
    if pattern is None or not upcoming or any(s["state"] != "scheduled" for s in upcoming):
        return None
    # its own first and last class bound it, not its term's: a course given half a term stays in its half
    starts_on, ends_on = pattern["first"], pattern["last"]
    laid_out = weekly_sessions(starts_on, ends_on, term["holidays"] if term else (), pattern["weekdays"],
                               pattern["start_time"], pattern["duration_minutes"], zone, calendar)
    wanted = [begin for begin, _ in laid_out if begin > now]
    have = [s["starts_at"] for s in upcoming]
    if not wanted or set(wanted) == set(have):
        return None
    weekly = {key: pattern[key] for key in ("weekdays", "start_time", "duration_minutes")}
    return {"schedule": {"weekly": {**weekly, "starts_on": wanted[0].astimezone(zone).date(), "ends_on": ends_on}},
            "adds": sorted(set(wanted) - set(have)), "drops": sorted(set(have) - set(wanted))}


def explicit_sessions_problem(sessions):
    """Why a list of (starts_at, ends_at) is not a timetable, or None."""
    if len(sessions) > MAX_SESSIONS:
        return f"at most {MAX_SESSIONS} sessions"
    ordered = sorted(sessions)
    for begin, end in ordered:
        if end <= begin:
            return f"the session at {begin.isoformat()} must end after it starts"
    for first, second in zip(ordered, ordered[1:]):
        if overlaps(first, second):
            return f"the sessions at {first[0].isoformat()} and {second[0].isoformat()} overlap"
    return None


def retimed_sessions_problem(sessions, now: datetime):
    """Why a published course's new timetable cannot be taken, or None: it replaces only the
    sessions still to come, so each of its sessions must start after `now`."""
    begun = sorted(begin for begin, _ in sessions if begin <= now)
    if begun:
        return f"{begun[0].isoformat()} has begun or passed: give sessions from now on (weekly.starts_on, or dates)"
    return None


def overlaps(a, b) -> bool:
    """Two (starts_at, ends_at) half-open ranges overlap."""
    return a[0] < b[1] and b[0] < a[1]


# lottery

def lottery_seed(course_id: str, drawn_at: datetime) -> str:
    """A seed anyone can recompute from the course and the draw time, stored with the draw."""
    return hashlib.sha256(f"{course_id}|{drawn_at.isoformat()}".encode()).hexdigest()


def draw(seed: str, entries, capacity: int):
    """The lottery. `entries` is [{"enrolment_id", "member_id", "seats", "priority"}]; members with
    no seat this term have priority. The result depends only on the seed and the entries (their
    order given does not matter): [{"enrolment_id", "member_id", "rank", "outcome"}] in draw order,
    outcome confirmed while the seats last and waitlisted after."""
    rng = random.Random(seed)
    ordered = sorted(entries, key=lambda e: str(e["enrolment_id"]))
    first = [e for e in ordered if e["priority"]]
    rest = [e for e in ordered if not e["priority"]]
    rng.shuffle(first)
    rng.shuffle(rest)
    left, result = capacity, []
    for rank, entry in enumerate(first + rest, start=1):
        fits = entry["seats"] <= left
        if fits:
            left -= entry["seats"]
        result.append({"enrolment_id": str(entry["enrolment_id"]), "member_id": str(entry["member_id"]),
                       "rank": rank, "outcome": CONFIRMED if fits else WAITLISTED})
    return result


def lottery_seen_by(audit, member_id):
    """A draw's audit as a member or the public reads it: the seed, the time and whether re-running
    reproduces it, the number of entrants, and only `member_id`'s own entries (their rank and
    outcome), never another entrant's. The course's staff read the whole audit instead."""
    own = [r for r in audit["result"] if member_id is not None and r["member_id"] == str(member_id)]
    return {**audit, "inputs": [], "result": own, "entrants": len(audit["result"])}


# attendance, strikes, certificates

def attendance_rate(attended: int, sessions: int) -> float:
    return attended / sessions if sessions else 0.0


def certificate_problem(status: str, attended: int, sessions: int, threshold: float, remaining: int = 0):
    """Why no certificate can be issued, or None: counted over the sessions held, once the last
    one has ended."""
    if status != CONFIRMED:
        return "only a confirmed seat earns a certificate"
    if sessions == 0:
        return "the course has held no sessions yet"
    if remaining:
        return f"the course has {remaining} session(s) still to come"
    rate = attendance_rate(attended, sessions)
    if rate < threshold:
        return (f"attended {attended} of {sessions} sessions ({rate:.0%});"
                f" a certificate needs {threshold:.0%}")
    return None


def blocked_until(strike_times, now: datetime, limit: int, block_days: int):
    """N uncleared strikes block new enrolments for `block_days` after the N-th: when the block
    ends, or None when the member is not blocked."""
    times = sorted(strike_times)
    if limit <= 0 or len(times) < limit:
        return None
    until = times[-1] + timedelta(days=block_days)
    return until if now < until else None


def block_end(strikes_by_term, now: datetime, limit: int, block_days: int):
    """When the latest block of new enrolments ends, over each term's uncleared strikes (moments,
    or their ISO text when read through json), or None when the member is not blocked."""
    until = [blocked_until([_moment(t) for t in times], now, limit, block_days) for times in strikes_by_term]
    until = [u for u in until if u]
    return max(until) if until else None


def _moment(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def attendance_problem(session_starts_at: datetime, now: datetime, source: str):
    """Members check in only on the day (from an hour before); teachers mark from the start."""
    if source == "check_in":
        if now < session_starts_at - timedelta(hours=1):
            return "check-in opens an hour before the session"
        if now > session_starts_at + timedelta(hours=12):
            return "check-in for this session has closed"
    elif now < session_starts_at - timedelta(hours=1):
        return "attendance can be marked once the session is about to start"
    return None


# class requests (点单式服务)

def stale_edit_problem(version: int, read_versions) -> str | None:
    """An edit sent with If-Match (`read_versions`: the versions the editor read) must be of the
    course as it is now; without If-Match (None) the edit applies to whatever is there."""
    if read_versions is None or version in read_versions:
        return None
    return f"the course changed since it was read (it is at version {version}): read it again"


def decision_problem(state: str):
    if state != "pending":
        return f"the request is already {state}"
    return None


def requested_course(request, added=None):
    """The course (as a create-course body) an approved class request makes: what the unit asked
    for, and what the admin adds or changes (`added`)."""
    return {"title": request["title"], "capacity": request["capacity"],
            "site_id": str(request["site_id"]), "unit_ids": [str(request["unit_id"])],
            **{k: request[k] for k in ("category", "description") if request[k]},
            **(added or {})}
