"""The enrolment service's nameko entrypoints: parse, call the rules and the store, answer."""
import logging
from datetime import date, datetime, timezone
from functools import partial

from nameko.timer import timer

from services.common import config
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.params import listed, load, object_id, page
from services.common.roles import ADMIN, CLASS_STAFF, UNIT_ADMIN
from services.common.rpc import RpcProxy, rpc
from services.common.zone import HOME_ZONE
from services.enrolment import domain, events, schemas, store, workflows
from services.enrolment.workflows import iso as _iso

log = logging.getLogger(__name__)

TICK = float(config.env("PALACE_ENROLMENT_TICK"))  # seconds between timer rounds
REMIND_HOURS = int(config.env("PALACE_REMIND_HOURS"))
STRIKE_LIMIT = int(config.env("PALACE_STRIKE_LIMIT"))
STRIKE_BLOCK_DAYS = int(config.env("PALACE_STRIKE_BLOCK_DAYS"))

_term_in, _term_out = schemas.TermCreateSchema(), schemas.TermSchema()
_course_in, _course_update = schemas.CourseCreateSchema(), schemas.CourseUpdateSchema()
_course_out = schemas.CourseSchema()
_enrol_in = schemas.EnrolRequestSchema()
_enrolment_out = schemas.EnrolmentSchema()
_cancel_in = schemas.CancelSchema()
_enrolment_event = events.EnrolmentEventSchema()
_rescheduled_event = events.CourseRescheduledSchema()
_lottery_event, _lottery_out = events.LotteryDrawnSchema(), schemas.LotterySchema()
_session_event, _session_code = events.SessionEventSchema(), schemas.SessionCodeSchema()
_attendance_in, _attendance_out = schemas.AttendanceRequestSchema(), schemas.AttendanceResultSchema()
_strikes_out, _clear_in = schemas.StrikesSchema(), schemas.ClearStrikesSchema()
_certificate_out, _certificate_check = schemas.CertificateSchema(), schemas.CertificateCheckSchema()
_certificate_event = events.CertificateIssuedSchema()
_request_in, _request_out = schemas.ClassRequestCreateSchema(), schemas.ClassRequestSchema()
_decision_in, _decided_event = schemas.ClassRequestDecisionSchema(), events.ClassRequestDecidedSchema()


