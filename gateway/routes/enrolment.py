"""Terms, courses, enrolments, lotteries, attendance, certificates and class requests: answered by
the enrolment service over RPC."""
import html
import json
from datetime import datetime

import falcon

from gateway import auth, catalog, limits, store, timetable
from gateway.idempotency import run_once
from gateway.openapi import operation, versioned
from gateway.problems import invalid
from gateway.routes import PAGING, Resource, listed, paging, read_body
from gateway.rpc import call
from gateway.schemas import TimetableItemSchema
from services.common.errors import Invalid, NotFound
from services.common.fields import storable
from services.common.params import object_id
from services.common.roles import ADMIN, CLASS_STAFF, MEMBER, UNIT_ADMIN
from services.common.zone import HOME_ZONE
from services.enrolment.schemas import (
    AttendanceRequestSchema,
    AttendanceResultSchema,
    CancelSchema,
    CertificateCheckSchema,
    ClassRequestCreateSchema,
    ClassRequestDecisionSchema,
    ClassRequestSchema,
    ClearStrikesSchema,
    CourseCreateSchema,
    CourseSchema,
    CourseUpdateSchema,
    EnrolmentSchema,
    EnrolRequestSchema,
    LotterySchema,
    SessionCodeSchema,
    StrikesSchema,
    TermCreateSchema,
    TermSchema,
)

TAG = "classes"
COURSE_FILTERS = (("site_id", "string"), ("term_id", "string"), ("category", "string"), ("district", "string"),
                  ("weekday", "integer"), ("evening", "boolean"), ("open_seats", "boolean"), ("q", "string"),
                  ("state", "string"), ("allocation", "string"))


def optional_body(req):
    """An optional JSON body: none at all reads as {}."""
    if not req.content_length:
        return {}
    return read_body(req)


def _text_param(req, name, most=200):
    value = req.get_param(name)
    if value is None:
        return None
    try:
        storable(value)
    except Exception:
        raise invalid({name: ["must be valid text"]}) from None
    if len(value) > most:
        raise invalid({name: [f"at most {most} characters"]})
    return value


def course_filters(req):
    filters = {"site_id": req.get_param_as_uuid("site_id"), "term_id": req.get_param_as_uuid("term_id"),
               "weekday": req.get_param_as_int("weekday", min_value=1, max_value=7),
               "evening": req.get_param_as_bool("evening"), "open_seats": req.get_param_as_bool("open_seats"),
               "category": _text_param(req, "category"), "district": _text_param(req, "district"),
               "q": _text_param(req, "q"), "state": _text_param(req, "state"),
               "allocation": _text_param(req, "allocation")}
    for name in ("state", "allocation"):
        if filters[name] is not None and filters[name] not in BOUNDS[name]["enum"]:
            raise invalid({name: [f"must be one of {', '.join(BOUNDS[name]['enum'])}"]})
    return {k: (str(v) if k in ("site_id", "term_id") else v) for k, v in filters.items() if v is not None}


BOUNDS = {"limit": {"minimum": 1, "maximum": 200}, "offset": {"minimum": 0, "maximum": 1_000_000},
          "weekday": {"minimum": 1, "maximum": 7},
          "status": {"enum": ["confirmed", "waitlisted", "offered", "registered", "cancelled"]},
          "state": {"enum": ["draft", "published", "cancelled"]},
          "allocation": {"enum": ["first_come", "lottery"]},
          "site_id": {"format": "uuid"}, "term_id": {"format": "uuid"},
          "q": {"maxLength": 200}, "category": {"maxLength": 200}, "district": {"maxLength": 200},
          "reason": {"maxLength": 500}}


def documented(summary, **kw):
    """operation(), with the bounds of our query parameters declared so clients know them."""
    op = operation(summary, **kw)
    for param in op.get("parameters", ()):
        if param["in"] == "query":
            param["schema"].update(BOUNDS.get(param["name"], {}))
    return op


def _html_operation(summary, **kw):
    op = documented(summary, **kw)
    op["responses"]["200"]["content"] = {"text/html": {"schema": {"type": "string"}}}
    return op


