"""The enrolment service's nameko entrypoints: parse the input, check the caller, open the transaction,
call the use case (workflows.py), dump the answer."""
import logging
from datetime import date
from functools import partial

from nameko.timer import timer

from services.common import config, reports
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound, PreconditionRequired
from services.common.events import closed_member
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.params import listed, load, object_id, page
from services.common.retention import Retention
from services.common.roles import ADMIN, CLASS_STAFF, DESK, ROSTER_READERS, STAFF, TEACHER, UNIT_ADMIN
from services.common.rpc import RpcProxy, rpc
from services.common.zone import HOME_ZONE
from services.enrolment import domain, events, schemas, store, workflows
from services.enrolment.workflows import Enrollee

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
_member_enrolment_out = schemas.MemberEnrolmentSchema()
_cancel_in = schemas.CancelSchema()
_lottery_out = schemas.LotterySchema()
_session_code = schemas.SessionCodeSchema()
_attendance_in, _attendance_out = schemas.AttendanceRequestSchema(), schemas.AttendanceResultSchema()
_strikes_out, _clear_in = schemas.StrikesSchema(), schemas.ClearStrikesSchema()
_certificate_out, _certificate_check = schemas.CertificateSchema(), schemas.CertificateCheckSchema()
_certificate_document = schemas.CertificateDocumentSchema()
_request_in, _request_out = schemas.ClassRequestCreateSchema(), schemas.ClassRequestSchema()
_decision_in = schemas.ClassRequestDecisionSchema()
_roster_out, _teaching_out = schemas.RosterEntrySchema(), schemas.TeachingSchema()
_requested_event = events.ClassRequestSubmittedSchema()


