"""Reads the gateway does straight against the enrolment database, for `python -m bench` only
(PALACE_BENCH_ROUTES=1): the baseline that the read model (catalog) and the RPC path (rpc-tax)
are measured against in the same run. Never enabled in a deployment, and not in /openapi.json."""
from gateway import auth
from gateway.problems import Problem
from gateway.routes import paging
from services.common import config
from services.common.db import Db
from services.common.params import object_id


def enabled():
    return config.env("PALACE_BENCH_ROUTES", "") == "1"


class Direct:
    def __init__(self, db):
        from services.enrolment import schemas, store  # the same SQL and schemas the service uses

        self.db, self.store = db, store
        self.course, self.enrolment = schemas.CourseSchema(), schemas.EnrolmentSchema()


class Courses(Direct):
    def on_get(self, req, resp):
        with self.db.autocommit() as conn:
            resp.media = self.course.dump(self.store.list_courses(conn, {}, **paging(req)), many=True)


class Course(Direct):
    def on_get(self, req, resp, course_id):
        with self.db.autocommit() as conn:
            resp.media = self.course.dump(self.store.get_course(conn, object_id(course_id, "course")))


class Enrolment(Direct):
    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        with self.db.autocommit() as conn:
            row = self.store.get_enrolment(conn, object_id(enrolment_id, "enrolment"))
        if str(row["member_id"]) != req.context.account.id:
            raise Problem(404, "not-found", "no such enrolment")
        resp.media = self.enrolment.dump(row)


def routes(gateway):
    if gateway is None or not enabled():
        return []
    db = Db(config.db_url("enrolment"), max_size=config.gateway_pool_size(), name="bench")
    db.open()
    return [("/bench/direct/courses", Courses(db)), ("/bench/direct/courses/{course_id}", Course(db)),
            ("/bench/direct/enrolments/{enrolment_id}", Enrolment(db))]
