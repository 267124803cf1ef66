"""Enrolment's use cases, out of the nameko class (STYLE.md, "use cases out of the nameko classes"):
functions of what they need (the transaction's `conn`, the `outbox` that tells, `venues`, the
RoomBookings of the change, a clock, the caller's facts), called by service.py's entrypoints once
they have parsed the input, checked the caller and opened the transaction. Here too: enrolment's
calls to venues with venues' errors made enrolment's, and the room bookings a change of a course
makes, undone when the change does not commit (RoomBookings). Pure rules are domain.py's, SQL
store.py's."""
import logging
import uuid
from datetime import date, datetime, timezone
from typing import NamedTuple

from nameko.exceptions import MethodNotFound, RpcTimeout, UnknownService

from services.common import closed_accounts
from services.common.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from services.common.params import object_id
from services.common.recurrence import Day
from services.common.roles import ADMIN, DESK
from services.common.zone import HOME_ZONE
from services.enrolment import domain, events, schemas, store

log = logging.getLogger(__name__)
VENUES_DOWN = (UnknownService, RpcTimeout, MethodNotFound)  # not running, too slow, or not that version yet
SERVICE = "enrolment"  # the holder service of its room bookings in venues
_course_out, _course_told = schemas.CourseSchema(), events.CoursePublishedSchema()
_enrolment_told, _lottery_told = events.EnrolmentEventSchema(), events.LotteryDrawnSchema()
_rescheduled_told, _session_told = events.CourseRescheduledSchema(), events.SessionEventSchema()
_certificate_told, _decided_told = events.CertificateIssuedSchema(), events.ClassRequestDecidedSchema()


def iso(moment):
    return moment.isoformat() if moment is not None else None


def utc_now():
    return datetime.now(timezone.utc)


def _venues_down():
    return Conflict("the venues service is not answering; try again shortly", "venues-unavailable")


def _no_room():
    return Invalid("the room does not exist", errors={"room_id": ["no such room"]})


def check_room(venues, room_id):
    """The venues room a course names (None for none), or the course's own error: an unknown room
    is bad input, a venues that does not answer a conflict to try again."""
    if room_id is None:
        return None
    try:
        return venues.get_room(str(room_id))
    except NotFound:
        raise _no_room() from None
    except VENUES_DOWN:
        raise _venues_down() from None


def reserve(venues, holder, room_id, sessions, title, replaces=None):
    """The room for every session, all or nothing, in one call to venues; `replaces` (holders)
    are released in the same venues transaction, so their times may be taken again. A clash is a
    room-clash naming its dates."""
    occurrences = [{"starts_at": iso(s["starts_at"]), "ends_at": iso(s["ends_at"])} for s in sessions]
    try:
        if replaces:
            return venues.reserve_series(holder, str(room_id), occurrences, title, replaces)
        return venues.reserve_series(holder, str(room_id), occurrences, title)
    except Conflict as exc:
        dates = (exc.errors or {}).get("occurrences") or []
        raise Conflict(f"the room is taken on {', '.join(map(str, dates)) or 'some dates'}: {exc.detail}",
                       "room-clash", {"occurrences": dates}) from None
    except NotFound:
        raise _no_room() from None
    except VENUES_DOWN:
        raise _venues_down() from None


class RoomBookings:
    """The venues bookings one change makes, as a context manager around its transaction. If the
    change does not commit, each series it `reserved` is released and each one it `swapped` for a
    new series is booked back (`restore`); once it commits, the bookings it `given_up` are released.
    Venues failing here is logged for staff to put right by hand, never raised over the change's
    own answer or error."""

    def __init__(self, release, restore):
        self._release, self._restore = release, restore
        self.reserved, self.swapped, self.given_up = [], [], []

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            given_up, self.given_up = self.given_up, []
            self._each(self._release, given_up, "could not release the room bookings of %s")
        else:
            self.undo()
        return False  # the change's own error goes on to its caller

    def undo(self):
        """Release what was reserved and book back what was swapped, now; nothing is left to undo."""
        reserved, swapped, self.reserved, self.swapped = self.reserved, self.swapped, [], []
        self._each(self._release, reserved, "could not release the room bookings of %s")
        self._each(self._restore, swapped, "could not restore the room bookings of %s: staff must rebook them")

    @staticmethod
    def _each(action, items, failed):
        for item in items:
            try:
                action(item)
            except Exception:  # the bookings stay as they are; the log tells staff which
                log.exception(failed, item)


def series_holder(course_id, series=0):
    """The venues holder of a course's room series: a new one for each change of timetable or room."""
    return {"service": SERVICE, "reference": f"{course_id}/{series}" if series else str(course_id)}


def course_term(conn, term_id):
    """The term a course names (None for none); an unknown one is bad input."""
    if term_id is None:
        return None
    try:
        return store.get_term(conn, term_id)
    except NotFound as exc:
        raise Invalid("the term does not exist", "validation-failed", {"term_id": ["no such term"]}) from exc


# a weekly timetable longer than this names more sessions than a course may have: no more years asked for
CALENDAR_YEARS = 16