class EnrolmentService:
    name = "enrolment"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()
    retention = Retention()
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

    def _runs(self, teacher_ids, readers=(ADMIN,)):
        return domain.runs_course(self.caller.roles, self.caller.id, teacher_ids, readers)

    def _staff_side(self, conn, course_id, readers=(ADMIN,)):
        """The course's staff side is the caller's (an admin, or a teacher it names), else it is
        hidden: 404, as for a course that does not exist."""
        if not self._runs(store.course_teachers(conn, course_id), readers):
            raise NotFound(f"course {course_id} does not exist", "course-not-found")

    @rpc(expected_exceptions=EXPECTED)
    def create_course(self, data):
        self.caller.require(*CLASS_STAFF)
        course = load(_course_in, data)
        if not self.caller.has(ADMIN):  # a teacher's course is theirs to run
            course["teacher_ids"] = domain.with_teacher(course.get("teacher_ids"), self.caller.id)
        with self._bookings() as rooms, self.db.transaction() as conn:  # nothing half-reserved
            return workflows.create_course(conn, self.outbox, self.venues, course, self.caller.id, rooms)

    @rpc(expected_exceptions=EXPECTED)
    def publish_course(self, course_id):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self._bookings() as rooms, self.db.transaction() as conn:
            self._staff_side(conn, course_id)
            return workflows.publish_draft(conn, self.outbox, self.venues, course_id, rooms)

    @rpc(expected_exceptions=EXPECTED)
    def update_course(self, course_id, data, read_versions=None, version_required=False):
        """Change a course (workflows.change_course); `read_versions` (If-Match) refuses a stale edit.
        `version_required` (the HTTP API's PATCH): an edit naming no version is refused (428), once the
        caller is known to see the course, so the answer tells nothing about a course hidden from them."""
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self._bookings() as rooms, self.db.transaction() as conn:
            self._staff_side(conn, course_id)  # before the body: to others the course is not there
            if version_required and read_versions is None:
                raise PreconditionRequired(
                    "send If-Match with the course's ETag (its version, as you read it), or If-Match: * to change"
                    " it whatever its version", errors={"If-Match": ["is required"]})
            changes = load(_course_update, data)
            if "teacher_ids" in changes and not self.caller.has(ADMIN):
                raise Forbidden("only admins change a course's teachers", "forbidden",
                                {"teacher_ids": ["changed by admins only"]})
            course = workflows.change_course(conn, self.outbox, self.venues, course_id, changes, read_versions,
                                             rooms)
            return _course_out.dump(course)

    @rpc(expected_exceptions=EXPECTED)
    def regenerate_timetables(self, apply=False):
        """Ops (`palace courses regenerate`): the published courses whose weekly sessions still to
        come differ from what the recurrence helper lays out on the working calendar (courses made
        before it), each with the starts it gains and loses; changed too when `apply`, a course per
        transaction (workflows.regenerate_timetable). Only palace's own tooling calls it (trust)."""
        with self.db.transaction() as conn:
            course_ids = store.courses_to_come(conn)
        found = []
        for course_id in course_ids:
            try:
                with self._bookings() as rooms, self.db.transaction() as conn:
                    change = workflows.regenerate_timetable(conn, self.outbox, self.venues, course_id, rooms, apply)
            except (Conflict, Invalid) as exc:  # a room taken on a make-up day, say: the others go on
                found.append({"course_id": course_id, "problem": exc.detail})
                continue
            if change is not None:
                found.append({"course_id": course_id, "applied": bool(apply),
                              "adds": [t.astimezone(HOME_ZONE).isoformat() for t in change["adds"]],
                              "drops": [t.astimezone(HOME_ZONE).isoformat() for t in change["drops"]]})
        return found

    @rpc(expected_exceptions=EXPECTED)
    def cancel_course(self, course_id, data=None):
        """Staff call a course off: every entry is cancelled, its room released, members told."""
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self._bookings() as rooms, self.db.transaction() as conn:
            self._staff_side(conn, course_id)
            reason = load(_cancel_in, data or {}).get("reason") or "cancelled by the palace"
            return workflows.cancel_course(conn, self.outbox, course_id, reason, self.caller.id, rooms)

    @rpc(expected_exceptions=EXPECTED)
    def get_course(self, course_id):
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            course = store.get_course(conn, course_id)
        if course["state"] == domain.DRAFT and not self._runs(course["teacher_ids"]):
            raise NotFound(f"course {course_id} does not exist", "course-not-found")
        return _course_out.dump(course)

    @rpc(expected_exceptions=EXPECTED)
    def list_courses(self, limit=50, offset=0, filters=None, with_total=False):
        drafts = True if self.caller.has(ADMIN) else self.caller.has(TEACHER) and self.caller.id  # their own
        with self.db.transaction() as conn:
            rows = store.list_courses(conn, filters or {}, *page(limit, offset), drafts=drafts or False)
        return listed(_course_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def course_enrolments(self, course_id, status=None, limit=50, offset=0, with_total=False):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            self._staff_side(conn, course_id)
            rows = store.course_enrolments(conn, course_id, *page(limit, offset), status)
        return listed(_enrolment_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def course_roster(self, course_id, status=None, limit=50, offset=0, with_total=False):
        """Who is in the course (its live entries, or one status) with attendance so far: for its
        teachers, the desk and admins. Names and phones are the gateway's to add."""
        self.caller.require(*ROSTER_READERS)
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            self._staff_side(conn, course_id, readers=(ADMIN, DESK))
            rows = store.roster(conn, course_id, status, *page(limit, offset))
        return listed(_roster_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def my_teaching(self, limit=50, offset=0, with_total=False):
        """The courses that name the caller among their teachers, the next to meet first (an admin who
        does not also teach has none)."""
        teacher = self.caller.require(*CLASS_STAFF)
        with self.db.transaction() as conn:
            rows = store.teaching(conn, teacher, *page(limit, offset))
        return listed(_teaching_out.dump(rows, many=True), rows, with_total)

    # enrolment

    def _block_of(self, conn, member_id, now):
        strikes = store.standing(conn, member_id, None)["strikes"]
        return domain.block_end(strikes, now, STRIKE_LIMIT, STRIKE_BLOCK_DAYS)

    @rpc(expected_exceptions=EXPECTED)
    def enrol(self, course_id, data=None, member=None, clerk_name=None):
        """Enrol the calling member: a seat if one is free, else a place on the waitlist; in a
        lottery course, interest registered for the draw. The front desk names another member
        (`member_id`), whose account facts the gateway sends (`member`: id, birth_date, unit_id)."""
        course_id = object_id(course_id, "course")
        key = self.caller.idempotency_key
        request = load(_enrol_in, data or {})
        who = self._enrollee(request, member, clerk_name)
        try:
            with self.db.transaction() as conn:
                enrolment = workflows.enrol(conn, self.outbox, course_id, who, key, request["seats"],
                                            strike_limit=STRIKE_LIMIT, block_days=STRIKE_BLOCK_DAYS)
        except store.RequestDone:  # a retry racing its own first attempt, which won, gets what it got
            with self.db.transaction() as conn:
                replay, _live = store.member_entries(conn, course_id, who.member_id, key)
            if replay is None:
                raise Conflict("the member is already enrolled in this course", "already-enrolled") from None
            enrolment = workflows.replay(replay, course_id)
        return _enrolment_out.dump(enrolment)

    def _enrollee(self, request, member, clerk_name):
        """Who is enrolled, with the birth date and unit their eligibility is checked against (the
        member's, never the clerk's), and who acted for them (None: they did it themselves)."""
        caller_id = self.caller.require()
        named = request.pop("member_id", None)
        if named is None or str(named) == caller_id:
            return Enrollee(caller_id, self._birth_date(request, self.caller.birth_date), self.caller.unit)
        self.caller.require(DESK, ADMIN)
        if not member or str(member.get("id")) != str(named):
            raise Invalid("member_id: no such member", "validation-failed", {"member_id": ["is not a member's account"]})
        return Enrollee(str(named), self._birth_date(request, member.get("birth_date")), member.get("unit_id"),
                        caller_id, clerk_name)

    @staticmethod
    def _birth_date(request, on_account):
        """The account's birth date when it has one (what is typed is then ignored); else the date declared."""
        if on_account:
            return date.fromisoformat(str(on_account))
        return request.get("birth_date")

    @rpc(expected_exceptions=EXPECTED)
    def cancel_enrolment(self, enrolment_id, reason=None, clerk_name=None):
        """The member, the front desk for them or staff cancel an entry (workflows.cancel_entry)."""
        enrolment_id = object_id(enrolment_id, "enrolment")
        reason = load(_cancel_in, {"reason": reason} if reason else {}).get("reason")
        with self.db.transaction() as conn:
            entry = workflows.cancel_entry(conn, self.outbox, enrolment_id, self.caller, reason, clerk_name)
            return _enrolment_out.dump(entry)

    @rpc(expected_exceptions=EXPECTED)
    def accept_offer(self, enrolment_id):
        enrolment_id = object_id(enrolment_id, "enrolment")
        member_id = self.caller.require()
        with self.db.transaction() as conn:
            return _enrolment_out.dump(workflows.accept_offer(conn, self.outbox, enrolment_id, member_id))

    @timer(interval=TICK)
    def expire_offers(self):
        with self.db.transaction() as conn:
            due = store.expired_offers(conn)
        for course_id in due:
            with self.db.transaction() as conn:
                workflows.expire_offers(conn, self.outbox, course_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_enrolment(self, enrolment_id):
        enrolment_id = object_id(enrolment_id, "enrolment")
        with self.db.autocommit() as conn:
            enrolment = store.get_enrolment(conn, enrolment_id)
            mine = str(enrolment["member_id"]) == self.caller.id
            staff = not mine and self._runs(store.course_teachers(conn, enrolment["course_id"]))
        if not mine and not staff and not self.caller.has(DESK):
            # a member may not learn that someone else's enrolment exists
            raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
        return _enrolment_out.dump(enrolment)

    @rpc(expected_exceptions=EXPECTED)
    def my_enrolments(self, limit=50, offset=0, with_total=False):
        with self.db.transaction() as conn:
            rows = store.member_enrolments(conn, self.caller.id, *page(limit, offset))
        return listed(_member_enrolment_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def member_enrolments(self, member_id, limit=50, offset=0, with_total=False):
        """A member's entries for the front desk, newest first."""
        self.caller.require(DESK, ADMIN)
        member_id = object_id(member_id, "member")
        with self.db.transaction() as conn:
            rows = store.member_enrolments(conn, member_id, *page(limit, offset))
        return listed(_member_enrolment_out.dump(rows, many=True), rows, with_total)

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

    def _lottery_answer(self, row):
        return _lottery_out.dump({**row, "entrants": len(row["result"]),
                                  "reproduced": domain.draw(row["seed"], row["inputs"], row["seats"]) == row["result"]})

    @rpc(expected_exceptions=EXPECTED)
    def draw_lottery(self, course_id):
        self.caller.require(*CLASS_STAFF)
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            self._staff_side(conn, course_id)
            course = store.lock_course(conn, course_id)
            if course["allocation"] != domain.LOTTERY:
                raise Conflict("the course allocates first come, first served", "not-a-lottery")
            if course["drawn_at"] is not None:
                raise Conflict("the lottery has been drawn already", "already-drawn")
            if course["state"] != domain.PUBLISHED:
                raise Conflict(f"the course is {course['state']}", "course-not-open")
            return self._lottery_answer(workflows.draw(conn, self.outbox, course, self.caller.id))

    @rpc(expected_exceptions=EXPECTED)
    def get_lottery(self, course_id):
        """The audit of a draw: seed, inputs, result, and whether re-running it gives the result. The
        course's staff read all of it; anyone else the draw's facts and only their own rank."""
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            audit = self._lottery_answer(store.get_lottery(conn, course_id))
            if self._runs(store.course_teachers(conn, course_id)):
                return audit
        return domain.lottery_seen_by(audit, self.caller.id)

    @timer(interval=TICK)
    def draw_due_lotteries(self):
        with self.db.transaction() as conn:
            due = store.due_lotteries(conn)
        for course_id in due:
            with self.db.transaction() as conn:
                course = store.lock_course(conn, course_id)
                if course["drawn_at"] is None and course["state"] == domain.PUBLISHED:
                    workflows.draw(conn, self.outbox, course, None)

    # sessions, attendance, strikes

    @rpc(expected_exceptions=EXPECTED)
    def session_code(self, session_id):
        self.caller.require(*CLASS_STAFF)
        session_id = object_id(session_id, "session")
        with self.db.transaction() as conn:
            session = store.get_session(conn, session_id)
            self._session_staff(conn, session)
            return _session_code.dump(session)

    def _session_staff(self, conn, session):
        """A session's staff side is its course's: hidden from teachers of other courses."""
        if not self._runs(store.course_teachers(conn, session["course_id"])):
            raise NotFound(f"session {session['id']} does not exist", "session-not-found")

    @rpc(expected_exceptions=EXPECTED)
    def session_register(self, session_id):
        """The register as marked so far (staff of the course): a tablet's register reopened shows it."""
        self.caller.require(*CLASS_STAFF)
        session_id = object_id(session_id, "session")
        with self.db.transaction() as conn:
            self._session_staff(conn, store.get_session(conn, session_id))
            marked = store.register(conn, session_id)
        return _attendance_out.dump({"session_id": session_id, "marked": marked})

    @rpc(expected_exceptions=EXPECTED)
    def record_attendance(self, session_id, data):
        session_id = object_id(session_id, "session")
        with self.db.transaction() as conn:
            session = store.get_session(conn, session_id, lock=True)
            if self.caller.has(*CLASS_STAFF) and not (isinstance(data, dict) and "code" in data):
                self._session_staff(conn, session)  # a register: not there for teachers of other courses
            request = load(_attendance_in, data)
            if session["state"] != "scheduled":
                raise Conflict(f"the session is {session['state']}", "session-not-held")
            now = store.now(conn)
            if "marks" in request:
                teacher = self.caller.require(*CLASS_STAFF)
                marked = workflows.take_register(conn, session, request["marks"], teacher, now)
            else:
                member_id = self.caller.require()
                marked = [workflows.check_in(conn, session, request["code"], member_id, now)]
        return _attendance_out.dump({"session_id": session_id, "marked": marked})

    @rpc(expected_exceptions=EXPECTED)
    def member_strikes(self, member_id):
        member_id = object_id(member_id, "member")
        if member_id != self.caller.id and not self.caller.has(*CLASS_STAFF):
            raise Forbidden("members see only their own strikes", "forbidden")
        with self.db.transaction() as conn:
            if member_id != self.caller.id:
                self._member_staff(conn, member_id)
            now = store.now(conn)
            return _strikes_out.dump({"member_id": member_id, "blocked_until": self._block_of(conn, member_id, now),
                                      "strikes": store.strikes(conn, member_id)})

    @rpc(expected_exceptions=EXPECTED)
    def clear_strikes(self, member_id, data):
        self.caller.require(*CLASS_STAFF)
        member_id = object_id(member_id, "member")
        with self.db.transaction() as conn:
            self._member_staff(conn, member_id)
            reason = load(_clear_in, data)["reason"]
            # a teacher clears the strikes earned in their own courses, an admin all of them
            store.clear_strikes(conn, member_id, self.caller.id, reason,
                                teacher=None if self.caller.has(ADMIN) else self.caller.id)
            now = store.now(conn)
            return _strikes_out.dump({"member_id": member_id, "blocked_until": self._block_of(conn, member_id, now),
                                      "strikes": store.strikes(conn, member_id)})

    def _member_staff(self, conn, member_id):
        """A teacher sees the strikes of the members of their courses; anyone else's are hidden."""
        if not self.caller.has(ADMIN) and not store.taught_by(conn, member_id, self.caller.id):
            raise NotFound(f"member {member_id} does not exist", "member-not-found")

    @timer(interval=TICK)
    def announce_sessions(self):
        """session_upcoming for each session starting within REMIND_HOURS, once."""
        with self.db.transaction() as conn:
            workflows.announce_sessions(conn, self.outbox, REMIND_HOURS)

    @reliable_handler("venues", "booking_cancelled")
    def on_booking_cancelled(self, conn, event):
        """A room booking a session depends on was cancelled by venues: the session moves, at its
        time, to another free room of the same site, or, with none free, is cancelled; the members
        with a seat are told which. (Cancellations we caused, of a series replaced or released,
        serve no session any more and are passed over.)"""
        workflows.room_lost(conn, self.outbox, self.venues, self._bookings, event["payload"], released=False)

    @reliable_handler("venues", "booking_released")
    def on_booking_released(self, conn, event):
        """Venues released a booking nobody checked in to, once its time had begun: too late to
        move the session, which is marked room_lost for staff."""
        workflows.room_lost(conn, self.outbox, self.venues, self._bookings, event["payload"], released=True)

    @reliable_handler("gateway", "account_closed")
    def on_account_closed(self, conn, event):
        """A closed account: its open entries end and the person is erased (workflows.close_member)."""
        member_id = closed_member(event)
        if member_id is None:
            return
        workflows.close_member(conn, self.outbox, member_id)

    # certificates

    @rpc(expected_exceptions=EXPECTED)
    def certificate(self, enrolment_id):
        """The member's completion certificate, issued the first time it is asked for and earned."""
        enrolment_id = object_id(enrolment_id, "enrolment")
        with self.db.transaction() as conn:
            entry = store.get_enrolment(conn, enrolment_id)
            if str(entry["member_id"]) != self.caller.id and not self._runs(
                    store.course_teachers(conn, entry["course_id"])):
                raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
            issued = workflows.certificate(conn, self.outbox, entry)
            return _certificate_out.dump(issued)

    @rpc(expected_exceptions=EXPECTED)
    def verify_certificate(self, code):
        if not isinstance(code, str) or not 1 <= len(code) <= 64 or not code.isalnum():
            raise NotFound("no certificate has this verification code", "certificate-not-found")
        with self.db.transaction() as conn:
            row = store.certificate_by_code(conn, code)
        return _certificate_check.dump({**row, "valid": True})

    @rpc(expected_exceptions=EXPECTED)
    def certificate_document(self, code):
        """What the printable certificate shows, found by its verification code (anyone holding the code
        may print it, as anyone may check it): the member it names, for the gateway to put their name on."""
        if not isinstance(code, str) or not 1 <= len(code) <= 64 or not code.isalnum():
            raise NotFound("no certificate has this verification code", "certificate-not-found")
        with self.db.transaction() as conn:
            return _certificate_document.dump(store.certificate_by_code(conn, code))

    # class requests (点单式服务)

    @rpc(expected_exceptions=EXPECTED)
    def create_class_request(self, data):
        self.caller.require(UNIT_ADMIN)
        if not self.caller.unit:
            raise Forbidden("only a unit administrator can request a class for the unit", "forbidden")
        request = load(_request_in, data)
        with self.db.transaction() as conn:
            row = store.create_class_request(conn, request, self.caller.unit, self.caller.id)
            self.outbox(conn, "class_request_submitted", _requested_event.dump({
                "request_id": row["id"], "unit_id": row["unit_id"], "requested_by": row["requested_by"],
                "title": row["title"], "capacity": row["capacity"], "note": row["note"]}))
            return _request_out.dump(row)

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

        def course_for(request):  # checked as any new course is
            return load(_course_in, domain.requested_course(request, data.get("course")))

        with self._bookings() as rooms, self.db.transaction() as conn:
            row = workflows.decide_class_request(conn, self.outbox, self.venues, request_id, decision, self.caller.id,
                                                 rooms, course_for)
            return _request_out.dump(row)

    # the yearly report

    @rpc(expected_exceptions=EXPECTED)
    def report_figures(self, since, until, by=None):
        """Classes' figures over [since, until) for GET /v1/reports/summary, in SQL, by `by` where
        the records carry it (reports.BREAKDOWNS)."""
        self.caller.require(*STAFF)
        start, end = reports.checked(since, until, by)
        keyed = by in ("month", *store.REPORT_KEYS)
        figures = {}
        with self.db.transaction() as conn:
            reports.plain_plans(conn)
            figures.update(reports.collect(store.report_sessions(conn, start, end, by),
                                           ("courses_run", "sessions_held"), keyed))
            figures.update(reports.collect(store.report_attendance(conn, start, end, by),
                                           ("person_times", "trainees"), keyed))
            figures.update(reports.collect(store.report_enrolments(conn, start, end, by),
                                           ("enrolments", "waitlisted"), keyed))
        if by is not None and not keyed:
            reports.not_applicable(figures, f"classes are not recorded by {by}")
        return {"figures": figures, "labels": {}}
