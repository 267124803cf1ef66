"""The enrolment service's nameko entrypoints: parse, call the rules and the store, answer."""
from nameko.rpc import rpc

from services.common.context import CallerProvider
from services.common.db import Database
from services.common.metrics import Metrics
from services.common.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound
from services.common.outbox import Outbox
from services.common.params import load, object_id, page
from services.enrolment import domain, schemas, store

STAFF = ("admin", "teacher")

_course_in = schemas.CourseCreateSchema()
_course_out = schemas.CourseSchema()
_enrolment_out = schemas.EnrolmentSchema()
_enrolment_event = schemas.EnrolmentEventSchema()
_published_event = schemas.CoursePublishedSchema()


class EnrolmentService:
    name = "enrolment"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()
    caller = CallerProvider()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    @rpc(expected_exceptions=EXPECTED)
    def create_course(self, data):
        course = load(_course_in, data)
        with self.db.transaction() as conn:
            course_id = store.create_course(conn, course, self.caller.id)
            row = store.get_course(conn, course_id)
            self.outbox(conn, "course_published", _published_event.dump(
                {"course_id": course_id, "title": row["title"], "capacity": row["capacity"]}))
        return _course_out.dump(row)

    @rpc(expected_exceptions=EXPECTED)
    def get_course(self, course_id):
        course_id = object_id(course_id, "course")
        with self.db.transaction() as conn:
            return _course_out.dump(store.get_course(conn, course_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_courses(self, limit=50, offset=0):
        with self.db.transaction() as conn:
            return _course_out.dump(store.list_courses(conn, *page(limit, offset)), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def enrol(self, course_id):
        """Enrol the calling member: a seat if one is free, else a place on the waitlist."""
        course_id = object_id(course_id, "course")
        member_id, key = self.caller.id, self.caller.idempotency_key
        if not member_id:
            raise Forbidden("only a signed-in member can enrol", "not-a-member")
        with self.db.transaction() as conn:
            course = store.lock_course(conn, course_id)
            # looked up under the lock: a retry racing its own first attempt finds the seat it got
            replay = store.find_by_request(conn, member_id, key)
            if replay is not None:
                return _enrolment_out.dump(replay)
            closed = domain.enrolment_window_problem(course["now"], course["opens_at"], course["closes_at"])
            if closed:
                raise Invalid(closed, "enrolment-closed", {"course_id": [closed]})
            if store.live_enrolment(conn, course_id, member_id):
                raise Conflict("the member is already enrolled in this course", "already-enrolled")
            seats = domain.Seats(course["capacity"], course["confirmed_count"])
            status = domain.allocate(seats)
            enrolment = store.add_enrolment(conn, course, member_id, status, key)
            self.outbox(conn, domain.EVENT_FOR_STATUS[status], _enrolment_event.dump({
                "enrolment_id": enrolment["id"], "course_id": course_id, "course_title": course["title"],
                "member_id": member_id, "status": status, "position": enrolment["position"],
            }))
        return _enrolment_out.dump(enrolment)

    @rpc(expected_exceptions=EXPECTED)
    def get_enrolment(self, enrolment_id):
        enrolment_id = object_id(enrolment_id, "enrolment")
        with self.db.transaction() as conn:
            enrolment = store.get_enrolment(conn, enrolment_id)
        if str(enrolment["member_id"]) != self.caller.id and not self.caller.has(*STAFF):
            # a member may not learn that someone else's enrolment exists
            raise NotFound(f"enrolment {enrolment_id} does not exist", "enrolment-not-found")
        return _enrolment_out.dump(enrolment)

    @rpc(expected_exceptions=EXPECTED)
    def my_enrolments(self, limit=50, offset=0):
        with self.db.transaction() as conn:
            rows = store.member_enrolments(conn, self.caller.id, *page(limit, offset))
        return _enrolment_out.dump(rows, many=True)