def working_calendar(venues, starts_on, ends_on):
    """The holidays and make-up working days (调休) from `starts_on` to `ends_on`, as venues keeps them
    (the one calendar room series are laid out by): {date: Day}."""
    days = {}
    for year in range(starts_on.year, min(ends_on.year, starts_on.year + CALENDAR_YEARS) + 1):
        try:
            listed = venues.list_calendar(year)
        except VENUES_DOWN:
            raise _venues_down() from None
        for d in listed:
            day = date.fromisoformat(d["day"])
            days[day] = Day(day, d["kind"], d["name"], d.get("as_weekday"))
    return days


def session_times(schedule, term, venues=None):
    """The schedule as [(starts_at, ends_at)]: explicit dates, or a weekly pattern over the term on
    venues' working calendar (none asked for without `venues`)."""
    if not schedule:
        return []
    if "dates" in schedule:
        times = [(d["starts_at"], d["ends_at"]) for d in schedule["dates"]]
    else:
        weekly = schedule["weekly"]
        starts_on = weekly.get("starts_on") or (term and term["starts_on"])
        ends_on = weekly.get("ends_on") or (term and term["ends_on"])
        if not starts_on or not ends_on:
            raise Invalid("a weekly schedule needs a term or its own dates", errors={
                "schedule": ["give term_id, or weekly.starts_on and weekly.ends_on"]})
        if ends_on < starts_on:
            raise Invalid("bad schedule", errors={"schedule": ["weekly.ends_on is before starts_on"]})
        calendar = working_calendar(venues, starts_on, ends_on) if venues is not None else None
        try:
            times = domain.weekly_sessions(starts_on, ends_on, term["holidays"] if term else (),
                                           weekly["weekdays"], weekly["start_time"], weekly["duration_minutes"],
                                           calendar=calendar)
        except ValueError as exc:
            raise Invalid("bad schedule", errors={"schedule": [str(exc)]}) from None
    problem = domain.explicit_sessions_problem(times)
    if problem:
        raise Invalid(f"bad schedule: {problem}", errors={"schedule": [problem]})
    return times


def change_course(conn, outbox, venues, course_id, changes, read_versions, rooms):
    """Change a course by `changes` (loaded). A published course may get its timetable or room later
    (a schedule to be announced) or change them: see book_new_timetable and reschedule.
    `read_versions` (If-Match) refuses a stale edit: before venues is asked, and again under the row
    lock. Answers the course as changed."""
    # venues is asked first, under the course's turn for changes but not its row lock,
    # so enrolments into it go on meanwhile; the row lock comes after, for the writes
    store.hold_changes(conn, course_id)
    course = store.read_course(conn, course_id)
    check_fresh(course, read_versions)
    if course["state"] == domain.CANCELLED_COURSE:
        raise Conflict("the course is cancelled", "course-cancelled")
    check_changes(course, changes)
    plan = times = None
    if course["state"] == domain.PUBLISHED and ("schedule" in changes or "room_id" in changes):
        plan = book_new_timetable(conn, venues, course, changes, rooms)
    else:
        times = draft_timetable(conn, venues, course, changes)
    course = store.lock_course(conn, course_id)
    check_fresh(course, read_versions)  # changed while venues answered: booked back, refused
    check_changes(course, changes)  # seats taken may have grown while venues answered
    if plan is not None:
        reschedule(conn, outbox, course, plan, rooms)
    elif times is not None:
        store.replace_sessions(conn, course_id, times)
    store.update_course(conn, course_id, changes)
    if course["state"] == domain.PUBLISHED:
        fill(conn, outbox, store.lock_course(conn, course_id))
        course_event(conn, outbox, "course_updated", course_id)
    return store.get_course(conn, course_id)


def regenerate_timetable(conn, outbox, venues, course_id, rooms, apply):
    """A published course whose weekly sessions were laid out before the working calendar (调休):
    what laying its sessions to come out again changes (domain.regeneration; None: nothing), made
    when `apply` through change_course, as staff giving the course that weekly schedule would: its
    room rebooked, sessions begun or held kept with their attendance, its members told. Run again,
    it finds nothing to change."""
    store.hold_changes(conn, course_id)
    course = store.read_course(conn, course_id)
    sessions = store.course_sessions(conn, course_id)
    if course["state"] != domain.PUBLISHED or not sessions:
        return None
    span = [s["starts_at"].astimezone(HOME_ZONE).date() for s in (sessions[0], sessions[-1])]
    change = domain.regeneration(sessions, course_term(conn, course["term_id"]), working_calendar(venues, *span),
                                 course["now"])
    if change is not None and apply:
        change_course(conn, outbox, venues, course_id, {"schedule": change["schedule"]}, None, rooms)
    return change


def draft_timetable(conn, venues, course, changes):
    """A draft's new sessions (None: the schedule is not changed), its term and room checked:
    nothing is reserved yet."""
    times = None
    if "schedule" in changes:
        term_id = changes.get("term_id", course["term_id"])
        times = session_times(changes.pop("schedule"), course_term(conn, term_id), venues)
    elif "term_id" in changes:
        course_term(conn, changes["term_id"])
    if "room_id" in changes:
        check_room(venues, changes["room_id"])
    return times