class Terms(Resource):
    doc = {
        "post": documented("Create a term", operation_id="createTerm", tag=TAG, body=TermCreateSchema,
                           response=TermSchema, status=201, roles=CLASS_STAFF, idempotent=True, errors=(400, 409, 422)),
        "get": documented("List terms", operation_id="listTerms", tag=TAG, response=TermSchema, many=True, auth=False,
                          query=PAGING),
    }
    location = "/v1/terms"  # a term has no address of its own: the list it is in


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway.db, req, resp, body, lambda key: (
            201, call("enrolment", "create_term", body, context=auth.caller(req, key))))

    def on_get(self, req, resp):
        resp.media = listed(req, call("enrolment", "list_terms", **paging(req),
                                      with_total=True, context=auth.caller(req)))


class Courses(Resource):
    doc = {
        "post": documented("Create a course (published at once unless publish is false; a room is reserved"
                          " for every session)", operation_id="createCourse", tag=TAG, body=CourseCreateSchema,
                          response=CourseSchema, status=201, roles=CLASS_STAFF, idempotent=True,
                          errors=(400, 409, 422)),
        "get": documented("List and search courses", operation_id="listCourses", tag=TAG, response=CourseSchema,
                          many=True, auth=False, query=PAGING + COURSE_FILTERS, errors=(400, 422)),
    }
    location = "/v1/courses/{id}"


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway.db, req, resp, body, lambda key: (
            201, call("enrolment", "create_course", body, context=auth.caller(req, key))))

    def on_get(self, req, resp):
        filters, page = course_filters(req), paging(req)
        account = req.context.account
        if set(filters) <= set(catalog.FILTERS) and not (account and account.has(*CLASS_STAFF)):
            # the public catalog, from the gateway's event-fed read model
            resp.content_type = falcon.MEDIA_JSON
            resp.text, req.context["page_size"], req.context["total"] = self.gateway.catalog.courses(filters, **page)
            return
        resp.media = listed(req, call("enrolment", "list_courses", **page, filters=filters,
                                      with_total=True, context=auth.caller(req)))


def version_tag(course):
    """A course's ETag is its version, which every change to it (seats and waitlist included) bumps."""
    return str(course["version"]) if course.get("version") is not None else None


def read_versions(req):
    """If-Match as the course versions the editor read: None without the header (the edit applies to
    whatever is there), [] when it names no version of ours (so nothing matches: 412). `*` matches
    any course that exists. A weak tag never matches (RFC 9110 compares If-Match strongly)."""
    tags = req.if_match
    if tags is None or "*" in tags:
        return None
    return [int(tag) for tag in tags if not tag.is_weak and tag.isdigit() and len(tag) < 19]


class Course(Resource):
    doc = {
        "get": documented("A course, with seats left, waitlist length and sessions", operation_id="getCourse", tag=TAG,
                          response=CourseSchema, auth=False, errors=(404,)),
        "patch": documented("Change a course (course_updated). A published course's new timetable or room is"
                           " reserved before anything changes (409 room-clash names the dates); its members are"
                           " told (course_rescheduled)", operation_id="updateCourse", tag=TAG, body=CourseUpdateSchema,
                           response=CourseSchema, roles=CLASS_STAFF, errors=(400, 404, 409, 412, 422)),
    }
    versioned(doc["get"])
    versioned(doc["patch"], conditional=True)


    def on_get(self, req, resp, course_id):
        course_id = object_id(course_id, "course")
        known = self.gateway.catalog.course(course_id)
        if known is not None:
            resp.content_type, resp.text = falcon.MEDIA_JSON, known
            resp.etag = version_tag(json.loads(known))
            return
        # not in the read model (yet, or a draft only staff may see): ask the service
        resp.media = call("enrolment", "get_course", course_id, context=auth.caller(req))
        resp.etag = version_tag(resp.media)

    @auth.require(*CLASS_STAFF)
    def on_patch(self, req, resp, course_id):
        read = read_versions(req)
        extra = {} if read is None else {"read_versions": read}  # a service before If-Match takes no such word
        resp.media = call("enrolment", "update_course", course_id, read_body(req), **extra, context=auth.caller(req))
        resp.etag = version_tag(resp.media)


class CoursePublish(Resource):
    doc = {"post": documented("Publish a draft course, reserving its room for every session (409 on a clash)",
                              operation_id="publishCourse", tag=TAG, response=CourseSchema, roles=CLASS_STAFF,
                              errors=(404, 409, 422))}


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, course_id):
        resp.media = call("enrolment", "publish_course", course_id, context=auth.caller(req))


