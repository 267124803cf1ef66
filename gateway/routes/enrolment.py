"""Terms, courses, enrolments, lotteries, attendance, certificates and class requests: answered by
the enrolment service over RPC."""
import html
import json
import uuid
from datetime import datetime

import falcon

from gateway import auth, catalog, certificates, classes, limits, store, timetable
from gateway.idempotency import run_once
from gateway.openapi import operation, versioned
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, listed, paging, read_body
from gateway.rpc import call
from gateway.schemas import MyEnrolmentSchema, TimetableItemSchema
from services.common.errors import Invalid, NotFound
from services.common.fields import storable
from services.common.params import object_id
from services.common.roles import ADMIN, CLASS_STAFF, DESK, MEMBER, ROSTER_READERS, UNIT_ADMIN
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
    RosterEntrySchema,
    SessionCodeSchema,
    StrikesSchema,
    TeachingSchema,
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


def _status_param(req):
    status = _text_param(req, "status", 20)
    if status is not None and status not in BOUNDS["status"]["enum"]:
        raise invalid({"status": [f"must be one of {', '.join(BOUNDS['status']['enum'])}"]})
    return status


def check_teachers(gateway, course):
    """The teacher_ids a course names, when it names any, are open accounts holding the teacher role
    (the enrolment service knows no accounts): else 422 naming them. Ids that are not ids at all are
    left to the service's schema to name."""
    ids = course.get("teacher_ids") if isinstance(course, dict) else None
    if not isinstance(ids, list):
        return
    wanted = set()
    for item in ids:
        try:
            wanted.add(str(uuid.UUID(item)))
        except (TypeError, ValueError, AttributeError):
            continue
    if not wanted:
        return
    with gateway.db.transaction() as conn:
        unknown = sorted(wanted - store.teachers_among(conn, wanted))
    if unknown:
        raise invalid({"teacher_ids": [f"{i} is not a teacher's account" for i in unknown]},
                      "teacher_ids names accounts that are not teachers")


def with_teachers(gateway, answer):
    """A course, or a list of them, with its teachers' names: all read in one query."""
    courses = answer if isinstance(answer, list) else [answer]
    ids = {t for course in courses for t in course.get("teacher_ids") or ()}
    names = {}
    if ids:
        with gateway.db.transaction() as conn:
            names = store.names_and_phones(conn, ids)
    for course in courses:
        course["teachers"] = [{"id": t, "name": names[t]["name"]} for t in course.get("teacher_ids") or ()
                              if t in names]
    return answer


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


