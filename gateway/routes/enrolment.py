"""Courses and enrolments: answered by the enrolment service over RPC."""
import falcon

from gateway import auth, catalog, limits
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.routes import PAGING, paging, read_body
from gateway.rpc import call
from services.common.params import object_id
from services.enrolment.schemas import CourseCreateSchema, CourseSchema, EnrolmentSchema

TAG = "classes"
STAFF = ("admin", "teacher")


class Courses:
    doc = {
        "post": operation("Create a course", tag=TAG, body=CourseCreateSchema, response=CourseSchema,
                          status=201, roles=STAFF, idempotent=True),
        "get": operation("List courses (from the catalog, kept fresh from the enrolment events)", tag=TAG,
                         response=CourseSchema, many=True, auth=False, errors=(400,),
                         query=(*PAGING, ("category", "string"), ("site_id", "string"), ("open_seats", "boolean"),
                                ("q", "string"))),
    }

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require(*STAFF)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway.db, req, resp, body, lambda key: (
            201, call("enrolment", "create_course", body, context=auth.caller(req, key))))

    def on_get(self, req, resp):
        filters = {name: req.get_param(name) for name in req.params if name not in ("limit", "offset")}
        if set(filters) <= set(catalog.FILTERS):
            if "open_seats" in filters:
                filters["open_seats"] = req.get_param_as_bool("open_seats")
            resp.content_type = falcon.MEDIA_JSON
            resp.text = self.gateway.catalog.courses(filters, **paging(req))
            return
        resp.media = call("enrolment", "list_courses", **paging(req), context=auth.caller(req))


class Course:
    doc = {"get": operation("A course, with seats left and waitlist length", tag=TAG, response=CourseSchema,
                            auth=False, errors=(404,))}

    def __init__(self, gateway):
        self.gateway = gateway

    def on_get(self, req, resp, course_id):
        course_id = object_id(course_id, "course")
        known = self.gateway.catalog.course(course_id)
        if known is not None:
            resp.content_type, resp.text = falcon.MEDIA_JSON, known
            return
        # not in the read model yet (published a moment ago): ask the service
        resp.media = call("enrolment", "get_course", course_id, context=auth.caller(req))


class CourseEnrolments:
    doc = {"post": operation("Enrol in a course: a seat, or a place on the waitlist", tag=TAG,
                             response=EnrolmentSchema, status=201, roles=("member",), idempotent=True,
                             errors=(404, 409, 422, 429))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require("member")
    def on_post(self, req, resp, course_id):
        with self.gateway.db.transaction() as conn:
            limits.check(conn, limits.ENROLMENTS_PER_MEMBER, req.context.account.id, what="enrolment requests")
        run_once(self.gateway.db, req, resp, {}, lambda key: (
            201, call("enrolment", "enrol", course_id, context=auth.caller(req, key))))


class Enrolment:
    doc = {"get": operation("One enrolment (its member or staff)", tag=TAG, response=EnrolmentSchema,
                            errors=(404,))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        resp.media = call("enrolment", "get_enrolment", enrolment_id, context=auth.caller(req))


class MyEnrolments:
    doc = {"get": operation("My enrolments", tag=TAG, response=EnrolmentSchema, many=True, query=PAGING,
                            errors=(400,))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require()
    def on_get(self, req, resp):
        resp.media = call("enrolment", "my_enrolments", **paging(req), context=auth.caller(req))


def routes(gateway):
    return [("/v1/courses", Courses(gateway)), ("/v1/courses/{course_id}", Course(gateway)),
            ("/v1/courses/{course_id}/enrolments", CourseEnrolments(gateway)),
            ("/v1/enrolments/{enrolment_id}", Enrolment(gateway)), ("/v1/me/enrolments", MyEnrolments(gateway))]