class CourseCancel(Resource):
    doc = {"post": documented("Cancel a course: entries cancelled, room released, members told",
                              operation_id="cancelCourse", tag=TAG, body=CancelSchema, response=CourseSchema,
                              roles=CLASS_STAFF, errors=(400, 404, 409, 422))}


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, course_id):
        resp.media = call("enrolment", "cancel_course", course_id, optional_body(req), context=auth.caller(req))


class CourseEnrolments(Resource):
    doc = {
        "post": documented("Enrol in a course: a seat, a place on the waitlist, or interest in a lottery",
                           operation_id="enrolInCourse", tag=TAG, body=EnrolRequestSchema, response=EnrolmentSchema,
                           status=201, roles=(MEMBER,), idempotent=True, errors=(400, 404, 409, 422, 429)),
        "get": documented("The course's roster and waitlist (staff)", operation_id="listCourseEnrolments", tag=TAG,
                          response=EnrolmentSchema, many=True, roles=CLASS_STAFF,
                          query=PAGING + (("status", "string"),), errors=(400, 404, 422)),
    }
    location = "/v1/enrolments/{id}"


    @auth.require(MEMBER)
    def on_post(self, req, resp, course_id):
        body = optional_body(req)
        with self.gateway.db.transaction() as conn:  # not in the token: it would ride in every request
            born = store.birth_date(conn, req.context.account.id)
        run_once(self.gateway.db, req, resp, body, lambda key: (
            201, call("enrolment", "enrol", course_id, body, context=auth.caller(req, key, born))),
            first=lambda conn: limits.check(conn, limits.ENROLMENTS_PER_MEMBER, req.context.account.id,
                                            what="enrolment requests"))

    @auth.require(*CLASS_STAFF)
    def on_get(self, req, resp, course_id):
        status = _text_param(req, "status", 20)
        if status is not None and status not in BOUNDS["status"]["enum"]:
            raise invalid({"status": [f"must be one of {', '.join(BOUNDS['status']['enum'])}"]})
        resp.media = listed(req, call("enrolment", "course_enrolments", course_id, status,
                                      **paging(req), with_total=True, context=auth.caller(req)))


class CourseLottery(Resource):
    doc = {
        "get": documented("The draw's audit: seed, inputs, result, and whether re-running reproduces it",
                          operation_id="getLotteryAudit", tag=TAG, response=LotterySchema, auth=False, errors=(404,)),
        "post": documented("Draw the lottery now (staff)", operation_id="drawLottery", tag=TAG, response=LotterySchema,
                           roles=CLASS_STAFF, errors=(404, 409)),
    }


    def on_get(self, req, resp, course_id):
        resp.media = call("enrolment", "get_lottery", course_id, context=auth.caller(req))

    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, course_id):
        resp.media = call("enrolment", "draw_lottery", course_id, context=auth.caller(req))


class Enrolment(Resource):
    doc = {
        "get": documented("One enrolment (its member or staff), with the waitlist position",
                          operation_id="getEnrolment", tag=TAG, response=EnrolmentSchema, errors=(404,)),
        "delete": documented("Cancel an enrolment or leave the waitlist; the next in line moves up",
                             operation_id="cancelEnrolment", tag=TAG, response=EnrolmentSchema,
                             query=(("reason", "string"),), errors=(404, 409, 422)),
    }


    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        resp.media = call("enrolment", "get_enrolment", enrolment_id, context=auth.caller(req))

    @auth.require()
    def on_delete(self, req, resp, enrolment_id):
        resp.media = call("enrolment", "cancel_enrolment", enrolment_id, _text_param(req, "reason", 500),
                          context=auth.caller(req))


class EnrolmentAccept(Resource):
    doc = {"post": documented("Take up a seat offered from the waitlist", operation_id="acceptOfferedSeat", tag=TAG,
                              response=EnrolmentSchema, roles=(MEMBER,), errors=(404, 409))}


    @auth.require(MEMBER)
    def on_post(self, req, resp, enrolment_id):
        resp.media = call("enrolment", "accept_offer", enrolment_id, context=auth.caller(req))