def check_fresh(course, read_versions):
    """A stale edit (If-Match naming another version of the course) is refused: 412."""
    stale = domain.stale_edit_problem(course["version"], read_versions)
    if stale:
        raise PreconditionFailed(stale)


def check_changes(course, changes):
    """The course as it would be after `changes` keeps its window, its ages and its taken seats."""
    merged = {**course, **changes}
    if merged["closes_at"] is not None and merged["closes_at"] <= merged["opens_at"]:
        raise Invalid("bad window", errors={"closes_at": ["must be after opens_at"]})
    ages = merged["min_age"], merged["max_age"]
    if None not in ages and ages[1] < ages[0]:
        raise Invalid("bad ages", errors={"max_age": ["must not be below min_age"]})
    if changes.get("capacity") is not None and changes["capacity"] < course["confirmed_count"]:
        raise Conflict(f"{course['confirmed_count']} seats are taken: capacity cannot go below that",
                       "capacity-below-taken", {"capacity": [f"at least {course['confirmed_count']}"]})


def create_course(conn, outbox, venues, course, created_by, rooms):
    """A new course (loaded) with its sessions, a draft, or published at once (its room reserved in
    `rooms`) unless it says `publish: false`. Answers the course."""
    publish_now = course.pop("publish", True)
    schedule = course.pop("schedule", None)
    term = course_term(conn, course.get("term_id"))
    times = session_times(schedule, term, venues)
    room = check_room(venues, course.get("room_id"))
    if room and not course.get("site_id"):
        course["site_id"] = room.get("site_id")
    course_id = store.create_course(conn, course, created_by, domain.DRAFT)
    store.replace_sessions(conn, course_id, times)
    if publish_now:
        return publish(conn, outbox, venues, course_id, rooms)
    return _course_out.dump(store.get_course(conn, course_id))


def book_new_timetable(conn, venues, course, changes, rooms):
    """A published course's sessions to come get a new timetable and/or room: the new room is
    reserved for them under a new holder that replaces the old bookings in one venues
    transaction (a clash answers 409 with its dates and changes nothing, here or in venues).
    Done before the course's row lock is taken; reschedule then writes the plan."""
    course_id, now = course["id"], course["now"]
    before = [s for s in store.course_sessions(conn, course_id) if s["starts_at"] > now and s["state"] == "scheduled"]
    plan = {"before": before, "times": None, "room_series": course["room_series"], "answer": None}
    if "schedule" in changes:
        term = course_term(conn, changes.get("term_id", course["term_id"]))
        plan["times"] = sorted(session_times(changes.pop("schedule"), term, venues))
        problem = domain.retimed_sessions_problem(plan["times"], now)
        if problem:
            raise Invalid("a published course's new sessions must be still to come",
                          errors={"schedule": [problem]})
    elif "term_id" in changes:
        course_term(conn, changes["term_id"])
    plan["room_id"] = room_id = changes.get("room_id", course["room_id"])
    plan["room"] = room = check_room(venues, room_id)
    if room and not (changes.get("site_id") or course["site_id"]):
        changes["site_id"] = room.get("site_id")
    sessions = before if plan["times"] is None else [{"starts_at": b, "ends_at": e} for b, e in plan["times"]]
    plan["old"] = old = []
    if course["room_id"] is not None:  # the series, and sessions rebooked alone, from now on
        old.extend([series_holder(course_id, course["room_series"]),
                    *({"service": SERVICE, "reference": r} for r in store.session_holders(conn, course_id, now))])
    if room and sessions:
        holder = series_holder(course_id, course["room_series"] + 1)
        plan["answer"] = reserve(venues, holder, room_id, sessions, course["title"], replaces=old)
        rooms.swapped.append({"course_id": course_id, "holder": holder, "old": old[:1], "room_id": course["room_id"],
                              "sessions": before, "title": course["title"]})
    return plan


def reschedule(conn, outbox, course, plan, rooms):
    """Under the course's row lock, the new timetable and room book_new_timetable reserved.
    Sessions already begun stay as they were. A member whose seat would now overlap another
    class of theirs loses this seat (the overlap rule holds) and is told why; the freed seats
    go down the waitlist. Everyone with an entry is told of the new timetable."""
    course_id, now, before = course["id"], course["now"], plan["before"]
    if course["state"] != domain.PUBLISHED or course["room_series"] != plan["room_series"]:
        # another change came first (changes take turns, so only by a path that does not):
        # refused, and the change's RoomBookings books the old room back in place of this reservation
        raise Conflict("the course changed while its room was being booked; try again", "course-changed")
    if plan["times"] is not None:
        store.replace_upcoming_sessions(conn, course_id, plan["times"], now)
    sessions = [s for s in store.course_sessions(conn, course_id) if s["starts_at"] > now and s["state"] == "scheduled"]
    if plan["answer"] is not None:
        store.set_booking_ids(conn, course_id, plan["answer"].get("bookings") or [])
        store.set_room_series(conn, course_id, course["room_series"] + 1)
    else:  # no room or nothing to come: the old bookings go once this commits
        store.clear_bookings(conn, course_id, now)
        if plan["old"]:  # their cancellations then concern no current series
            store.set_room_series(conn, course_id, course["room_series"] + 1)
        rooms.given_up.extend(plan["old"])
    store.announce_again(conn, course_id, now)
    course = store.lock_course(conn, course_id)
    dropped = []
    if plan["times"] is not None:
        for entry in store.confirmed_entries(conn, course_id):
            store.release_slots(conn, entry["id"])
            try:
                store.claim_slots(conn, entry["id"], entry["member_id"], course_id)
            except Conflict:
                drop(conn, outbox, course, entry["id"], "the new timetable overlaps another class you hold")
                dropped.append(entry["member_id"])
    members = store.members_with(conn, course_id, domain.LIVE)
    room, room_id = plan["room"], plan["room_id"]
    if members or dropped:
        outbox(conn, "course_rescheduled", _rescheduled_told.dump({
            "course_id": course_id, "course_title": course["title"], "member_ids": members,
            "announced": not before and bool(sessions), "sessions": len(sessions),
            "first_session_at": iso(sessions[0]["starts_at"]) if sessions else None,
            "room_id": room_id, "room_name": room and room.get("name"), "site_name": room and room.get("site_name"),
            "dropped_member_ids": dropped}))


