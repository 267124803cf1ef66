"""Enrolment's use cases, on their way out of the nameko class (STYLE.md, "use cases out of the
nameko classes"), as functions of what they need. First here: enrolment's calls to venues with
venues' errors made enrolment's, and the room bookings a change of a course makes, undone when the
change does not commit (one context manager instead of an out-list and an `except` per entrypoint)."""
import logging
import uuid

from nameko.exceptions import MethodNotFound, RpcTimeout, UnknownService

from services.common.errors import Conflict, Invalid, NotFound
from services.enrolment import domain, events, schemas, store

log = logging.getLogger(__name__)
VENUES_DOWN = (UnknownService, RpcTimeout, MethodNotFound)  # not running, too slow, or not that version yet
SERVICE = "enrolment"  # the holder service of its room bookings in venues
_course_out, _course_told = schemas.CourseSchema(), events.CoursePublishedSchema()


def iso(moment):
    return moment.isoformat() if moment is not None else None


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


def session_times(schedule, term):
    """The schedule as [(starts_at, ends_at)]: explicit dates, or a weekly pattern over the term."""
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
        try:
            times = domain.weekly_sessions(starts_on, ends_on, term["holidays"] if term else (),
                                           weekly["weekdays"], weekly["start_time"], weekly["duration_minutes"])
        except ValueError as exc:
            raise Invalid("bad schedule", errors={"schedule": [str(exc)]}) from None
    problem = domain.explicit_sessions_problem(times)
    if problem:
        raise Invalid(f"bad schedule: {problem}", errors={"schedule": [problem]})
    return times


def book_new_timetable(conn, venues, course, changes, rooms):
    """A published course's sessions to come get a new timetable and/or room: the new room is
    reserved for them under a new holder that replaces the old bookings in one venues
    transaction (a clash answers 409 with its dates and changes nothing, here or in venues).
    Done before the course's row lock is taken; the service's _reschedule then writes the plan."""
    course_id, now = course["id"], course["now"]
    before = [s for s in store.course_sessions(conn, course_id) if s["starts_at"] > now and s["state"] == "scheduled"]
    plan = {"before": before, "times": None, "room_series": course["room_series"], "answer": None}
    if "schedule" in changes:
        term = course_term(conn, changes.get("term_id", course["term_id"]))
        plan["times"] = sorted(session_times(changes.pop("schedule"), term))
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


def course_event(conn, outbox, event_type, course_id, **extra):
    """course_published, course_updated or course_cancelled, carrying the course as it now is
    (the gateway's catalog stores it as told); answers that course."""
    course = _course_out.dump(store.get_course(conn, course_id))
    outbox(conn, event_type, _course_told.dump({
        "course_id": course_id, "course": course, "title": course["title"], "capacity": course["capacity"],
        **extra}))
    return course


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
