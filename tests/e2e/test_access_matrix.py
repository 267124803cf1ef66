"""Who may do what: every operation of the API x every role x their own or someone else's object.

Each row names an operation and what each actor gets:
  OK   the request passes the access checks (2xx, or a 4xx about the request itself: 409, 422...)
  401  not signed in        403  the role may not use this route
  404  the object exists but is not the caller's to see (hidden, so ids cannot be probed)
Path parameters name objects made in the `world` fixture: `owner` owns them, `stranger` is
another member, `unit_admin` runs the owner's unit and `other_unit_admin` another unit; `teacher`
teaches the courses and `other_teacher` only a course of their own, so to them every course-scoped
operation on the others' courses answers 404; `desk` is the service-centre clerk, who acts for
members at the counter."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import NO_LIMITS, Client, new_member, new_staff
from tests.harness import eventually

OK = "ok"
ACTORS = ("anonymous", "owner", "stranger", "teacher", "other_teacher", "venue_manager", "welfare_officer",
          "unit_admin", "other_unit_admin", "desk", "admin")
STAFF = ("teacher", "other_teacher", "venue_manager", "welfare_officer", "unit_admin", "other_unit_admin",
         "desk", "admin")


def everyone(result=OK, **overrides):
    return {actor: overrides.get(actor, result) for actor in ACTORS}


def signed_in(result=OK, **overrides):
    return everyone(result, anonymous=401, **overrides)


def only(*actors, otherwise=403, **overrides):
    """The route is for these actors; other signed-in actors get `otherwise`."""
    return signed_in(otherwise, **{a: OK for a in actors}, **overrides)


MEMBERS = ("owner", "stranger")
TEACHERS = ("teacher", "other_teacher")
HIDDEN = {"other_teacher": 404}  # a course-scoped operation on a course someone else teaches
OFFICERS = ("welfare_officer", "admin")

MATRIX = [
    # accounts
    ("POST", "/v1/auth/register", everyone()),
    ("POST", "/v1/auth/token", everyone()),
    ("POST", "/v1/auth/password-resets", everyone()),
    ("POST", "/v1/auth/password-resets/confirm", everyone()),
    ("GET", "/v1/me", signed_in()),
    ("PATCH", "/v1/me", signed_in()),
    ("POST", "/v1/me/password", signed_in()),
    ("POST", "/v1/me/phone", signed_in()),
    ("POST", "/v1/me/phone/confirm", signed_in()),
    ("POST", "/v1/accounts", only("admin")),
    ("GET", "/v1/accounts", only("admin")),
    ("DELETE", "/v1/accounts/{fresh_account}", only("admin")),
    ("PATCH", "/v1/accounts/{fresh_account}", only("admin")),
    ("POST", "/v1/accounts/{owner}/reset-code", only("admin", "desk")),
    ("POST", "/v1/units", only("admin")),
    ("GET", "/v1/units", only("admin", "unit_admin", "other_unit_admin")),
    ("GET", "/v1/units/{unit}/members", only("admin", "unit_admin", other_unit_admin=404)),
    ("POST", "/v1/units/{unit}/members", only("admin")),  # a unit administrator invites instead
    ("POST", "/v1/units/{unit}/invitations", only("admin", "unit_admin", other_unit_admin=404)),
    ("GET", "/v1/me/unit-invitations", signed_in()),
    ("POST", "/v1/me/unit-invitations/{missing}/accept", signed_in(404)),
    ("POST", "/v1/me/unit-invitations/{missing}/decline", signed_in(404)),
    ("DELETE", "/v1/units/{unit}/members/{fresh_unit_member}", only("admin", "unit_admin", other_unit_admin=404)),
    # the front desk
    ("GET", "/v1/desk/members", only("desk", "admin")),
    ("POST", "/v1/desk/members", only("desk", "admin")),
    ("GET", "/v1/desk/members/{owner}", only("desk", "admin")),
    ("GET", "/v1/desk/members/{owner}/enrolments", only("desk", "admin")),
    ("GET", "/v1/desk/members/{owner}/bookings", only("desk", "admin")),
    ("GET", "/v1/desk/members/{owner}/cases", only("desk", "admin")),
    # classes
    ("POST", "/v1/courses", only("admin", *TEACHERS)),
    ("GET", "/v1/courses", everyone()),
    ("GET", "/v1/courses/{course}", everyone()),
    ("POST", "/v1/courses/{course}/enrolments", only(*MEMBERS, "desk", "admin")),  # the desk names the member
    ("GET", "/v1/enrolments/{enrolment}", signed_in(404, owner=OK, teacher=OK, desk=OK, admin=OK)),
    ("GET", "/v1/me/enrolments", signed_in()),
    ("GET", "/v1/me/timetable", signed_in()),
    ("DELETE", "/v1/enrolments/{to_cancel}", signed_in(404, owner=OK, teacher=OK, desk=OK, admin=OK)),
    ("POST", "/v1/enrolments/{enrolment}/accept", only("owner", stranger=404)),
    ("GET", "/v1/enrolments/{enrolment}/certificate", signed_in(404, owner=OK, teacher=OK, admin=OK)),
    ("GET", "/v1/certificates/{certificate}", everyone()),
    ("GET", "/v1/certificates/{certificate}/certificate.pdf", everyone()),
    ("POST", "/v1/terms", only("admin", *TEACHERS)),
    ("GET", "/v1/terms", everyone()),
    ("PATCH", "/v1/courses/{course}", only("admin", "teacher", **HIDDEN)),
    ("POST", "/v1/courses/{course}/publish", only("admin", "teacher", **HIDDEN)),
    ("POST", "/v1/courses/{fresh_course}/cancel", only("admin", "teacher", **HIDDEN)),
    ("GET", "/v1/courses/{course}/enrolments", only("admin", "teacher", **HIDDEN)),
    ("GET", "/v1/courses/{course}/roster", only("admin", "teacher", "desk", **HIDDEN)),
    ("GET", "/v1/me/teaching", only("admin", *TEACHERS)),
    ("GET", "/v1/courses/{lottery}/lottery", everyone()),
    ("POST", "/v1/courses/{lottery}/lottery", only("admin", "teacher", **HIDDEN)),
    ("POST", "/v1/sessions/{session}/attendance", signed_in(**HIDDEN)),  # {}: a register, as staff send it
    ("GET", "/v1/sessions/{session}/code", only("admin", "teacher", **HIDDEN)),
    ("GET", "/v1/sessions/{session}/attendance", only("admin", "teacher", **HIDDEN)),
    ("GET", "/v1/members/{owner}/strikes", signed_in(403, owner=OK, teacher=OK, admin=OK, **HIDDEN)),
    ("POST", "/v1/members/{owner}/strikes/clear", only("admin", "teacher", **HIDDEN)),
    ("POST", "/v1/class-requests", only("unit_admin", "other_unit_admin")),
    ("GET", "/v1/class-requests", only("admin", "unit_admin", "other_unit_admin")),
    ("POST", "/v1/class-requests/{class_request}/decision", only("admin")),
    # notifications
    ("GET", "/v1/me/notifications", signed_in()),
    ("POST", "/v1/me/notifications/{notification}/read", signed_in(404, owner=OK)),
    ("POST", "/v1/broadcasts/preview", only(*TEACHERS, "unit_admin", "other_unit_admin", "admin")),
    ("POST", "/v1/broadcasts", only(*TEACHERS, "unit_admin", "other_unit_admin", "admin")),
    ("GET", "/v1/broadcasts/{broadcast}", only("admin", teacher=404, other_teacher=404, unit_admin=404,
                                               other_unit_admin=404)),
    ("POST", "/v1/broadcasts/{broadcast}/cancel", only("admin", teacher=404, other_teacher=404, unit_admin=404,
                                                       other_unit_admin=404)),
    # rooms
    ("POST", "/v1/sites", only("venue_manager", "admin")),
    ("GET", "/v1/sites", everyone()),
    ("POST", "/v1/rooms", only("venue_manager", "admin")),
    ("GET", "/v1/rooms", everyone()),
    ("GET", "/v1/rooms/availability", everyone()),
    ("GET", "/v1/rooms/utilisation", only("venue_manager", "admin")),
    ("GET", "/v1/rooms/{room}", everyone()),
    ("PATCH", "/v1/rooms/{room}", only("venue_manager", "admin")),
    ("GET", "/v1/rooms/{room}/calendar.ics", everyone()),
    ("POST", "/v1/bookings", signed_in()),
    ("GET", "/v1/bookings", signed_in()),
    ("GET", "/v1/bookings/calendar.ics", signed_in()),
    ("GET", "/v1/me/calendar-feed", signed_in()),
    ("POST", "/v1/me/calendar-feed", signed_in()),
    ("DELETE", "/v1/me/calendar-feed", signed_in()),
    ("GET", "/v1/calendar-feeds/{feed_token}/calendar.ics", everyone()),
    ("GET", "/v1/bookings/{booking}", signed_in(404, owner=OK, venue_manager=OK, admin=OK)),
    ("PATCH", "/v1/bookings/{booking}", signed_in(404, owner=OK, venue_manager=OK, admin=OK)),
    ("POST", "/v1/bookings/{booking}/approve", only("venue_manager", "admin")),
    ("POST", "/v1/bookings/{booking}/reject", only("venue_manager", "admin")),
    ("POST", "/v1/bookings/{booking}/checkin", signed_in(404, owner=OK, venue_manager=OK, admin=OK)),
    ("POST", "/v1/bookings/{booking}/cancel", signed_in(404, owner=OK, venue_manager=OK, admin=OK)),
    ("POST", "/v1/closures", only("venue_manager", "admin")),
    ("GET", "/v1/closures", only("venue_manager", "admin")),
    ("DELETE", "/v1/closures/{missing}", only(venue_manager=404, admin=404)),
    ("PATCH", "/v1/closures/{missing}", only(venue_manager=404, admin=404)),
    ("POST", "/v1/clubs", only("venue_manager", "admin")),
    ("GET", "/v1/clubs", signed_in()),
    ("PATCH", "/v1/clubs/{club}", only("venue_manager", "admin")),
    ("GET", "/v1/calendar/{year}", everyone()),
    ("POST", "/v1/calendar/days", only("venue_manager", "admin")),
    ("DELETE", "/v1/calendar/days/{calendar_day}", only("venue_manager", "admin")),
    # notifications, continued
    ("GET", "/v1/me/notification-preferences", signed_in()),
    ("PUT", "/v1/me/notification-preferences", signed_in()),
    ("GET", "/v1/me/contacts", signed_in()),
    ("PUT", "/v1/me/contacts", signed_in()),
    ("DELETE", "/v1/me/wechat", signed_in()),
    ("GET", "/v1/me/wechat/authorize", signed_in()),
    ("GET", "/v1/wechat/callback", everyone()),  # WeChat's redirect: the state says whose binding it is
    ("GET", "/v1/me/follows", signed_in()),
    ("PUT", "/v1/me/follows/categories/{category}", signed_in()),
    ("DELETE", "/v1/me/follows/categories/{category}", signed_in()),
    ("PUT", "/v1/me/follows/sites/{site_id}", signed_in()),
    ("DELETE", "/v1/me/follows/sites/{site_id}", signed_in()),
    ("GET", "/v1/notify/failed-deliveries", only("admin")),
    ("POST", "/v1/notify/deliveries/{missing}/replay", only(admin=404)),
    ("POST", "/v1/notify/preview", only("admin")),
    # welfare and mutual aid (OFFICERS: welfare_officer and admin)
    ("GET", "/v1/welfare/programmes", everyone()),
    ("GET", "/v1/welfare/programmes/{programme}/rules", everyone()),  # public, like the programmes
    ("PUT", "/v1/welfare/programmes/{programme}/rules", only(*OFFICERS)),
    ("GET", "/v1/welfare/programmes/{programme}/rules/changes", only(*OFFICERS)),
    ("POST", "/v1/welfare/applications", signed_in()),
    ("GET", "/v1/welfare/applications", signed_in()),
    ("GET", "/v1/welfare/applications/{application}", signed_in(404, owner=OK, welfare_officer=OK, admin=OK)),
    ("GET", "/v1/welfare/applications/{application}/reads",
     signed_in(404, owner=OK, welfare_officer=OK, admin=OK)),
    ("POST", "/v1/welfare/applications/{application}/submission",
     signed_in(404, owner=OK, welfare_officer=403, admin=403)),
    ("POST", "/v1/welfare/applications/{application}/documents",
     signed_in(404, owner=OK, welfare_officer=403, admin=403)),  # officers on the case only: none yet
    ("GET", "/v1/welfare/applications/{application}/documents/{document}",
     signed_in(404, owner=OK, welfare_officer=403, admin=403)),
    ("POST", "/v1/welfare/applications/{application}/decisions", only(*OFFICERS)),
    ("POST", "/v1/welfare/applications/{application}/assignment", only(*OFFICERS)),
    ("POST", "/v1/welfare/applications/{application}/payouts", only(*OFFICERS)),
    ("POST", "/v1/welfare/applications/{application}/appointments", only(*OFFICERS)),
    ("GET", "/v1/welfare/funds/{fund}/ledger", only(*OFFICERS)),
    ("GET", "/v1/welfare/payouts", only(*OFFICERS)),
    ("GET", "/v1/welfare/counselling", only(*OFFICERS)),
    ("POST", "/v1/welfare/funds/{fund}/budgets", only("admin")),
    ("POST", "/v1/mutual-aid/plans", only(*OFFICERS)),
    ("GET", "/v1/mutual-aid/plans", everyone()),
    ("GET", "/v1/mutual-aid/plans/{plan}", everyone()),
    ("POST", "/v1/mutual-aid/plans/{plan}/contributions", only(*OFFICERS)),
    ("POST", "/v1/mutual-aid/plans/{plan}/enrolments", only("unit_admin", "other_unit_admin", *OFFICERS)),
    ("GET", "/v1/mutual-aid/plans/{plan}/enrolments", only("unit_admin", "other_unit_admin", *OFFICERS)),
    # the owner's row has a claim: it stays (409) for those who may take workers off the roster
    ("DELETE", "/v1/mutual-aid/plans/{plan}/enrolments/{roster_row}",
     only("unit_admin", *OFFICERS, other_unit_admin=404)),
    ("PATCH", "/v1/mutual-aid/plans/{plan}/enrolments/{roster_row}",
     only("unit_admin", *OFFICERS, other_unit_admin=404)),
    ("POST", "/v1/mutual-aid/plans/{plan}/renewal", only("unit_admin", "other_unit_admin", *OFFICERS)),
    ("POST", "/v1/mutual-aid/plans/{plan}/renewal/confirmation", only("unit_admin", "other_unit_admin", *OFFICERS)),
    ("GET", "/v1/mutual-aid/imports/{enrolment_import}", only("unit_admin", *OFFICERS, other_unit_admin=404)),
    ("POST", "/v1/mutual-aid/claims", signed_in()),
    ("GET", "/v1/mutual-aid/claims", signed_in()),
    ("GET", "/v1/mutual-aid/claims/{claim}", signed_in(404, owner=OK, welfare_officer=OK, admin=OK)),
    ("POST", "/v1/mutual-aid/claims/{claim}/assignment", only(*OFFICERS)),
    ("POST", "/v1/mutual-aid/claims/{claim}/decisions", only(*OFFICERS)),
    ("POST", "/v1/mutual-aid/claims/{claim}/payouts", only(*OFFICERS)),
    ("POST", "/v1/mutual-aid/claims/{claim}/documents", signed_in(404, owner=OK, welfare_officer=403, admin=403)),
    ("GET", "/v1/mutual-aid/claims/{claim}/documents/{claim_document}",
     signed_in(404, owner=OK, welfare_officer=403, admin=403)),
    # operations
    ("GET", "/v1/stats", only(*TEACHERS, "venue_manager", "welfare_officer", "desk", "admin")),
    ("GET", "/v1/reports/summary", only(*TEACHERS, "venue_manager", "welfare_officer", "desk", "admin")),
]


_days = (datetime(2031, 1, 1) + timedelta(days=k) for k in range(365))


@pytest.fixture(scope="module")
def world(palace, admin):
    """The actors, signed in, and the objects the owner owns."""
    unit = admin.post("/v1/units", json={"name": "Matrix Steelworks branch"}).json()["id"]
    other_unit = admin.post("/v1/units", json={"name": "Matrix Harbour branch"}).json()["id"]
    owner = new_member(palace.url, "Owner Chen")
    actors = {
        "anonymous": Client(palace.url), "owner": owner, "stranger": new_member(palace.url, "Stranger Wu"),
        "unit_admin": new_staff(palace.url, admin, ["unit_admin"], unit_id=unit),
        "other_unit_admin": new_staff(palace.url, admin, ["unit_admin"], unit_id=other_unit),
        "admin": admin,
        **{role: new_staff(palace.url, admin, [role]) for role in ("teacher", "venue_manager", "welfare_officer",
                                                                   "desk")},
        "other_teacher": new_staff(palace.url, admin, ["teacher"], name="Other Teacher Sun"),
    }
    taught = [actors["teacher"].id]  # every course below is the teacher's; other_teacher has one of their own
    assert actors["other_teacher"].post("/v1/courses", json={"title": "Matrix erhu", "capacity": 5}).status_code == 201
    owner_phone = owner.get("/v1/me").json()["phone"]
    assert admin.post(f"/v1/units/{unit}/members", json={"phone": owner_phone}).status_code == 200
    course = admin.post("/v1/courses", json={"title": "Matrix choir", "capacity": 30, "teacher_ids": taught}).json()["id"]
    enrolment = owner.post(f"/v1/courses/{course}/enrolments").json()["id"]
    notification = eventually(lambda: owner.get("/v1/me/notifications").json())[0]["id"]
    held = admin.post("/v1/courses", json={"title": "Matrix tea art", "capacity": 5, "attendance_threshold": 0.5,
                                           "teacher_ids": taught,
                                           "schedule": {"dates": [{"starts_at": "2026-01-05T19:00:00+08:00",
                                                                   "ends_at": "2026-01-05T21:00:00+08:00"}]}}).json()
    session = held["sessions"][0]["id"]
    earned = owner.post(f"/v1/courses/{held['id']}/enrolments").json()["id"]
    assert admin.post(f"/v1/sessions/{session}/attendance",
                      json={"marks": [{"member_id": owner.id, "present": True}]}).status_code == 200
    certificate = owner.get(f"/v1/enrolments/{earned}/certificate").text.split("<code>")[1].split("</code>")[0]
    lottery = admin.post("/v1/courses", json={"title": "Matrix calligraphy", "capacity": 5, "allocation": "lottery",
                                              "teacher_ids": taught,
                                              "draw_at": "2030-01-01T00:00:00+08:00"}).json()["id"]
    assert admin.post(f"/v1/courses/{lottery}/lottery").status_code == 200
    class_request = actors["unit_admin"].post("/v1/class-requests", json={
        "title": "Matrix first aid", "site_id": "00000000-0000-4000-8000-000000000001", "capacity": 20}).json()["id"]

    broadcast = admin.post("/v1/broadcasts", json={"audience": "course", "course_id": course, "title": "Matrix",
                                                    "body": "Choir practice moves to Hall B"}).json()["id"]
    yoga = admin.post("/v1/courses", json={"title": "Matrix yoga", "capacity": 5, "teacher_ids": taught}).json()["id"]
    to_cancel = owner.post(f"/v1/courses/{yoga}/enrolments").json()["id"]  # cancelled once, then a 409
    site = admin.post("/v1/sites", json={"name": "Matrix Workers' Home", "kind": "shared"}).json()["id"]
    room = admin.post("/v1/rooms", json={"site_id": site, "name": "Matrix hall", **NO_LIMITS, "capacity": 50}).json()["id"]
    club = admin.post("/v1/clubs", json={"name": "Matrix choir", "leader_id": owner.id}).json()["id"]
    booking = owner.post("/v1/bookings", json={"room_id": room, "title": "Matrix rehearsal",
                                               "starts_at": "2030-03-05T19:00:00+08:00",
                                               "ends_at": "2030-03-05T21:00:00+08:00"}).json()["id"]

    def fresh_unit_member():
        member = new_member(palace.url)
        phone = member.get("/v1/me").json()["phone"]
        assert admin.post(f"/v1/units/{unit}/members", json={"phone": phone}).status_code == 200
        return member.id

    objects = {"owner": lambda: owner.id, "unit": lambda: unit, "course": lambda: course,
               "enrolment": lambda: enrolment, "notification": lambda: notification,
               "room": lambda: room, "booking": lambda: booking, "year": lambda: "2026", "club": lambda: club,
               "feed_token": lambda: owner.post("/v1/me/calendar-feed").json()["token"],
               "calendar_day": lambda: admin.post("/v1/calendar/days", json={
                   "day": f"2031-{next(_days):%m-%d}", "kind": "holiday", "name": "Matrix day"}).json()["day"],
               "fresh_account": lambda: new_member(palace.url).id, "fresh_unit_member": fresh_unit_member,
               "to_cancel": lambda: to_cancel, "certificate": lambda: certificate, "session": lambda: session,
               "lottery": lambda: lottery, "class_request": lambda: class_request, "broadcast": lambda: broadcast,
               "fresh_course": lambda: admin.post("/v1/courses", json={"title": "Matrix dance", "capacity": 5,
                                                                        "teacher_ids": taught}).json()["id"],
               "category": lambda: "Matrix calligraphy", "site_id": lambda: site,
               "missing": lambda: str(uuid.uuid4())}
    objects.update(_welfare_objects(actors, unit))
    return actors, objects


def _welfare_objects(actors, unit):
    """The owner's legal-aid case, a plan the owner's unit enrolled them in, the import, a claim."""
    owner, admin = actors["owner"], actors["admin"]
    application = owner.post("/v1/welfare/applications", json={"programme": "legal_aid", "reason": "unpaid wages"})
    document = owner.post(f"/v1/welfare/applications/{application.json()['id']}/documents",
                          data=b"%PDF-1.4\n%%EOF\n", params={"kind": "dismissal_letter"},
                          headers={"Content-Type": "application/pdf"})
    plan = admin.post("/v1/mutual-aid/plans", json={"year": 2026, "name": "Matrix plan", "contribution": "60.00",
                                                    "rules": {"hospital_daily": "50.00", "hospital_deductible_days": 3,
                                                              "hospital_max_days": 90, "waiting_days": 90,
                                                              "critical_illness": "10000.00", "yearly_cap": "15000.00",
                                                              "accident": {"minor": "500.00", "moderate": "2000.00",
                                                                           "severe": "5000.00",
                                                                           "disability": "10000.00"}}}).json()["id"]
    upload = actors["unit_admin"].post(f"/v1/mutual-aid/plans/{plan}/enrolments",
                                       data=f"name,national_id,member_id\nOwner Chen,11010519491231002X,{owner.id}\n",
                                       headers={"Content-Type": "text/csv"}).json()["id"]
    eventually(lambda: actors["unit_admin"].get(f"/v1/mutual-aid/imports/{upload}").json()["status"] == "done")
    claim = owner.post("/v1/mutual-aid/claims", json={"plan_id": plan, "kind": "accident", "details": {
        "severity": "minor"}, "event_date": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()})
    assert application.status_code == claim.status_code == document.status_code == 201, (
        application.text, claim.text, document.text)
    claim_document = owner.post(f"/v1/mutual-aid/claims/{claim.json()['id']}/documents", data=b"%PDF-1.4\n%%EOF\n",
                                params={"kind": "accident_report"}, headers={"Content-Type": "application/pdf"})
    assert claim_document.status_code == 201, claim_document.text
    row = actors["unit_admin"].get(f"/v1/mutual-aid/plans/{plan}/enrolments").json()[0]["id"]
    return {"application": lambda: application.json()["id"], "document": lambda: document.json()["id"],
            "claim_document": lambda: claim_document.json()["id"], "roster_row": lambda: row,
            "fund": lambda: "hardship_relief", "programme": lambda: "hardship_relief",
            "plan": lambda: plan, "enrolment_import": lambda: upload, "claim": lambda: claim.json()["id"]}


def _outcome(status):
    return status if status in (401, 403, 404) else OK


@pytest.mark.parametrize("method,path,expected", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_access(world, method, path, expected):
    actors, objects = world
    wrong = {}
    for actor in ACTORS:
        url = path.format(**{name: make() for name, make in objects.items() if "{" + name + "}" in path})
        answer = actors[actor].http.request(method, actors[actor].base + url, json={}, timeout=15)
        assert answer.status_code < 500, f"{actor}: {answer.status_code} {answer.text}"
        if _outcome(answer.status_code) != expected[actor]:
            wrong[actor] = (answer.status_code, answer.text[:200])
    assert not wrong, f"expected {expected}, but: {wrong}"


def test_every_operation_of_the_api_is_in_the_matrix(palace):
    document = Client(palace.url).get("/openapi.json").json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    in_matrix = {(method, _shape(path)) for method, path, _ in MATRIX}
    missing = {(m, p) for m, p in documented if (m, _shape(p)) not in in_matrix}
    assert not missing, f"operations with no row in the access matrix: {sorted(missing)}"


def _shape(path):
    """/v1/courses/{course_id} -> /v1/courses/{}"""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))