def cancel_course(conn, outbox, course_id, reason, by, rooms):
    """Call a course off for `reason` (staff member `by`): every entry is cancelled, its room given up
    in `rooms` (released once this commits), members told. Answers the course as told."""
    store.hold_changes(conn, course_id)
    course = store.lock_course(conn, course_id)
    if course["state"] == domain.CANCELLED_COURSE:
        raise Conflict("the course is already cancelled", "course-cancelled")
    holders = [series_holder(course_id, course["room_series"]),
               *({"service": SERVICE, "reference": r} for r in store.session_holders(conn, course_id))]
    members = store.members_with(conn, course_id, domain.LIVE)
    for entry in store.course_enrolments(conn, course_id, 100_000, 0):
        if entry["status"] != domain.CANCELLED:
            store.release_slots(conn, entry["id"])
            store.give_back_term_place(conn, entry["member_id"], course["term_id"])
            store.set_status(conn, entry["id"], domain.CANCELLED, reason=reason, by=by)
    store.move_seats(conn, course_id, -course["confirmed_count"])
    store.set_course_state(conn, course_id, domain.CANCELLED_COURSE)
    if course["room_id"] is not None:  # released once the cancellation commits
        rooms.given_up.extend(holders)
    return course_event(conn, outbox, "course_cancelled", course_id, member_ids=members, reason=reason)


def restore(venues, db, swap):
    """A course change did not commit after venues swapped its bookings: the old series is booked
    back in place of the new one, and the sessions told their bookings again in a transaction of
    their own (RoomBookings logs it for staff when it cannot be done)."""
    if swap["room_id"] is not None and swap["sessions"] and swap["old"]:
        answer = reserve(venues, swap["old"][0], swap["room_id"], swap["sessions"], swap["title"],
                         replaces=[swap["holder"]])
        with db.transaction() as conn:
            store.set_booking_ids(conn, swap["course_id"], answer.get("bookings") or [])
    else:
        venues.release_series(swap["holder"])


def free_room(venues, course, session, payload, rooms):
    """Another room of the same site, free at the session's time, booked for it alone:
    (room, booking id, holder), or None. Asked of venues before the course is locked."""
    if not payload.get("site_id"):
        return None
    occurrence = {"starts_at": iso(session["starts_at"]), "ends_at": iso(session["ends_at"])}
    free = venues.availability({**occurrence, "site_id": str(payload["site_id"]),
                                "capacity": max(course["confirmed_count"], 1), "limit": 20})
    for room in free:
        if str(room["id"]) == str(payload.get("room_id")):
            continue  # the room just lost, perhaps free but not for us
        holder = {"service": SERVICE, "reference": f"{course['id']}/session/{uuid.uuid4().hex[:12]}"}
        try:
            answer = venues.reserve_series(holder, str(room["id"]), [occurrence], course["title"])
        except (Conflict, Invalid, NotFound):
            continue  # taken a moment ago, or not open then: the next one
        rooms.reserved.append(holder)
        return room, answer["bookings"][0]["id"], holder
    return None


# venues' causes (booking_cancelled `cause`) of the bookings we gave up ourselves: a series
# replaced, or released. An event without a cause (a venues from before causes) goes on to the
# session check, which passes over bookings no session holds any more.
OUR_CAUSES = ("replaced", "released_by_holder")