class EnrolmentCertificate(Resource):
    doc = {"get": _html_operation("The completion certificate (HTML, with its verification code)",
                                  operation_id="getCertificate", tag=TAG, errors=(404, 409))}


    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        cert = call("enrolment", "certificate", enrolment_id, context=auth.caller(req))
        title, code = html.escape(cert["course_title"]), html.escape(cert["code"])
        resp.content_type = "text/html; charset=utf-8"
        resp.text = (
            "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>Certificate of completion</title>"
            "</head><body><main><h1>Certificate of completion 结业证书</h1>"
            f"<p>This certifies completion of the course <strong>{title}</strong>, attending "
            f"{cert['attended']} of {cert['sessions_count']} sessions.</p>"
            f"<p>Issued {html.escape(cert['issued_at'])} by the Workers' Cultural Palace.</p>"
            f"<p>Verification code: <code>{code}</code> (check it at /v1/certificates/{code})</p>"
            "</main></body></html>")


class Certificate(Resource):
    doc = {"get": documented("Check a certificate's verification code (anyone)", operation_id="checkCertificate",
                             tag=TAG, response=CertificateCheckSchema, auth=False, errors=(404,))}


    def on_get(self, req, resp, code):
        resp.media = call("enrolment", "verify_certificate", code, context=auth.caller(req))


class MyEnrolments(Resource):
    doc = {"get": documented("My enrolments, with waitlist positions", operation_id="listMyEnrolments", tag=TAG,
                             response=EnrolmentSchema, many=True, query=PAGING, errors=(400,))}


    @auth.require()
    def on_get(self, req, resp):
        resp.media = listed(req, call("enrolment", "my_enrolments", **paging(req),
                                      with_total=True, context=auth.caller(req)))


class MyTimetable(Resource):
    doc = {"get": documented("My timetable: class sessions (courses I hold a confirmed seat in), my room bookings"
                             " and counselling appointments, sorted by start, in Asia/Shanghai time (+08:00);"
                             f" from and to are dates, by default this Monday to Sunday, at most"
                             f" {timetable.MOST_DAYS} days", operation_id="getMyTimetable", tag=TAG,
                             response=TimetableItemSchema, many=True, query=(("from", "date"), ("to", "date")),
                             errors=(422,))}

    @auth.require()
    def on_get(self, req, resp):
        today = datetime.now(HOME_ZONE).date()
        first, last = timetable.days(req.get_param("from"), req.get_param("to"), today)
        since, before = timetable.bounds(first, last)
        caller = auth.caller(req)
        sessions = call("enrolment", "my_sessions", since, before, context=caller)
        bookings = call("venues", "list_bookings", limit=200, starts_from=since, starts_before=before, mine=True,
                        context=caller)
        appointments = call("welfare", "my_appointments", since, before, context=caller)
        room_ids = {i["room_id"] for i in (*sessions, *bookings, *appointments) if i.get("room_id")}
        resp.media = timetable.merged(sessions, bookings, appointments, _rooms(room_ids, caller),
                                      str(req.context.account.id))


def _rooms(room_ids, caller):
    """The rooms by id, for their names; one gone since is simply left unnamed."""
    rooms = {}
    for room_id in sorted(room_ids):
        try:
            rooms[room_id] = call("venues", "get_room", room_id, context=caller)
        except NotFound:
            pass
    return rooms


class SessionAttendance(Resource):
    doc = {"post": documented("Mark attendance: a teacher's register (marks) or a member's check-in (code;"
                              " 5 wrong codes per session and 15 minutes, then 429 with Retry-After)",
                              operation_id="markAttendance", tag=TAG, body=AttendanceRequestSchema,
                              response=AttendanceResultSchema, errors=(400, 404, 409, 422, 429))}


    @auth.require()
    def on_post(self, req, resp, session_id):
        body = read_body(req)
        if "code" not in body:  # a teacher's register
            resp.media = call("enrolment", "record_attendance", session_id, body, context=auth.caller(req))
            return
        key = f"{req.context.account.id}:{session_id}"
        limit = limits.WRONG_CHECKIN_CODES
        with self.gateway.db.transaction() as conn:
            if limits.count(conn, limit, key, add=0) >= limit.hits:
                limits.refuse(limit, "wrong check-in codes")
        try:
            resp.media = call("enrolment", "record_attendance", session_id, body, context=auth.caller(req))
        except Invalid as exc:
            if exc.problem == "wrong-code":
                with self.gateway.db.transaction() as conn:
                    limits.count(conn, limit, key)
            raise