def _moment(value):
    """A timestamp from PostgreSQL, or its ISO text when it came through json."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value



# venues' causes (booking_cancelled `cause`) of the bookings we gave up ourselves: a series
# replaced, or released. An event without a cause (a venues from before causes) goes on to the
# session check, which passes over bookings no session holds any more.
OUR_CAUSES = ("replaced", "released_by_holder")


class EnrolmentService:
    name = "enrolment"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()
    caller = CallerProvider()
    venues = RpcProxy("venues")

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    @rpc
    def stats(self):
        with self.db.transaction() as conn:
            figures = store.stats(conn)
        figures["fill_rate"] = round(figures["seats_taken"] / figures["seats"], 4) if figures["seats"] else 0.0
        figures["attendance_rate"] = (round(figures["attendances"] / figures["attendance_marks"], 4)
                                      if figures["attendance_marks"] else 0.0)
        return figures

    # terms

    @rpc(expected_exceptions=EXPECTED)
    def create_term(self, data):
        self.caller.require(*CLASS_STAFF)
        term = load(_term_in, data)
        with self.db.transaction() as conn:
            return _term_out.dump(store.create_term(conn, term))

    @rpc(expected_exceptions=EXPECTED)
    def list_terms(self, limit=50, offset=0, with_total=False):
        with self.db.transaction() as conn:
            rows = store.list_terms(conn, *page(limit, offset))
        return listed(_term_out.dump(rows, many=True), rows, with_total)

    # courses

    def _bookings(self):
        """The room bookings of one change, undone if it does not commit (workflows.RoomBookings)."""
        return workflows.RoomBookings(self.venues.release_series, partial(workflows.restore, self.venues, self.db))

    def _create(self, conn, course, rooms):
        publish = course.pop("publish", True)
        schedule = course.pop("schedule", None)
        term = workflows.course_term(conn, course.get("term_id"))
        times = workflows.session_times(schedule, term)
        room = workflows.check_room(self.venues, course.get("room_id"))
        if room and not course.get("site_id"):
            course["site_id"] = room.get("site_id")
        course_id = store.create_course(conn, course, self.caller.id, domain.DRAFT)
        store.replace_sessions(conn, course_id, times)
        if publish:
            return workflows.publish(conn, self.outbox, self.venues, course_id, rooms)
        return _course_out.dump(store.get_course(conn, course_id))

    @rpc(expected_exceptions=EXPECTED)
    def create_course(self, data):
        self.caller.require(*CLASS_STAFF)
        course = load(_course_in, data)
        with self._bookings() as rooms, self.db.transaction() as conn:  # nothing half-reserved
            return self._create(conn, course, rooms)

    @rpc(expected_exceptions=EXPECTED)
    def publish_course(self, course_id):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self._bookings() as rooms, self.db.transaction() as conn:
            store.hold_changes(conn, course_id)  # it stays a draft until workflows.publish takes the row lock
            course = store.read_course(conn, course_id)
            if course["state"] != domain.DRAFT:
                raise Conflict(f"the course is {course['state']}, not a draft", "not-a-draft")
            return workflows.publish(conn, self.outbox, self.venues, course_id, rooms)

    @rpc(expected_exceptions=EXPECTED)
    def update_course(self, course_id, data, read_versions=None):
        """Change a course. A published course may get its timetable or room later (a schedule to be
        announced) or change them: see workflows.book_new_timetable and _reschedule. `read_versions`
        (If-Match) refuses a stale edit: before venues is asked, and again under the row lock."""
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        changes = load(_course_update, data)
        with self._bookings() as rooms, self.db.transaction() as conn:
            # venues is asked first, under the course's turn for changes but not its row lock,
            # so enrolments into it go on meanwhile; the row lock comes after, for the writes
            store.hold_changes(conn, course_id)
            course = store.read_course(conn, course_id)
            self._check_fresh(course, read_versions)
            if course["state"] == domain.CANCELLED_COURSE:
                raise Conflict("the course is cancelled", "course-cancelled")
            self._check_changes(course, changes)
            plan = times = None
            if course["state"] == domain.PUBLISHED and ("schedule" in changes or "room_id" in changes):
                plan = workflows.book_new_timetable(conn, self.venues, course, changes, rooms)
            else:
                if "schedule" in changes:  # a draft: nothing is reserved yet
                    term_id = changes.get("term_id", course["term_id"])
                    times = workflows.session_times(changes.pop("schedule"), workflows.course_term(conn, term_id))
                elif "term_id" in changes:
                    workflows.course_term(conn, changes["term_id"])
                if "room_id" in changes:
                    workflows.check_room(self.venues, changes["room_id"])
            course = store.lock_course(conn, course_id)
            self._check_fresh(course, read_versions)  # changed while venues answered: booked back, refused
            self._check_changes(course, changes)  # seats taken may have grown while venues answered
            if plan is not None:
                self._reschedule(conn, course, plan, rooms)
            elif times is not None:
                store.replace_sessions(conn, course_id, times)
            store.update_course(conn, course_id, changes)
            if course["state"] == domain.PUBLISHED:
                self._fill(conn, store.lock_course(conn, course_id))
                workflows.course_event(conn, self.outbox, "course_updated", course_id)
            return _course_out.dump(store.get_course(conn, course_id))

    @staticmethod
    def _check_fresh(course, read_versions):
        stale = domain.stale_edit_problem(course["version"], read_versions)
        if stale:
            raise PreconditionFailed(stale)

    @staticmethod
    def _check_changes(course, changes):
        merged = {**course, **changes}
        if merged["closes_at"] is not None and merged["closes_at"] <= merged["opens_at"]:
            raise Invalid("bad window", errors={"closes_at": ["must be after opens_at"]})
        ages = merged["min_age"], merged["max_age"]
        if None not in ages and ages[1] < ages[0]:
            raise Invalid("bad ages", errors={"max_age": ["must not be below min_age"]})
        if changes.get("capacity") is not None and changes["capacity"] < course["confirmed_count"]:
            raise Conflict(f"{course['confirmed_count']} seats are taken: capacity cannot go below that",
                           "capacity-below-taken", {"capacity": [f"at least {course['confirmed_count']}"]})

    def _reschedule(self, conn, course, plan, rooms):
        """Under the course's row lock, the new timetable and room workflows.book_new_timetable reserved.
        Sessions already begun stay as they were. A member whose seat would now overlap another
        class of theirs loses this seat (the overlap rule holds) and is told why; the freed seats
        go down the waitlist. Everyone with an entry is told of the new timetable."""
        course_id, now, before = course["id"], course["now"], plan["before"]
        if course["state"] != domain.PUBLISHED or course["room_series"] != plan["room_series"]:
            # another change came first (changes take turns, so only by a path that does not):
            # refused, and update_course books the old room back in place of this reservation
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
                    self._drop(conn, course, entry["id"], "the new timetable overlaps another class you hold")
                    dropped.append(entry["member_id"])
        members = store.members_with(conn, course_id, domain.LIVE)
        room, room_id = plan["room"], plan["room_id"]
        if members or dropped:
            self.outbox(conn, "course_rescheduled", _rescheduled_event.dump({
                "course_id": course_id, "course_title": course["title"], "member_ids": members,
                "announced": not before and bool(sessions), "sessions": len(sessions),
                "first_session_at": _iso(sessions[0]["starts_at"]) if sessions else None,
                "room_id": room_id, "room_name": room and room.get("name"), "site_name": room and room.get("site_name"),
                "dropped_member_ids": dropped}))

    @rpc(expected_exceptions=EXPECTED)
    def cancel_course(self, course_id, data=None):
        """Staff call a course off: every entry is cancelled, its room released, members told."""
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        reason = load(_cancel_in, data or {}).get("reason") or "cancelled by the palace"
        with self._bookings() as rooms, self.db.transaction() as conn:
            store.hold_changes(conn, course_id)
            course = store.lock_course(conn, course_id)
            if course["state"] == domain.CANCELLED_COURSE:
                raise Conflict("the course is already cancelled", "course-cancelled")
            holders = [workflows.series_holder(course_id, course["room_series"]),
                       *({"service": self.name, "reference": r} for r in store.session_holders(conn, course_id))]
            members = store.members_with(conn, course_id, domain.LIVE)
            for entry in store.course_enrolments(conn, course_id, 100_000, 0):
                if entry["status"] != domain.CANCELLED:
                    store.release_slots(conn, entry["id"])
                    store.give_back_term_place(conn, entry["member_id"], course["term_id"])
                    store.set_status(conn, entry["id"], domain.CANCELLED, reason=reason, by=self.caller.id)
            store.move_seats(conn, course_id, -course["confirmed_count"])
            store.set_course_state(conn, course_id, domain.CANCELLED_COURSE)
            if course["room_id"] is not None:  # released once the cancellation commits
                rooms.given_up.extend(holders)
            return workflows.course_event(conn, self.outbox, "course_cancelled", course_id, member_ids=members, reason=reason)

    @rpc(expected_exceptions=EXPECTED)
    def get_course(self, course_id):
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            course = store.get_course(conn, course_id)
        if course["state"] == domain.DRAFT and not self.caller.has(*CLASS_STAFF):
            raise NotFound(f"course {course_id} does not exist", "course-not-found")
        return _course_out.dump(course)

    @rpc(expected_exceptions=EXPECTED)
    def list_courses(self, limit=50, offset=0, filters=None, with_total=False):
        with self.db.transaction() as conn:
            rows = store.list_courses(conn, filters or {}, *page(limit, offset), drafts=self.caller.has(*CLASS_STAFF))
        return listed(_course_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def course_enrolments(self, course_id, status=None, limit=50, offset=0, with_total=False):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            store.get_course(conn, course_id)
            rows = store.course_enrolments(conn, course_id, *page(limit, offset), status)
        return listed(_enrolment_out.dump(rows, many=True), rows, with_total)

    # enrolment

    def _enrolment_event(self, conn, event_type, course, enrolment, figures=None, **extra):
        payload = {**(figures or store.counts(conn, course["id"])), "enrolment_id": enrolment["id"],
                   "course_title": course["title"], "member_id": enrolment["member_id"],
                   "status": enrolment["status"], "position": enrolment.get("position"),
                   "seats": enrolment["seats"], "first_session_at": _iso(course.get("first_session_at")), **extra}
        self.outbox(conn, event_type, _enrolment_event.dump(payload))

    def _block_of(self, conn, member_id, now):
        return self._blocked(store.standing(conn, member_id, None)["strikes"], now)

    def _blocked(self, strikes_by_term, now):
        until = [domain.blocked_until([_moment(t) for t in times], now, STRIKE_LIMIT, STRIKE_BLOCK_DAYS)
                 for times in strikes_by_term]
        until = [u for u in until if u]
        return max(until) if until else None

    @rpc(expected_exceptions=EXPECTED)
    def enrol(self, course_id, data=None):
        """Enrol the calling member: a seat if one is free, else a place on the waitlist; in a
        lottery course, interest registered for the draw."""
        course_id = object_id(course_id, "course")
        member_id, key = self.caller.require(), self.caller.idempotency_key
        request = load(_enrol_in, data or {})
        try:
            return self._enrol(course_id, member_id, key, request)
        except store.RequestDone:  # a retry racing its own first attempt, which won, gets what it got
            with self.db.transaction() as conn:
                replay, _live = store.member_entries(conn, course_id, member_id, key)
            if replay is None:
                raise Conflict("the member is already enrolled in this course", "already-enrolled") from None
            return self._replay(replay, course_id)

    def _birth_date(self, request):
        """The account's birth date when it has one (what the member types is then ignored);
        else the date the member declares."""
        if self.caller.birth_date:
            return date.fromisoformat(self.caller.birth_date)
        return request.get("birth_date")

    @staticmethod
    def _replay(replay, course_id):
        if str(replay["course_id"]) != course_id:
            raise Conflict("this Idempotency-Key was used for another course", "idempotency-key-reused")
        return _enrolment_out.dump(replay)

    def _enrol(self, course_id, member_id, key, request):
        seats_wanted = request["seats"]
        with self.db.transaction() as conn:
            # what concerns only the member is read in one statement before the course lock, to
            # hold it briefly: a clash that slips in meanwhile is still refused by the exclusion
            # constraint, a duplicate by the unique indexes (a retry racing its first try: RequestDone)
            standing = store.standing(conn, member_id, course_id, key)
            if standing["replay_id"] is not None:
                return self._replay(store.get_enrolment(conn, standing["replay_id"]), course_id)
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
                birth_date=self._birth_date(request), unit_id=self.caller.unit,
                today=course["now"].astimezone(HOME_ZONE).date())
            if problem:
                raise Forbidden(problem, "not-eligible", {"course_id": [problem]})
            until = self._blocked(standing["strikes"], course["now"])
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
                                                     self._birth_date(request))
            if status in domain.EVENT_FOR_STATUS:
                extra = {"draw_at": _iso(course["draw_at"])} if status == domain.REGISTERED else {}
                self._enrolment_event(conn, domain.EVENT_FOR_STATUS[status], course, enrolment, figures=figures,
                                      **extra)
        return _enrolment_out.dump(enrolment)

    def _fill(self, conn, course):
        """Seats freed under the course lock go to the head of the line, in the same transaction:
        promoted at once, or offered for `offer_hours` where the course says so. An entry whose
        sessions now clash with another class of the member's is dropped with the reason."""
        if course["state"] != domain.PUBLISHED or (course["allocation"] == domain.LOTTERY and not course["drawn_at"]):
            return
        while True:
            free = store.counts(conn, course["id"])["seats_left"]
            line = store.waitlist(conn, course["id"])
            chosen = domain.next_in_line([(e["id"], e["seats"]) for e in line], free)
            if not chosen:
                return
            entry = line[0]
            if course["offer_hours"]:
                expires = domain.offer_expiry(datetime.now(timezone.utc), course["offer_hours"])
                store.set_status(conn, entry["id"], domain.OFFERED, offer_expires_at=expires)
                store.move_seats(conn, course["id"], entry["seats"])
                self._enrolment_event(conn, "offer_made", course, store.get_enrolment(conn, entry["id"]),
                                      offer_expires_at=_iso(expires), expires_at=_iso(expires))
                continue
            self._confirm(conn, course, entry, "enrolment_promoted", refused="not promoted: ")

    def _confirm(self, conn, course, entry, event, refused=None, seats_held=False):
        """Give an entry its seat, under the course lock: the times of its sessions claimed, its
        seats counted (unless an offer holds them already), the member told by `event`. A clash
        with another class of the member's is raised, or, given `refused` (the start of the
        reason), drops the entry instead."""
        try:
            store.claim_slots(conn, entry["id"], entry["member_id"], course["id"])
        except Conflict as exc:
            if refused is None:
                raise
            self._drop(conn, course, entry["id"], f"{refused}{exc.detail}")
            return None
        store.set_status(conn, entry["id"], domain.CONFIRMED)
        if not seats_held:
            store.move_seats(conn, course["id"], entry["seats"])
        confirmed = store.get_enrolment(conn, entry["id"])
        self._enrolment_event(conn, event, course, confirmed)
        return confirmed

    def _drop(self, conn, course, enrolment_id, reason, by=None, event="enrolment_cancelled"):
        """Cancel one entry under the course lock, giving back its seats, time and term place."""
        entry = store.get_enrolment(conn, enrolment_id)
        if entry["status"] in (domain.CONFIRMED, domain.OFFERED):
            store.move_seats(conn, course["id"], -entry["seats"])
        store.release_slots(conn, enrolment_id)
        store.give_back_term_place(conn, entry["member_id"], course["term_id"])
        store.set_status(conn, enrolment_id, domain.CANCELLED, reason=reason, by=by)
        self._enrolment_event(conn, event, course, store.get_enrolment(conn, enrolment_id), reason=reason)
        return entry

    @rpc(expected_exceptions=EXPECTED)
    def cancel_enrolment(self, enrolment_id, reason=None):
        """The member (a seat before the cut-off; a waitlist place, an offer or a lottery entry at
        any time) or staff cancel; the freed seats go to the next in line in the same transaction."""
        enrolment_id = object_id(enrolment_id, "enrolment")
        reason = load(_cancel_in, {"reason": reason} if reason else {}).get("reason")
        staff = self.caller.has(*CLASS_STAFF)
        with self.db.transaction() as conn:
            course = store.lock_course(conn, store.enrolment_course(conn, enrolment_id))
            entry = store.get_enrolment(conn, enrolment_id)
            if str(entry["member_id"]) != self.caller.id and not staff:
                raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
            cutoff = None if staff else (course["cancel_cutoff"] or domain.default_cutoff(course["first_session_at"]))
            problem = domain.member_cancel_problem(entry["status"], course["now"], cutoff)
            if problem:
                raise Conflict(problem, "cannot-cancel")
            mine = str(entry["member_id"]) == self.caller.id
            self._drop(conn, course, enrolment_id,
                       reason or ("cancelled by the member" if mine else "cancelled by the palace"),
                       by=self.caller.id)
            self._fill(conn, course)
            return _enrolment_out.dump(store.get_enrolment(conn, enrolment_id))

    @rpc(expected_exceptions=EXPECTED)
    def accept_offer(self, enrolment_id):
        enrolment_id = object_id(enrolment_id, "enrolment")
        member_id = self.caller.require()
        with self.db.transaction() as conn:
            course = store.lock_course(conn, store.enrolment_course(conn, enrolment_id))
            entry = store.get_enrolment(conn, enrolment_id)
            if str(entry["member_id"]) != member_id:
                raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
            if entry["status"] != domain.OFFERED:
                raise Conflict(f"there is no open offer: the enrolment is {entry['status']}", "no-offer")
            if entry["offer_expires_at"] <= course["now"]:
                raise Conflict("the offer has expired", "offer-expired")
            return _enrolment_out.dump(self._confirm(conn, course, entry, "enrolment_confirmed", seats_held=True))

    @timer(interval=TICK)
    def expire_offers(self):
        with self.db.transaction() as conn:
            due = store.expired_offers(conn)
        for course_id in due:
            with self.db.transaction() as conn:
                course = store.lock_course(conn, course_id)
                for offer in store.expired_offers_of(conn, course_id):
                    self._drop(conn, course, offer["id"], "the offer expired", event="offer_expired")
                self._fill(conn, course)

    @rpc(expected_exceptions=EXPECTED)
    def get_enrolment(self, enrolment_id):
        enrolment_id = object_id(enrolment_id, "enrolment")
        with self.db.autocommit() as conn:
            enrolment = store.get_enrolment(conn, enrolment_id)
        if str(enrolment["member_id"]) != self.caller.id and not self.caller.has(*CLASS_STAFF):
            # a member may not learn that someone else's enrolment exists
            raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
        return _enrolment_out.dump(enrolment)

    @rpc(expected_exceptions=EXPECTED)
    def my_enrolments(self, limit=50, offset=0, with_total=False):
        with self.db.transaction() as conn:
            rows = store.member_enrolments(conn, self.caller.id, *page(limit, offset))
        return listed(_enrolment_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def my_sessions(self, starts_from, starts_before):
        """The caller's class sessions (courses they hold a confirmed seat in) starting in [from, before)."""
        with self.db.transaction() as conn:
            rows = store.member_sessions(conn, self.caller.require(), starts_from, starts_before)
        return [{"id": str(r["id"]), "course_id": str(r["course_id"]), "title": r["title"],
                 "starts_at": r["starts_at"].isoformat(), "ends_at": r["ends_at"].isoformat(),
                 "site_id": r["site_id"] and str(r["site_id"]), "room_id": r["room_id"] and str(r["room_id"])}
                for r in rows]

    # lottery

    def _draw(self, conn, course, by):
        """Draw a lottery course under its lock: seed and inputs stored, seats by draw order with
        priority to members who hold no seat this term, the rest waitlisted in draw order."""
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
                self._confirm(conn, course, entry, "enrolment_confirmed", refused="drawn, but ")
            else:
                store.waitlist_again(conn, course["id"], outcome["enrolment_id"])
                self._enrolment_event(conn, "enrolment_waitlisted", course,
                                      store.get_enrolment(conn, outcome["enrolment_id"]))
        self._fill(conn, course)
        self.outbox(conn, "lottery_drawn", _lottery_event.dump({
            **store.counts(conn, course["id"]), "course_title": course["title"],
            "member_ids": [r["member_id"] for r in result],
            "confirmed_member_ids": [r["member_id"] for r in result if r["outcome"] == domain.CONFIRMED],
            "waitlisted_member_ids": [r["member_id"] for r in result if r["outcome"] == domain.WAITLISTED],
            "seed": seed, "result": "the draw is done; your seat or waitlist place is in your enrolments"}))
        return store.get_lottery(conn, course["id"])

    def _lottery_answer(self, row):
        return _lottery_out.dump({**row, "reproduced": domain.draw(row["seed"], row["inputs"], row["seats"])
                                  == row["result"]})

    @rpc(expected_exceptions=EXPECTED)
    def draw_lottery(self, course_id):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            course = store.lock_course(conn, course_id)
            if course["allocation"] != domain.LOTTERY:
                raise Conflict("the course allocates first come, first served", "not-a-lottery")
            if course["drawn_at"] is not None:
                raise Conflict("the lottery has been drawn already", "already-drawn")
            if course["state"] != domain.PUBLISHED:
                raise Conflict(f"the course is {course['state']}", "course-not-open")
            return self._lottery_answer(self._draw(conn, course, self.caller.id))

    @rpc(expected_exceptions=EXPECTED)
    def get_lottery(self, course_id):
        """The audit of a draw: seed, inputs, result, and whether re-running it gives the result."""
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            return self._lottery_answer(store.get_lottery(conn, course_id))

    @timer(interval=TICK)
    def draw_due_lotteries(self):
        with self.db.transaction() as conn:
            due = store.due_lotteries(conn)
        for course_id in due:
            with self.db.transaction() as conn:
                course = store.lock_course(conn, course_id)
                if course["drawn_at"] is None and course["state"] == domain.PUBLISHED:
                    self._draw(conn, course, None)

    # sessions, attendance, strikes

    @rpc(expected_exceptions=EXPECTED)
    def session_code(self, session_id):
        self.caller.require(*CLASS_STAFF)
        session_id = object_id(session_id, "session")
        with self.db.transaction() as conn:
            return _session_code.dump(store.get_session(conn, session_id))

    @rpc(expected_exceptions=EXPECTED)
    def record_attendance(self, session_id, data):
        session_id = object_id(session_id, "session")
        request = load(_attendance_in, data)
        with self.db.transaction() as conn:
            session = store.get_session(conn, session_id, lock=True)
            if session["state"] != "scheduled":
                raise Conflict(f"the session is {session['state']}", "session-not-held")
            now = store.now(conn)
            if "marks" in request:
                self.caller.require(*CLASS_STAFF)
                problem = domain.attendance_problem(session["starts_at"], now, "teacher")
                if problem:
                    raise Conflict(problem, "attendance-not-open")
                marked, strangers = [], []
                for item in request["marks"]:
                    enrolment = store.confirmed_enrolment(conn, session["course_id"], item["member_id"])
                    if enrolment is None:
                        strangers.append(str(item["member_id"]))
                        continue
                    marked.append(store.mark(conn, session, item["member_id"], enrolment["id"], item["present"],
                                             "teacher", self.caller.id))
                if strangers:
                    raise Invalid("some members hold no seat in this course", errors={
                        "marks": [f"{m} holds no seat in this course" for m in strangers]})
            else:
                member_id = self.caller.require()
                enrolment = store.confirmed_enrolment(conn, session["course_id"], member_id)
                if enrolment is None:
                    raise Forbidden("only members with a seat in the course can check in", "no-seat")
                problem = domain.attendance_problem(session["starts_at"], now, "check_in")
                if problem:
                    raise Conflict(problem, "check-in-closed")
                if request["code"].strip() != session["checkin_code"]:
                    raise Invalid("the check-in code is wrong", "wrong-code", {"code": ["does not match"]})
                marked = [store.mark(conn, session, member_id, enrolment["id"], True, "check_in", member_id)]
        return _attendance_out.dump({"session_id": session_id, "marked": marked})

    @rpc(expected_exceptions=EXPECTED)
    def member_strikes(self, member_id):
        member_id = object_id(member_id, "member")
        if member_id != self.caller.id and not self.caller.has(*CLASS_STAFF):
            raise Forbidden("members see only their own strikes", "forbidden")
        with self.db.transaction() as conn:
            now = store.now(conn)
            return _strikes_out.dump({"member_id": member_id, "blocked_until": self._block_of(conn, member_id, now),
                                      "strikes": store.strikes(conn, member_id)})

    @rpc(expected_exceptions=EXPECTED)
    def clear_strikes(self, member_id, data):
        self.caller.require(*CLASS_STAFF)
        member_id = object_id(member_id, "member")
        reason = load(_clear_in, data)["reason"]
        with self.db.transaction() as conn:
            store.clear_strikes(conn, member_id, self.caller.id, reason)
            now = store.now(conn)
            return _strikes_out.dump({"member_id": member_id, "blocked_until": self._block_of(conn, member_id, now),
                                      "strikes": store.strikes(conn, member_id)})

    @timer(interval=TICK)
    def announce_sessions(self):
        """session_upcoming for each session starting within REMIND_HOURS, once."""
        with self.db.transaction() as conn:
            for session in store.due_reminders(conn, REMIND_HOURS):
                members = store.members_with(conn, session["course_id"])
                if members:
                    self.outbox(conn, "session_upcoming", _session_event.dump({
                        "session_id": session["id"], "course_id": session["course_id"],
                        "course_title": session["course_title"], "member_ids": members,
                        "starts_at": _iso(session["starts_at"]), "ends_at": _iso(session["ends_at"]),
                        "state": session["state"]}))
                store.mark_reminded(conn, session["id"])

    @reliable_handler("venues", "booking_cancelled")
    def on_booking_cancelled(self, conn, event):
        """A room booking a session depends on was cancelled by venues: the session moves, at its
        time, to another free room of the same site, or, with none free, is cancelled; the members
        with a seat are told which. (Cancellations we caused, of a series replaced or released,
        serve no session any more and are passed over.)"""
        self._room_lost(conn, event["payload"], released=False)

    @reliable_handler("venues", "booking_released")
    def on_booking_released(self, conn, event):
        """Venues released a booking nobody checked in to, once its time had begun: too late to
        move the session, which is marked room_lost for staff."""
        self._room_lost(conn, event["payload"], released=True)

    def _room_lost(self, conn, payload, released):
        if payload.get("holder_service") != self.name or payload.get("cause") in OUR_CAUSES:
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
        current = reference == workflows.series_holder(course_id, course["room_series"])["reference"]
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
        with self._bookings() as rooms:  # the move did not commit: nor does its booking
            rebooked = workflows.free_room(self.venues, course, session, payload, rooms)
            course = store.lock_course(conn, course_id)
            session = found(True)  # the same, as changes of the course take turns; read again under the lock
            if session is None or session["state"] != "scheduled":
                rooms.undo()
                return
            if rebooked:
                room, booking_id, holder = rebooked
                store.rebook_session(conn, session["id"], room["id"], booking_id, holder["reference"])
            told = {"session_id": session["id"], "course_id": course_id, "course_title": course["title"],
                    "member_ids": store.members_with(conn, course_id), "starts_at": _iso(session["starts_at"]),
                    "ends_at": _iso(session["ends_at"]), "old_starts_at": _iso(session["starts_at"]),
                    "old_room_name": payload.get("room_name"),
                    "reason": payload.get("reason") or "the room is no longer available",
                    "cause": payload.get("cause"), "note": payload.get("note")}
            if rebooked:
                self.outbox(conn, "session_moved", _session_event.dump({
                    **told, "state": "scheduled", "room_id": room["id"], "room_name": room.get("name")}))
            else:
                store.set_session_state(conn, session["id"], "cancelled")
                self.outbox(conn, "session_cancelled", _session_event.dump({**told, "state": "cancelled"}))
            store.bump_version(conn, course_id)
            workflows.course_event(conn, self.outbox, "course_updated", course_id)

    # certificates

    @rpc(expected_exceptions=EXPECTED)
    def certificate(self, enrolment_id):
        """The member's completion certificate, issued the first time it is asked for and earned."""
        enrolment_id = object_id(enrolment_id, "enrolment")
        with self.db.transaction() as conn:
            entry = store.get_enrolment(conn, enrolment_id)
            if str(entry["member_id"]) != self.caller.id and not self.caller.has(*CLASS_STAFF):
                raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
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
                    self.outbox(conn, "certificate_issued", _certificate_event.dump({
                        "member_id": entry["member_id"], "enrolment_id": enrolment_id,
                        "course_id": entry["course_id"], "course_title": course["title"], "code": issued["code"]}))
            return _certificate_out.dump(issued)

    @rpc(expected_exceptions=EXPECTED)
    def verify_certificate(self, code):
        if not isinstance(code, str) or not 1 <= len(code) <= 64 or not code.isalnum():
            raise NotFound("no certificate has this verification code", "certificate-not-found")
        with self.db.transaction() as conn:
            row = store.certificate_by_code(conn, code)
        return _certificate_check.dump({**row, "valid": True})

    # class requests (点单式服务)

    @rpc(expected_exceptions=EXPECTED)
    def create_class_request(self, data):
        self.caller.require(UNIT_ADMIN)
        if not self.caller.unit:
            raise Forbidden("only a unit administrator can request a class for the unit", "forbidden")
        request = load(_request_in, data)
        with self.db.transaction() as conn:
            return _request_out.dump(store.create_class_request(conn, request, self.caller.unit, self.caller.id))

    @rpc(expected_exceptions=EXPECTED)
    def list_class_requests(self, limit=50, offset=0, with_total=False):
        self.caller.require(ADMIN, UNIT_ADMIN)
        if self.caller.has(ADMIN):
            unit = None
        elif self.caller.unit:
            unit = self.caller.unit
        else:
            raise Forbidden("class requests are seen by unit administrators and staff", "forbidden")
        with self.db.transaction() as conn:
            rows = store.class_requests(conn, unit, *page(limit, offset))
        return listed(_request_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def decide_class_request(self, request_id, data):
        self.caller.require(ADMIN)
        request_id = object_id(request_id, "class-request")
        decision = load(_decision_in, data)
        with self._bookings() as rooms, self.db.transaction() as conn:
            request = store.lock_class_request(conn, request_id)
            problem = domain.decision_problem(request["state"])
            if problem:
                raise Conflict(problem, "already-decided")
            course_id = None
            if decision["decision"] == "approve":
                raw = {"title": request["title"], "capacity": request["capacity"],
                       "site_id": str(request["site_id"]), "unit_ids": [str(request["unit_id"])],
                       **{k: request[k] for k in ("category", "description") if request[k]},
                       **(data.get("course") or {})}
                course = load(_course_in, raw)
                course_id = self._create(conn, course, rooms)["id"]
            state = "approved" if decision["decision"] == "approve" else "declined"
            row = store.decide_class_request(conn, request_id, state, decision.get("reason"), course_id,
                                             self.caller.id)
            self.outbox(conn, "class_request_decided", _decided_event.dump({
                "member_id": request["requested_by"], "request_id": request_id, "unit_id": request["unit_id"],
                "title": request["title"], "decision": state, "reason": decision.get("reason"),
                "course_id": course_id}))
            return _request_out.dump(row)