def room_lost(conn, outbox, venues, bookings, payload, released):
    """Venues cancelled (`released` False) or released a room booking of ours (`payload`, its
    event): the session it served moves to another free room of the same site or is cancelled,
    or, released once begun, is marked room_lost. `bookings` makes the RoomBookings of the move."""
    if payload.get("holder_service") != SERVICE or payload.get("cause") in OUR_CAUSES:
        return
    reference = str(payload.get("holder_reference") or "")
    try:
        course_id = object_id(reference.split("/")[0], "course")
    except NotFound:
        return
    if not store.course_exists(conn, course_id):
        return
    store.hold_changes(conn, course_id)  # after a timetable change in flight, not in its middle
    course = store.read_course(conn, course_id)  # the row lock only once venues has answered
    if course["state"] != domain.PUBLISHED:
        return  # among them our own release of a cancelled course's room
    current = reference == series_holder(course_id, course["room_series"])["reference"]
    found = lambda lock: store.session_for_booking(  # noqa: E731
        conn, course_id, payload.get("booking_id"), payload["starts_at"], current, lock)
    session = found(False)
    if session is None or session["state"] != "scheduled":
        return
    if released:
        store.lock_course(conn, course_id)
        log.warning("venues released the room of session %s of course %s", session["id"], course_id)
        store.set_session_state(conn, session["id"], "room_lost")
        store.bump_version(conn, course_id)
        return
    with bookings() as rooms:  # the move did not commit: nor does its booking
        rebooked = free_room(venues, course, session, payload, rooms)
        course = store.lock_course(conn, course_id)
        session = found(True)  # the same, as changes of the course take turns; read again under the lock
        if session is None or session["state"] != "scheduled":
            rooms.undo()
            return
        if rebooked:
            room, booking_id, holder = rebooked
            store.rebook_session(conn, session["id"], room["id"], booking_id, holder["reference"])
        told = {"session_id": session["id"], "course_id": course_id, "course_title": course["title"],
                "member_ids": store.members_with(conn, course_id), "starts_at": iso(session["starts_at"]),
                "ends_at": iso(session["ends_at"]), "old_starts_at": iso(session["starts_at"]),
                "old_room_name": payload.get("room_name"),
                "reason": payload.get("reason") or "the room is no longer available",
                "cause": payload.get("cause"), "note": payload.get("note")}
        if rebooked:
            outbox(conn, "session_moved", _session_told.dump({
                **told, "state": "scheduled", "room_id": room["id"], "room_name": room.get("name")}))
        else:
            store.set_session_state(conn, session["id"], "cancelled")
            outbox(conn, "session_cancelled", _session_told.dump({**told, "state": "cancelled"}))
        store.bump_version(conn, course_id)
        course_event(conn, outbox, "course_updated", course_id)


def course_event(conn, outbox, event_type, course_id, **extra):
    """course_published, course_updated or course_cancelled, carrying the course as it now is
    (the gateway's catalog stores it as told); answers that course."""
    course = _course_out.dump(store.get_course(conn, course_id))
    outbox(conn, event_type, _course_told.dump({
        "course_id": course_id, "course": course, "title": course["title"], "capacity": course["capacity"],
        **extra}))
    return course


def publish_draft(conn, outbox, venues, course_id, rooms):
    """Publish a course that is still a draft (publish); any other is refused."""
    store.hold_changes(conn, course_id)  # it stays a draft until publish takes the row lock
    course = store.read_course(conn, course_id)
    if course["state"] != domain.DRAFT:
        raise Conflict(f"the course is {course['state']}, not a draft", "not-a-draft")
    return publish(conn, outbox, venues, course_id, rooms)


def publish(conn, outbox, venues, course_id, rooms):
    """Reserve the room for every session (all or none), then lock the course and publish: venues
    is asked before the row lock, never under it. The holder it reserves goes in `rooms`, to be
    released if this transaction does not commit."""
    course = store.read_course(conn, course_id)
    sessions = [s for s in store.course_sessions(conn, course_id) if s["state"] == "scheduled"]
    answer = None
    if course["room_id"] is not None and sessions:
        holder = series_holder(course_id, course["room_series"])
        answer = reserve(venues, holder, course["room_id"], sessions, course["title"])
        rooms.reserved.append(holder)
    store.lock_course(conn, course_id)
    if answer is not None:
        store.set_booking_ids(conn, course_id, answer.get("bookings") or [])
    store.set_course_state(conn, course_id, domain.PUBLISHED)
    return course_event(conn, outbox, "course_published", course_id)


# seats: each under the course's row lock, in the caller's transaction, `outbox` telling the member


def enrolment_event(conn, outbox, event_type, course, enrolment, figures=None, **extra):
    """One enrolment event about `enrolment`, with the course's seat counts (`figures` when just read)."""
    payload = {**(figures or store.counts(conn, course["id"])), "enrolment_id": enrolment["id"],
               "course_title": course["title"], "member_id": enrolment["member_id"],
               "status": enrolment["status"], "position": enrolment.get("position"),
               "seats": enrolment["seats"], "first_session_at": iso(course.get("first_session_at")), **extra}
    outbox(conn, event_type, _enrolment_told.dump(payload))


def fill(conn, outbox, course, clock=utc_now):
    """Seats freed under the course lock go to the head of the line, in the same transaction:
    promoted at once, or offered for `offer_hours` (from `clock`) where the course says so. An entry
    whose sessions now clash with another class of the member's is dropped with the reason."""
    if course["state"] != domain.PUBLISHED or (course["allocation"] == domain.LOTTERY and not course["drawn_at"]):
        return
    while True:
        free = store.counts(conn, course["id"])["seats_left"]
        # each entry takes a seat at least: no more than `free` of the head can move up, and the
        # rest of the line (18,000 entries after a big class launch) is not read at each seat freed
        line = store.waitlist(conn, course["id"], limit=max(free, 0))
        chosen = domain.next_in_line([(e["id"], e["seats"]) for e in line], free)
        if not chosen:
            return
        entry = line[0]
        if course["offer_hours"]:
            expires = domain.offer_expiry(clock(), course["offer_hours"])
            store.set_status(conn, entry["id"], domain.OFFERED, offer_expires_at=expires)
            store.move_seats(conn, course["id"], entry["seats"])
            enrolment_event(conn, outbox, "offer_made", course, store.get_enrolment(conn, entry["id"]),
                            offer_expires_at=iso(expires), expires_at=iso(expires))
            continue
        confirm(conn, outbox, course, entry, "enrolment_promoted", refused="not promoted: ")