class SessionCode(Resource):
    doc = {"get": documented("A session with its check-in code (staff, shown at the door)",
                             operation_id="getSessionCode", tag=TAG, response=SessionCodeSchema, roles=CLASS_STAFF,
                             errors=(404,))}


    @auth.require(*CLASS_STAFF)
    def on_get(self, req, resp, session_id):
        resp.media = call("enrolment", "session_code", session_id, context=auth.caller(req))


class MemberStrikes(Resource):
    doc = {"get": documented("A member's no-show strikes and any block (the member or staff)",
                             operation_id="getMemberStrikes", tag=TAG, response=StrikesSchema, errors=(404,))}


    @auth.require()
    def on_get(self, req, resp, member_id):
        resp.media = call("enrolment", "member_strikes", member_id, context=auth.caller(req))


class MemberStrikesClear(Resource):
    doc = {"post": documented("Clear a member's strikes, with a reason (staff)", operation_id="clearMemberStrikes",
                              tag=TAG, body=ClearStrikesSchema, response=StrikesSchema, roles=CLASS_STAFF,
                              errors=(400, 404, 422))}


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, member_id):
        resp.media = call("enrolment", "clear_strikes", member_id, read_body(req), context=auth.caller(req))


class ClassRequests(Resource):
    doc = {
        "post": documented("Request a class at the unit's own site (unit_admin)", operation_id="requestClass", tag=TAG,
                           body=ClassRequestCreateSchema, response=ClassRequestSchema, status=201, roles=(UNIT_ADMIN,),
                           idempotent=True, errors=(400, 422)),
        "get": documented("Class requests: the unit's own (unit_admin) or all (admin)",
                          operation_id="listClassRequests", tag=TAG, response=ClassRequestSchema, many=True,
                          roles=(UNIT_ADMIN, ADMIN), query=PAGING),
    }
    location = "/v1/class-requests"  # no address of its own: the list it is in


    @auth.require(UNIT_ADMIN)
    def on_post(self, req, resp):
        body = read_body(req)
        run_once(self.gateway.db, req, resp, body, lambda key: (
            201, call("enrolment", "create_class_request", body, context=auth.caller(req, key))))

    @auth.require(UNIT_ADMIN, ADMIN)
    def on_get(self, req, resp):
        resp.media = listed(req, call("enrolment", "list_class_requests", **paging(req),
                                      with_total=True, context=auth.caller(req)))


class ClassRequestDecision(Resource):
    doc = {"post": documented("Approve (creates the course) or decline with a reason (admin)",
                              operation_id="decideClassRequest", tag=TAG, body=ClassRequestDecisionSchema,
                              response=ClassRequestSchema, roles=(ADMIN,), errors=(400, 404, 409, 422))}


    @auth.require(ADMIN)
    def on_post(self, req, resp, request_id):
        resp.media = call("enrolment", "decide_class_request", request_id, read_body(req), context=auth.caller(req))


def routes(gateway):
    return [
        ("/v1/terms", Terms(gateway)),
        ("/v1/courses", Courses(gateway)), ("/v1/courses/{course_id}", Course(gateway)),
        ("/v1/courses/{course_id}/publish", CoursePublish(gateway)),
        ("/v1/courses/{course_id}/cancel", CourseCancel(gateway)),
        ("/v1/courses/{course_id}/enrolments", CourseEnrolments(gateway)),
        ("/v1/courses/{course_id}/lottery", CourseLottery(gateway)),
        ("/v1/enrolments/{enrolment_id}", Enrolment(gateway)),
        ("/v1/enrolments/{enrolment_id}/accept", EnrolmentAccept(gateway)),
        ("/v1/enrolments/{enrolment_id}/certificate", EnrolmentCertificate(gateway)),
        ("/v1/certificates/{code}", Certificate(gateway)),
        ("/v1/me/enrolments", MyEnrolments(gateway)),
        ("/v1/me/timetable", MyTimetable(gateway)),
        ("/v1/sessions/{session_id}/attendance", SessionAttendance(gateway)),
        ("/v1/sessions/{session_id}/code", SessionCode(gateway)),
        ("/v1/members/{member_id}/strikes", MemberStrikes(gateway)),
        ("/v1/members/{member_id}/strikes/clear", MemberStrikesClear(gateway)),
        ("/v1/class-requests", ClassRequests(gateway)),
        ("/v1/class-requests/{request_id}/decision", ClassRequestDecision(gateway)),
    ]
