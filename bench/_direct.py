"""The gateway with the benchmark's own routes: reads it does straight against the enrolment
database, the baseline that the read model (catalog) and the RPC path (rpc_tax) are measured
against in the same run. Only the bench's stacks run it (GATEWAY below, instead of the process
table's gateway); the production gateway has no such routes at all. Not in /openapi.json."""
from gateway import app as gateway_app
from gateway import auth
from gateway.problems import Problem
from gateway.routes import paging
from ops import processes
from services.common import config
from services.common.db import Db
from services.common.params import object_id
from services.enrolment import schemas, store  # the same SQL and schemas the service uses

# gunicorn takes the app named on its command line over the one its configuration names
GATEWAY = [*processes.GATEWAY, "bench._direct:create_app()"]


class Direct:
    def __init__(self, db):
        self.db = db
        self.course, self.enrolment = schemas.CourseSchema(), schemas.EnrolmentSchema()


class Courses(Direct):
    def on_get(self, req, resp):
        with self.db.autocommit() as conn:
            resp.media = self.course.dump(store.list_courses(conn, {}, **paging(req)), many=True)


class Course(Direct):
    def on_get(self, req, resp, course_id):
        with self.db.autocommit() as conn:
            resp.media = self.course.dump(store.get_course(conn, object_id(course_id, "course")))


class Enrolment(Direct):
    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        with self.db.autocommit() as conn:
            row = store.get_enrolment(conn, object_id(enrolment_id, "enrolment"))
        if str(row["member_id"]) != req.context.account.id:
            raise Problem(404, "not-found", "no such enrolment")
        resp.media = self.enrolment.dump(row)


def create_app():
    app = gateway_app.create_app()
    db = Db(config.db_url("enrolment"), max_size=config.gateway_pool_size(), name="bench")
    db.open()
    app.add_route("/bench/direct/courses", Courses(db))
    app.add_route("/bench/direct/courses/{course_id}", Course(db))
    app.add_route("/bench/direct/enrolments/{enrolment_id}", Enrolment(db))
    return app