def confirm(conn, outbox, course, entry, event, refused=None, seats_held=False):
    """Give an entry its seat, under the course lock: the times of its sessions claimed, its
    seats counted (unless an offer holds them already), the member told by `event`. A clash
    with another class of the member's is raised, or, given `refused` (the start of the
    reason), drops the entry instead (answering None)."""
    try:
        store.claim_slots(conn, entry["id"], entry["member_id"], course["id"])
    except Conflict as exc:
        if refused is None:
            raise
        drop(conn, outbox, course, entry["id"], f"{refused}{exc.detail}")
        return None
    store.set_status(conn, entry["id"], domain.CONFIRMED)
    if not seats_held:
        store.move_seats(conn, course["id"], entry["seats"])
    confirmed = store.get_enrolment(conn, entry["id"])
    enrolment_event(conn, outbox, event, course, confirmed)
    return confirmed


def drop(conn, outbox, course, enrolment_id, reason, by=None, event="enrolment_cancelled", by_name=None):
    """Cancel one entry under the course lock, giving back its seats, time and term place."""
    entry = store.get_enrolment(conn, enrolment_id)
    if entry["status"] in (domain.CONFIRMED, domain.OFFERED):
        store.move_seats(conn, course["id"], -entry["seats"])
    store.release_slots(conn, enrolment_id)
    store.give_back_term_place(conn, entry["member_id"], course["term_id"])
    store.set_status(conn, enrolment_id, domain.CANCELLED, reason=reason, by=by, by_name=by_name)
    enrolment_event(conn, outbox, event, course, store.get_enrolment(conn, enrolment_id), reason=reason)
    return entry


CLOSED_REASON = "the member's account was closed"


def close_member(conn, outbox, member_id):
    """A closed account: its waitlist places, offers, lottery entries and seats in classes still to
    come are cancelled (the seats go to the next in line), then what is about the person is erased
    (store.erase_member). Remembered, so no later call brings the person back (enrol)."""
    store.lock_member(conn, member_id)
    closed_accounts.remember(conn, member_id)
    for enrolment_id, course_id in store.open_entries(conn, member_id):
        course = store.lock_course(conn, course_id)
        drop(conn, outbox, course, enrolment_id, CLOSED_REASON)
        fill(conn, outbox, course)
    store.erase_member(conn, member_id)


class Enrollee(NamedTuple):
    """The member an enrolment is for, the facts their eligibility is checked against, and the clerk
    who acted on their behalf (None when they enrol themselves)."""
    member_id: str
    birth_date: date | None
    unit_id: str | None
    by: str | None = None
    by_name: str | None = None


def replay(enrolment, course_id):
    """The entry an Idempotency-Key made before, answered again: for the same course only."""
    if str(enrolment["course_id"]) != course_id:
        raise Conflict("this Idempotency-Key was used for another course", "idempotency-key-reused")
    return enrolment


def enrol(conn, outbox, course_id, who, key, seats_wanted, strike_limit, block_days):
    """Enrol `who` (an Enrollee) for `seats_wanted` seats under Idempotency-Key `key`: a seat if one is
    free, else a waitlist place; in a lottery course, interest registered for the draw. Members with
    `strike_limit` uncleared strikes in a term are blocked for `block_days`. Answers the entry."""
    member_id = who.member_id
    store.lock_member(conn, member_id, shared=True)  # a closed account's erasure waits, or is seen here
    if closed_accounts.is_closed(conn, member_id):
        raise NotFound("this member's account is closed", "account-closed", {"member_id": ["account is closed"]})
    # what concerns only the member is read in one statement before the course lock, to
    # hold it briefly: a clash that slips in meanwhile is still refused by the exclusion
    # constraint, a duplicate by the unique indexes (a retry racing its first try: RequestDone)
    standing = store.standing(conn, member_id, course_id, key)
    if standing["replay_id"] is not None:
        return replay(store.get_enrolment(conn, standing["replay_id"]), course_id)
    course = store.lock_course(conn, course_id)
    refused = domain.course_state_problem(course["state"])
    if refused:
        raise Conflict(refused, "course-not-open", {"course_id": [refused]})
    closed = domain.enrolment_window_problem(course["now"], course["opens_at"], course["closes_at"])
    if closed:
        raise Invalid(closed, "enrolment-closed", {"course_id": [closed]})
    problem = domain.group_problem(seats_wanted, course["group_limit"])
    if problem:
        raise Invalid(f"seats: {problem}", "validation-failed", {"seats": [problem]})
    if standing["live"]:
        raise Conflict("the member is already enrolled in this course", "already-enrolled")
    problem = domain.eligibility_problem(
        min_age=course["min_age"], max_age=course["max_age"], unit_ids=course["unit_ids"],
        birth_date=who.birth_date, unit_id=who.unit_id,
        today=course["now"].astimezone(HOME_ZONE).date())
    if problem:
        raise Forbidden(problem, "not-eligible", {"course_id": [problem]})
    until = domain.block_end(standing["strikes"], course["now"], strike_limit, block_days)
    if until:
        raise Forbidden(f"missed sessions block new enrolments until {until.isoformat()}",
                        "enrolment-blocked")
    clash = standing["clash"]
    if clash:
        raise Conflict(f"the session on {clash['starts_at']} overlaps {clash['title']}",
                       "timetable-clash", {"course_id": ["overlaps a class the member holds"]})
    if course["term_id"] is not None:
        store.take_term_place(conn, member_id, store.get_term(conn, course["term_id"]))
    status = domain.entry_status(course["allocation"], course["drawn_at"] is not None,
                                 domain.Seats(course["capacity"], course["confirmed_count"]), seats_wanted)
    enrolment, figures = store.add_enrolment(conn, course, member_id, status, key, seats_wanted,
                                             who.birth_date, who.by, who.by_name)
    if status in domain.EVENT_FOR_STATUS:
        extra = {"draw_at": iso(course["draw_at"])} if status == domain.REGISTERED else {}
        enrolment_event(conn, outbox, domain.EVENT_FOR_STATUS[status], course, enrolment, figures=figures, **extra)
    return enrolment