def _pdf_operation(summary, **kw):
    op = documented(summary, **kw)
    op["responses"]["200"]["content"] = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
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
        run_once(self.gateway, req, resp, body, lambda key: (
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
        check_teachers(self.gateway, body)
        run_once(self.gateway, req, resp, body, lambda key: (
            201, with_teachers(self.gateway, call("enrolment", "create_course", body, context=auth.caller(req, key)))))

    def on_get(self, req, resp):
        filters, page = course_filters(req), paging(req)
        account = req.context.account
        if set(filters) <= set(catalog.FILTERS) and not (account and account.has(*CLASS_STAFF)):
            # the public catalog, from the gateway's event-fed read model
            resp.content_type = falcon.MEDIA_JSON
            resp.text, req.context["page_size"], req.context["total"] = self.gateway.catalog.courses(filters, **page)
            return
        resp.media = with_teachers(self.gateway, listed(req, call(
            "enrolment", "list_courses", **page, filters=filters, with_total=True, context=auth.caller(req))))


def version_tag(course):
    """A course's ETag is its version, which every change to it (seats and waitlist included) bumps."""
    return str(course["version"]) if course.get("version") is not None else None


def read_versions(req):
    """If-Match as the course versions the editor read, as update_course's words: without the header,
    the edit is refused (428: two editors would overwrite each other unseen); [] when it names no
    version of ours (so nothing matches: 412). `*` matches any course that exists (the edit applies to
    whatever is there). A weak tag never matches (RFC 9110 compares If-Match strongly)."""
    tags = req.if_match
    if tags is None:
        return {"version_required": True}
    if "*" in tags:
        return {}
    return {"read_versions": [int(tag) for tag in tags if not tag.is_weak and tag.isdigit() and len(tag) < 19]}


class Course(Resource):
    doc = {
        "get": documented("A course, with seats left, waitlist length and sessions", operation_id="getCourse", tag=TAG,
                          response=CourseSchema, auth=False, errors=(404,)),
        "patch": documented("Change a course (course_updated). A published course's new timetable or room is"
                           " reserved before anything changes (409 room-clash names the dates); its members are"
                           " told (course_rescheduled)", operation_id="updateCourse", tag=TAG, body=CourseUpdateSchema,
                           response=CourseSchema, roles=CLASS_STAFF, errors=(400, 404, 409, 422)),
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
        resp.media = with_teachers(self.gateway, call("enrolment", "get_course", course_id, context=auth.caller(req)))
        resp.etag = version_tag(resp.media)

    @auth.require(*CLASS_STAFF)
    def on_patch(self, req, resp, course_id):
        body = read_body(req)
        check_teachers(self.gateway, body)
        resp.media = with_teachers(self.gateway, call("enrolment", "update_course", course_id, body,
                                                      **read_versions(req), context=auth.caller(req)))
        resp.etag = version_tag(resp.media)


class CoursePublish(Resource):
    doc = {"post": documented("Publish a draft course, reserving its room for every session (409 on a clash)",
                              operation_id="publishCourse", tag=TAG, response=CourseSchema, roles=CLASS_STAFF,
                              errors=(404, 409, 422))}


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, course_id):
        resp.media = with_teachers(self.gateway, call("enrolment", "publish_course", course_id,
                                                      context=auth.caller(req)))


class CourseCancel(Resource):
    doc = {"post": documented("Cancel a course: entries cancelled, room released, members told",
                              operation_id="cancelCourse", tag=TAG, body=CancelSchema, response=CourseSchema,
                              roles=CLASS_STAFF, errors=(400, 404, 409, 422))}


    @auth.require(*CLASS_STAFF)
    def on_post(self, req, resp, course_id):
        resp.media = with_teachers(self.gateway, call("enrolment", "cancel_course", course_id, optional_body(req),
                                                      context=auth.caller(req)))


class CourseEnrolments(Resource):
    doc = {
        "post": documented("Enrol in a course: a seat, a place on the waitlist, or interest in a lottery. The front"
                           " desk (desk, admin) enrols a member on their behalf with member_id: the member's age and"
                           " unit are checked, they are told as if they had enrolled, and the entry names the clerk",
                           operation_id="enrolInCourse", tag=TAG, body=EnrolRequestSchema, response=EnrolmentSchema,
                           status=201, roles=(MEMBER, DESK, ADMIN), idempotent=True,
                           errors=(400, 403, 404, 409, 422, 429)),
        "get": documented("The course's roster and waitlist (staff)", operation_id="listCourseEnrolments", tag=TAG,
                          response=EnrolmentSchema, many=True, roles=CLASS_STAFF,
                          query=PAGING + (("status", "string"),), errors=(400, 404, 422),
                          export=("id", "course_id", "member_id", "status", "position", "seats", "offer_expires_at",
                                  "cancel_reason", "created_at")),
    }
    location = "/v1/enrolments/{id}"


    @auth.require(MEMBER, DESK, ADMIN)
    def on_post(self, req, resp, course_id):
        body = optional_body(req)
        for_member = _on_behalf(req, body)
        with self.gateway.db.transaction() as conn:  # not in the token: it would ride in every request
            if for_member is None:
                born, extra = store.birth_date(conn, req.context.account.id), {}
            else:  # the member's own facts: their age and unit are checked, never the clerk's
                born, extra = None, _member_facts(conn, for_member, req.context.account.id)
        enrolled = for_member or req.context.account.id
        run_once(self.gateway, req, resp, body, lambda key: (
            201, call("enrolment", "enrol", course_id, body, **extra, context=auth.caller(req, key, born))),
            first=lambda conn: limits.check(conn, limits.ENROLMENTS_PER_MEMBER, enrolled,
                                            what="enrolment requests"))

    @auth.require(*CLASS_STAFF)
    def on_get(self, req, resp, course_id):
        resp.media = listed(req, call("enrolment", "course_enrolments", course_id, _status_param(req),
                                      **paging(req), with_total=True, context=auth.caller(req)))


class CourseRoster(Resource):
    doc = {"get": documented("The course's roster: each live entry (or those of one status) with the member's name"
                             " and phone, status, waitlist position and attendance so far (sessions attended of"
                             " those held). For the course's teachers, the desk and admins",
                             operation_id="getCourseRoster", tag=TAG, response=RosterEntrySchema, many=True,
                             roles=ROSTER_READERS, query=PAGING + (("status", "string"),), errors=(400, 404, 422),
                             export=("name", "phone", "status", "position", "seats", "attended", "held",
                                     "enrolment_id"))}

    @auth.require(*ROSTER_READERS)
    def on_get(self, req, resp, course_id):
        rows = listed(req, call("enrolment", "course_roster", course_id, _status_param(req), **paging(req),
                                with_total=True, context=auth.caller(req)))
        people = {}
        if rows:  # the names and phones of the whole page in one query
            with self.gateway.db.transaction() as conn:
                people = store.names_and_phones(conn, {r["member_id"] for r in rows})
        for row in rows:
            person = people.get(row["member_id"]) or {}
            row["name"], row["phone"] = person.get("name"), person.get("phone")
        resp.media = rows


class MyTeaching(Resource):
    doc = {"get": documented("The courses I teach, the next to meet first, each with its next session",
                             operation_id="listMyTeaching", tag=TAG, response=TeachingSchema, many=True,
                             roles=CLASS_STAFF, query=PAGING, errors=(400,))}

    @auth.require(*CLASS_STAFF)
    def on_get(self, req, resp):
        resp.media = with_teachers(self.gateway, listed(req, call("enrolment", "my_teaching", **paging(req),
                                                                  with_total=True, context=auth.caller(req))))


def _on_behalf(req, body):
    """The member the front desk enrols (`member_id`), or None when callers enrol themselves. Only
    the desk and admins name someone else (403); the desk has no seat of its own, so names one (422)."""
    account, named = req.context.account, body.get("member_id")
    if named is not None:
        try:
            named = str(uuid.UUID(str(named)))
        except ValueError:
            raise invalid({"member_id": ["must be the id (a UUID) of a member's account"]}) from None
    if named is None or named == str(account.id):
        if not account.has(MEMBER):
            raise invalid({"member_id": ["is required: the front desk names the member it enrols"]})
        return None
    if not account.has(DESK, ADMIN):
        raise Problem(403, "forbidden", "only the front desk enrols someone else",
                      {"member_id": ["is not you: enrol yourself, or ask at the front desk"]})
    return named


def _member_facts(conn, member_id, clerk_id):
    """What the enrolment service checks of the member the desk enrols, and the clerk's name for
    the member's history; an unknown member is a 422 naming member_id, before anything is written."""
    member = store.member_facts(conn, member_id)
    if member is None:
        raise invalid({"member_id": ["is not an open member account"]}, "no such member")
    return {"member": {"id": member_id, "unit_id": member["unit_id"] and str(member["unit_id"]),
                       "birth_date": member["birth_date"] and member["birth_date"].isoformat()},
            "clerk_name": store.name_of(conn, clerk_id)}


class CourseLottery(Resource):
    doc = {
        "get": documented("The draw's audit: seed, whether re-running reproduces it, and the entries: all of"
                          " them for the course's staff, the caller's own rank for a member, none for anyone else",
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
        "delete": documented("Cancel an enrolment or leave the waitlist; the next in line moves up. The front desk"
                             " cancels for a member under the member's rules, and is named in their history",
                             operation_id="cancelEnrolment", tag=TAG, response=EnrolmentSchema,
                             query=(("reason", "string"),), errors=(404, 409, 422)),
    }


    @auth.require()
    def on_get(self, req, resp, enrolment_id):
        resp.media = call("enrolment", "get_enrolment", enrolment_id, context=auth.caller(req))

    @auth.require()
    def on_delete(self, req, resp, enrolment_id):
        reason, extra = _text_param(req, "reason", 500), {}
        if req.context.account.has(DESK, ADMIN):  # acting for a member: their history names the clerk
            with self.gateway.db.transaction() as conn:
                extra["clerk_name"] = store.name_of(conn, req.context.account.id)
        resp.media = call("enrolment", "cancel_enrolment", enrolment_id, reason, **extra, context=auth.caller(req))


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
            f"<p>Verification code: <code>{code}</code> (check it at"
            f" {html.escape(certificates.check_page(req, cert['code']))})</p>"
            "</main></body></html>")


def _holder(gateway, member_id):
    """The name a certificate bears: its member's, or None once the account is closed."""
    with gateway.db.transaction() as conn:
        return store.name_of(conn, member_id) if store.is_open_account(conn, member_id) else None


# what the public check tells of a certificate (the enrolment service's document names the member too)
PUBLIC_FACTS = ("code", "course_title", "attended", "sessions_count", "hours", "issued_at")


class Certificate(Resource):
    doc = {"get": documented("Check a certificate's verification code (anyone, e.g. an employer shown it): the"
                             " course, attendance, hours, date and the holder's name masked; nothing else about"
                             " the member", operation_id="checkCertificate",
                             tag=TAG, response=CertificateCheckSchema, auth=False, errors=(404,))}


    def on_get(self, req, resp, code):
        cert = call("enrolment", "certificate_document", code, context=auth.caller(req))
        # only the public facts: the member's id never leaves, their name only masked
        resp.media = {"valid": True, **{name: cert[name] for name in PUBLIC_FACTS},
                      "holder": certificates.masked(_holder(self.gateway, cert["member_id"]))}


class CertificatePdf(Resource):
    doc = {"get": _pdf_operation("The completion certificate as a PDF (anyone holding its verification code): the"
                                 " member's name, the course, the code and a QR code of the member app's public"
                                 " check page (/verify/{code})",
                                 operation_id="getCertificatePdf", tag=TAG, auth=False, errors=(404,))}


    def on_get(self, req, resp, code):
        cert = call("enrolment", "certificate_document", code, context=auth.caller(req))
        name = _holder(self.gateway, cert["member_id"])
        resp.content_type = "application/pdf"
        # inline: a phone opens it in its reader; the name is what it is saved as
        resp.set_header("Content-Disposition", f'inline; filename="certificate-{cert["code"]}.pdf"')
        resp.data = certificates.render(cert, name, certificates.check_page(req, cert["code"]))


class MyEnrolments(Resource):
    doc = {"get": documented("My enrolments, with waitlist positions, each with its course (title, site, room,"
                             " the next session and one open for check-in now) from the catalog; course is null"
                             " for a course the catalog does not know yet", operation_id="listMyEnrolments",
                             tag=TAG, response=MyEnrolmentSchema, many=True, query=PAGING, errors=(400,))}


    @auth.require()
    def on_get(self, req, resp):
        caller = auth.caller(req)
        entries = listed(req, call("enrolment", "my_enrolments", **paging(req), with_total=True, context=caller))
        rows = self.gateway.catalog.summaries({e["course_id"] for e in entries})
        rooms, sites = _places(rows.values(), caller)
        resp.media = classes.told(entries, rows, rooms, sites, datetime.now(HOME_ZONE))


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


def _places(courses, caller):
    """The rooms and (for courses without a room) the sites of `courses` by id, for their names:
    names are a courtesy, so a venues that does not answer leaves them out."""
    room_ids = {c["room_id"] for c in courses if c["room_id"]}
    try:
        rooms = _rooms(room_ids, caller)
        roomless = any(c["site_id"] and not c["room_id"] for c in courses)
        sites = {s["id"]: s for s in call("venues", "list_sites", limit=200, context=caller)} if roomless else {}
    except Problem:
        return {}, {}
    return rooms, sites


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
                              response=AttendanceResultSchema, errors=(400, 404, 409, 422, 429)),
           "get": documented("The session's register as marked so far: the teacher's marks and the members'"
                             " check-ins (staff of the course)", operation_id="getSessionRegister", tag=TAG,
                             response=AttendanceResultSchema, roles=CLASS_STAFF, errors=(404,))}

    @auth.require(*CLASS_STAFF)
    def on_get(self, req, resp, session_id):
        resp.media = call("enrolment", "session_register", session_id, context=auth.caller(req))

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
        run_once(self.gateway, req, resp, body, lambda key: (
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
        body = read_body(req)
        check_teachers(self.gateway, body.get("course"))
        resp.media = call("enrolment", "decide_class_request", request_id, body, context=auth.caller(req))


def routes(gateway):
    return [
        ("/v1/terms", Terms(gateway)),
        ("/v1/courses", Courses(gateway)), ("/v1/courses/{course_id}", Course(gateway)),
        ("/v1/courses/{course_id}/publish", CoursePublish(gateway)),
        ("/v1/courses/{course_id}/cancel", CourseCancel(gateway)),
        ("/v1/courses/{course_id}/enrolments", CourseEnrolments(gateway)),
        ("/v1/courses/{course_id}/roster", CourseRoster(gateway)),
        ("/v1/courses/{course_id}/lottery", CourseLottery(gateway)),
        ("/v1/enrolments/{enrolment_id}", Enrolment(gateway)),
        ("/v1/enrolments/{enrolment_id}/accept", EnrolmentAccept(gateway)),
        ("/v1/enrolments/{enrolment_id}/certificate", EnrolmentCertificate(gateway)),
        ("/v1/certificates/{code}", Certificate(gateway)),
        ("/v1/certificates/{code}/certificate.pdf", CertificatePdf(gateway)),
        ("/v1/me/enrolments", MyEnrolments(gateway)),
        ("/v1/me/timetable", MyTimetable(gateway)),
        ("/v1/me/teaching", MyTeaching(gateway)),
        ("/v1/sessions/{session_id}/attendance", SessionAttendance(gateway)),
        ("/v1/sessions/{session_id}/code", SessionCode(gateway)),
        ("/v1/members/{member_id}/strikes", MemberStrikes(gateway)),
        ("/v1/members/{member_id}/strikes/clear", MemberStrikesClear(gateway)),
        ("/v1/class-requests", ClassRequests(gateway)),
        ("/v1/class-requests/{request_id}/decision", ClassRequestDecision(gateway)),
    ]