def draw(conn, outbox, course, by):
    """Draw a lottery course under its lock: seed and inputs stored, seats by draw order with
    priority to members who hold no seat this term, the rest waitlisted in draw order. `by` is the
    staff member who drew (None: the timer at the course's draw time). Answers the stored draw."""
    entries = store.registered(conn, course["id"])
    inputs = sorted(({"enrolment_id": str(e["enrolment_id"]), "member_id": str(e["member_id"]),
                      "seats": e["seats"],
                      "priority": not store.holds_seat_in_term(conn, e["member_id"], course["term_id"],
                                                               course["id"])}
                     for e in entries), key=lambda e: e["enrolment_id"])
    drawn_at = course["now"]
    seed = domain.lottery_seed(str(course["id"]), drawn_at)
    seats = course["capacity"] - course["confirmed_count"]
    result = domain.draw(seed, inputs, seats)
    store.save_lottery(conn, course["id"], seed, seats, inputs, result, drawn_at, by)
    course = {**course, "drawn_at": drawn_at}
    for outcome in result:
        if outcome["outcome"] == domain.CONFIRMED:
            entry = store.get_enrolment(conn, outcome["enrolment_id"])
            confirm(conn, outbox, course, entry, "enrolment_confirmed", refused="drawn, but ")
        else:
            store.waitlist_again(conn, course["id"], outcome["enrolment_id"])
            enrolment_event(conn, outbox, "enrolment_waitlisted", course,
                            store.get_enrolment(conn, outcome["enrolment_id"]))
    fill(conn, outbox, course)
    outbox(conn, "lottery_drawn", _lottery_told.dump({
        **store.counts(conn, course["id"]), "course_title": course["title"],
        "member_ids": [r["member_id"] for r in result],
        "confirmed_member_ids": [r["member_id"] for r in result if r["outcome"] == domain.CONFIRMED],
        "waitlisted_member_ids": [r["member_id"] for r in result if r["outcome"] == domain.WAITLISTED],
        "seed": seed, "result": "the draw is done; your seat or waitlist place is in your enrolments"}))
    return store.get_lottery(conn, course["id"])


def accept_offer(conn, outbox, enrolment_id, member_id):
    """`member_id` takes up the seat their entry was offered, before the offer expires (another
    member's entry is not there for them). Answers the entry."""
    course = store.lock_course(conn, store.enrolment_course(conn, enrolment_id))
    entry = store.get_enrolment(conn, enrolment_id)
    if str(entry["member_id"]) != member_id:
        raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
    if entry["status"] != domain.OFFERED:
        raise Conflict(f"there is no open offer: the enrolment is {entry['status']}", "no-offer")
    if entry["offer_expires_at"] <= course["now"]:
        raise Conflict("the offer has expired", "offer-expired")
    return confirm(conn, outbox, course, entry, "enrolment_confirmed", seats_held=True)


def expire_offers(conn, outbox, course_id):
    """The course's offers not taken up in time lapse, and their seats go down the line."""
    course = store.lock_course(conn, course_id)
    for offer in store.expired_offers_of(conn, course_id):
        drop(conn, outbox, course, offer["id"], "the offer expired", event="offer_expired")
    fill(conn, outbox, course)


def cancel_entry(conn, outbox, enrolment_id, caller, reason=None, clerk_name=None):
    """The member (a seat before the cut-off; a waitlist place, an offer or a lottery entry at
    any time), the front desk for them (under the same rules) or staff (`caller`: id, roles) cancel;
    the freed seats go to the next in line in the same transaction. Answers the entry."""
    course = store.lock_course(conn, store.enrolment_course(conn, enrolment_id))
    staff = domain.runs_course(caller.roles, caller.id, course["teacher_ids"], (ADMIN,))
    counter = caller.has(DESK) and not staff
    entry = store.get_enrolment(conn, enrolment_id)
    if str(entry["member_id"]) != caller.id and not (staff or counter):
        raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
    cutoff = None if staff else (course["cancel_cutoff"] or domain.default_cutoff(course["first_session_at"]))
    problem = domain.member_cancel_problem(entry["status"], course["now"], cutoff)
    if problem:
        raise Conflict(problem, "cannot-cancel")
    mine = str(entry["member_id"]) == caller.id or counter  # the clerk does what the member asks
    drop(conn, outbox, course, enrolment_id, reason or ("cancelled by the member" if mine else "cancelled by the palace"),
         by=caller.id, by_name=clerk_name)
    fill(conn, outbox, course)
    return store.get_enrolment(conn, enrolment_id)


# attendance, in a session locked and scheduled, at the database's `now`


def take_register(conn, session, marks, teacher, now):
    """`teacher` marks who came, from the session's start, members with a seat only (all or none).
    Answers the marks."""
    problem = domain.attendance_problem(session["starts_at"], now, "teacher")
    if problem:
        raise Conflict(problem, "attendance-not-open")
    marked, strangers = [], []
    for item in marks:
        enrolment = store.confirmed_enrolment(conn, session["course_id"], item["member_id"])
        if enrolment is None:
            strangers.append(str(item["member_id"]))
            continue
        marked.append(store.mark(conn, session, item["member_id"], enrolment["id"], item["present"],
                                 "teacher", teacher))
    if strangers:
        raise Invalid("some members hold no seat in this course", errors={
            "marks": [f"{m} holds no seat in this course" for m in strangers]})
    return marked


def check_in(conn, session, code, member_id, now):
    """A member with a seat checks in on the day with the session's code. Answers the mark."""
    enrolment = store.confirmed_enrolment(conn, session["course_id"], member_id)
    if enrolment is None:
        raise Forbidden("only members with a seat in the course can check in", "no-seat")
    problem = domain.attendance_problem(session["starts_at"], now, "check_in")
    if problem:
        raise Conflict(problem, "check-in-closed")
    if code.strip() != session["checkin_code"]:
        raise Invalid("the check-in code is wrong", "wrong-code", {"code": ["does not match"]})
    return store.mark(conn, session, member_id, enrolment["id"], True, "check_in", member_id)


def certificate(conn, outbox, entry):
    """The entry's completion certificate, issued (and the member told) the first time it is asked
    for and earned."""
    enrolment_id = entry["id"]
    issued = store.certificate_of(conn, enrolment_id)
    if issued is None:
        course = store.get_course(conn, entry["course_id"])
        figures = store.attendance_figures(conn, entry)
        problem = domain.certificate_problem(entry["status"], figures["attended"], figures["held"],
                                             course["attendance_threshold"], figures["remaining"])
        if problem:
            raise Conflict(f"no certificate: {problem}", "certificate-not-earned")
        issued = store.issue_certificate(conn, entry, course["title"], figures["attended"], figures["held"])
        if issued is None:  # a concurrent request issued it first
            issued = store.certificate_of(conn, enrolment_id)
        else:
            outbox(conn, "certificate_issued", _certificate_told.dump({
                "member_id": entry["member_id"], "enrolment_id": enrolment_id,
                "course_id": entry["course_id"], "course_title": course["title"], "code": issued["code"]}))
    return issued


def decide_class_request(conn, outbox, venues, request_id, decision, by, rooms, course_for):
    """Admin `by` approves a unit's class request, creating the course `course_for(request)` names
    (its room reserved in `rooms`), or declines it; once only, the unit admin told. Answers the request."""
    request = store.lock_class_request(conn, request_id)
    problem = domain.decision_problem(request["state"])
    if problem:
        raise Conflict(problem, "already-decided")
    course_id = None
    if decision["decision"] == "approve":
        course_id = create_course(conn, outbox, venues, course_for(request), by, rooms)["id"]
    state = "approved" if decision["decision"] == "approve" else "declined"
    row = store.decide_class_request(conn, request_id, state, decision.get("reason"), course_id, by)
    outbox(conn, "class_request_decided", _decided_told.dump({
        "member_id": request["requested_by"], "request_id": request_id, "unit_id": request["unit_id"],
        "title": request["title"], "decision": state, "reason": decision.get("reason"),
        "course_id": course_id}))
    return row


def announce_sessions(conn, outbox, remind_hours):
    """session_upcoming, once, for each session starting within `remind_hours`, to its members."""
    for session in store.due_reminders(conn, remind_hours):
        members = store.members_with(conn, session["course_id"])
        if members:
            outbox(conn, "session_upcoming", _session_told.dump({
                "session_id": session["id"], "course_id": session["course_id"],
                "course_title": session["course_title"], "member_ids": members,
                "starts_at": iso(session["starts_at"]), "ends_at": iso(session["ends_at"]),
                "state": session["state"]}))
        store.mark_reminded(conn, session["id"])
