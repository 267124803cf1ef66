"""Enrolment over HTTP through the gateway: what members, teachers and unit administrators do."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import pypdf
import pytest
import requests
import zxingcpp
from PIL import Image

from tests.e2e.conftest import ANY_VERSION, NO_LIMITS, Client, new_member, new_staff
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually


def iso(moment):
    return moment.isoformat()


@pytest.fixture(scope="module")
def teacher(palace, admin):
    return new_staff(palace.url, admin, ["teacher"], name="Zhou Min")


def test_a_term_a_weekly_evening_class_and_the_search_that_finds_it(palace, admin):
    term = admin.post("/v1/terms", {"name": f"2027 autumn {uuid.uuid4().hex[:6]}", "starts_on": "2027-09-01",
                                    "ends_on": "2027-09-30", "holidays": ["2027-09-15"]})
    assert term.status_code == 201, term.text
    site = str(uuid.uuid4())
    course = admin.post("/v1/courses", {
        "title": "Flower arranging 插花", "capacity": 12, "term_id": term.json()["id"], "site_id": site,
        "category": "craft", "schedule": {"weekly": {"weekdays": [3], "start_time": "19:30", "duration_minutes": 90}}})
    assert course.status_code == 201, course.text
    assert len(course.json()["sessions"]) == 4, "Wednesdays of September 2027 but the Mid-Autumn holiday"
    anyone = Client(palace.url)
    found = anyone.get("/v1/courses", params={"site_id": site, "weekday": 3, "evening": "true", "q": "插花",
                                              "open_seats": "true"})
    assert found.status_code == 200 and [c["id"] for c in found.json()] == [course.json()["id"]]
    assert anyone.get("/v1/courses", params={"site_id": site, "weekday": 2}).json() == []
    assert_problem(anyone.get("/v1/courses", params={"weekday": 9}), 400, "bad-request")
    assert_problem(anyone.get("/v1/courses", params={"site_id": "nope"}), 400, "bad-request")


def test_a_weekly_class_follows_the_working_calendar_that_room_series_follow(palace, admin):
    """A 调休 Saturday kept as a Wednesday gets the Wednesday class; a Wednesday holiday does not (2032:
    a year no other test edits)."""
    made_up, holiday = "2032-03-13", "2032-03-17"
    days = [{"day": made_up, "kind": "workday", "name": "调休 make-up day", "as_weekday": 3},
            {"day": holiday, "kind": "holiday", "name": "A holiday"}]
    for day in days:
        assert admin.post("/v1/calendar/days", day).status_code in (200, 201)
    try:
        course = admin.post("/v1/courses", {
            "title": "Calligraphy 书法", "capacity": 12, "site_id": str(uuid.uuid4()), "category": "arts",
            "schedule": {"weekly": {"weekdays": [3], "start_time": "19:00", "duration_minutes": 90,
                                    "starts_on": "2032-03-08", "ends_on": "2032-03-26"}}})
        assert course.status_code == 201, course.text
        held = [s["starts_at"][:10] for s in course.json()["sessions"]]
        assert held == ["2032-03-10", made_up, "2032-03-24"]
    finally:
        for day in days:
            admin.delete(f"/v1/calendar/days/{day['day']}")


def test_a_member_sees_the_line_leaves_it_and_a_cancelled_seat_goes_to_the_next(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Posture", "capacity": 1}).json()["id"]
    first, second, third = (new_member(palace.url) for _ in range(3))
    seat = first.post(f"/v1/courses/{course_id}/enrolments", {})
    assert seat.status_code == 201 and seat.json()["status"] == "confirmed"
    two = second.post(f"/v1/courses/{course_id}/enrolments")
    three = third.post(f"/v1/courses/{course_id}/enrolments", {"seats": 1})
    assert (two.json()["position"], three.json()["position"]) == (1, 2)

    left = second.delete(f"/v1/enrolments/{two.json()['id']}")
    assert left.status_code == 200 and left.json()["status"] == "cancelled"
    [mine] = third.get("/v1/me/enrolments").json()
    assert mine["position"] == 1, "the line closes up"
    assert_problem(second.delete(f"/v1/enrolments/{seat.json()['id']}"), 404, "enrolment-not-found")

    assert first.delete(f"/v1/enrolments/{seat.json()['id']}").status_code == 200
    assert third.get(f"/v1/enrolments/{three.json()['id']}").json()["status"] == "confirmed"
    # the catalog is a read model fed by the events: it catches up within moments
    eventually(lambda: (lambda d: (d["seats_left"], d["waitlist_length"]) == (0, 0))(
        Client(palace.url).get(f"/v1/courses/{course_id}").json()))


def test_a_class_to_be_announced_gets_its_room_later_and_its_members_are_told(palace, admin):
    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Classroom 2", **NO_LIMITS, "capacity": 30}).json()
    course_id = admin.post("/v1/courses", {"title": "Woodcut 版画", "capacity": 10}).json()["id"]
    member = new_member(palace.url)
    assert member.post(f"/v1/courses/{course_id}/enrolments").json()["status"] == "confirmed"
    first = datetime(2032, 3, 2, 11, 0, tzinfo=timezone.utc)
    dates = [{"starts_at": iso(first + timedelta(weeks=w)), "ends_at": iso(first + timedelta(weeks=w, hours=2))}
             for w in range(3)]
    taken = admin.post("/v1/courses", {"title": "Paper cutting", "capacity": 5, "room_id": room["id"],
                                       "schedule": {"dates": dates[1:2]}})
    assert taken.status_code == 201, taken.text

    clash = admin.patch(f"/v1/courses/{course_id}", {"room_id": room["id"], "schedule": {"dates": dates}},
                        headers=ANY_VERSION)
    doc = assert_problem(clash, 409, "room-clash", "occurrences")
    assert [datetime.fromisoformat(d) for d in doc["errors"]["occurrences"]] == [first + timedelta(weeks=1)]
    assert admin.get(f"/v1/courses/{course_id}").json()["sessions"] == []

    done = admin.patch(f"/v1/courses/{course_id}", {"room_id": room["id"], "schedule": {"dates": dates[::2]}},
                       headers=ANY_VERSION)
    assert done.status_code == 200, done.text
    assert done.json()["room_id"] == room["id"] and len(done.json()["sessions"]) == 2

    def told():
        return [n for n in member.get("/v1/me/notifications").json()
                if n["event_type"] == "enrolment.course_rescheduled"]
    [note] = eventually(told, timeout=15)
    assert note["title"] == "课表已公布：Woodcut 版画" and "下次上课：3月2日 周二 19:00" in note["body"]
    assert "Classroom 2" in note["body"]


def test_a_lottery_entry_is_confirmed_to_the_member(palace, admin):
    draw_at = datetime.now(timezone.utc) + timedelta(days=3)
    course_id = admin.post("/v1/courses", {"title": "Guqin 古琴", "capacity": 3, "allocation": "lottery",
                                           "draw_at": iso(draw_at)}).json()["id"]
    member = new_member(palace.url)
    assert member.post(f"/v1/courses/{course_id}/enrolments").json()["status"] == "registered"
    [note] = eventually(lambda: member.get("/v1/me/notifications").json(), timeout=15)
    assert note["event_type"] == "enrolment.lottery_interest_registered"
    assert note["title"] == "已登记抽签：Guqin 古琴" and "抽签时间：" in note["body"]


def test_the_lottery_shows_a_member_only_their_own_rank(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Pipa 琵琶", "capacity": 1, "allocation": "lottery",
                                           "draw_at": iso(datetime.now(timezone.utc) + timedelta(days=3))}).json()["id"]
    members = [new_member(palace.url) for _ in range(3)]
    for m in members:
        assert m.post(f"/v1/courses/{course_id}/enrolments").json()["status"] == "registered"
    drawn = admin.post(f"/v1/courses/{course_id}/lottery").json()
    entrant_ids = {r["member_id"] for r in drawn["result"]}
    assert len(entrant_ids) == 3 and len(drawn["inputs"]) == 3, "the staff see the whole draw"

    anonymous = Client(palace.url).get(f"/v1/courses/{course_id}/lottery")
    assert anonymous.status_code == 200 and not any(m in anonymous.text for m in entrant_ids)
    assert anonymous.json()["seed"] == drawn["seed"] and anonymous.json()["entrants"] == 3
    mine = members[0].get(f"/v1/courses/{course_id}/lottery").json()
    [own] = mine["result"]
    assert own in drawn["result"] and mine["inputs"] == [] and mine["reproduced"] is True
    assert not any(m in str(mine) for m in entrant_ids - {own["member_id"]}), "no other entrant's id"


def test_bad_enrolments_get_a_reason(palace, admin):
    member = new_member(palace.url)
    closed = admin.post("/v1/courses", {"title": "Closed", "capacity": 3,
                                        "opens_at": iso(datetime.now(timezone.utc) - timedelta(days=3)),
                                        "closes_at": iso(datetime.now(timezone.utc) - timedelta(days=1))})
    assert_problem(member.post(f"/v1/courses/{closed.json()['id']}/enrolments"), 422, "enrolment-closed")
    course_id = admin.post("/v1/courses", {"title": "Open", "capacity": 3}).json()["id"]
    assert_problem(member.post(f"/v1/courses/{course_id}/enrolments", {"seats": 2}), 422, "validation-failed",
                   "seats")
    assert_problem(member.post(f"/v1/courses/{course_id}/enrolments", {"birth_date": "soon"}), 422,
                   "validation-failed", "birth_date")
    assert member.post(f"/v1/courses/{course_id}/enrolments", headers={"Idempotency-Key": "a"}).status_code == 201
    assert_problem(member.post(f"/v1/courses/{course_id}/enrolments", headers={"Idempotency-Key": "b"}), 409,
                   "already-enrolled")
    assert_problem(admin.post("/v1/courses", {"title": "x", "capacity": 5, "schedule": {"dates": [
        {"starts_at": "2027-03-01T19:00:00+08:00", "ends_at": "2027-03-01T18:00:00+08:00"}]}}), 422,
        "validation-failed", "schedule")
    assert_problem(admin.post("/v1/terms", {"name": "bad", "starts_on": "2027-02-30", "ends_on": "2027-03-01"}),
                   422, "validation-failed", "starts_on")


def test_attendance_a_certificate_page_and_its_public_check(palace, admin, teacher):
    start = datetime.now(timezone.utc) - timedelta(days=1)
    course = admin.post("/v1/courses", {"title": "Handicraft 手工", "capacity": 4, "teacher_ids": [teacher.id],
                                        "schedule": {"dates": [{"starts_at": iso(start),
                                                                "ends_at": iso(start + timedelta(hours=2))}]}}).json()
    member = new_member(palace.url)
    enrolment = member.post(f"/v1/courses/{course['id']}/enrolments").json()
    session_id = course["sessions"][0]["id"]
    assert_problem(member.post(f"/v1/sessions/{session_id}/attendance",
                               {"marks": [{"member_id": member.id, "present": True}]}), 403, "forbidden")
    marked = teacher.post(f"/v1/sessions/{session_id}/attendance",
                          {"marks": [{"member_id": member.id, "present": True}]})
    assert marked.status_code == 200, marked.text
    page = member.get(f"/v1/enrolments/{enrolment['id']}/certificate")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Handicraft 手工" in page.text
    code = page.text.split("<code>")[1].split("</code>")[0]
    check = Client(palace.url).get(f"/v1/certificates/{code}")
    assert check.status_code == 200 and check.json()["valid"] is True
    assert_problem(Client(palace.url).get("/v1/certificates/NOSUCHCODE"), 404, "certificate-not-found")


def test_the_certificate_as_a_pdf_needs_only_its_code(palace, admin, teacher):
    """The PDF a member prints or shows: reachable with no bearer header, the member's name and the course
    in Chinese as text (not tofu), the code, and a QR a phone reads as the public check's address."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    course = admin.post("/v1/courses", {"title": "太极拳入门", "capacity": 4, "teacher_ids": [teacher.id],
                                        "schedule": {"dates": [{"starts_at": iso(start),
                                                                "ends_at": iso(start + timedelta(hours=2))}]}}).json()
    member = new_member(palace.url, name="李秀英")
    enrolment = member.post(f"/v1/courses/{course['id']}/enrolments").json()
    assert teacher.post(f"/v1/sessions/{course['sessions'][0]['id']}/attendance",
                        {"marks": [{"member_id": member.id, "present": True}]}).status_code == 200
    assert member.get(f"/v1/enrolments/{enrolment['id']}/certificate").status_code == 200
    mine = [e for e in member.get("/v1/me/enrolments").json() if e["id"] == enrolment["id"]][0]
    code = mine["certificate_code"]
    assert code, "the member's list carries the issued certificate's code"

    answer = requests.get(f"{palace.url}/v1/certificates/{code.lower()}/certificate.pdf", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    page = pypdf.PdfReader(io.BytesIO(answer.content)).pages[0]
    text = page.extract_text()
    for said in ("结业证书", "李秀英", "太极拳入门", code, "出勤 1 / 1 次"):
        assert said in text, f"{said!r} not in the PDF's text: {text!r}"
    [qr] = page.images
    image = qr.image.convert("L")
    image = image.resize((image.width * 3, image.height * 3), Image.NEAREST)
    # the QR opens the member app's page for a person checking it, which the gateway serves
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"{palace.url}/verify/{code}"]
    check = requests.get(f"{palace.url}/v1/certificates/{code}", timeout=15)
    # what that page shows: the course, attendance, hours and date, the name masked, nothing private
    assert check.status_code == 200 and check.json() == {
        "valid": True, "code": code, "course_title": "太极拳入门", "attended": 1, "sessions_count": 1,
        "hours": 2.0, "issued_at": check.json()["issued_at"], "holder": "李*英"}, check.text
    assert check.json()["issued_at"].endswith("+08:00")

    assert_problem(requests.get(f"{palace.url}/v1/certificates/NOSUCHCODE/certificate.pdf", timeout=15),
                   404, "certificate-not-found")
    assert_problem(requests.get(f"{palace.url}/v1/certificates/no-such-code!/certificate.pdf", timeout=15),
                   404, "certificate-not-found")


def test_a_sessions_register_reads_back_the_teachers_marks_and_the_door_check_ins(palace, admin, teacher):
    """A tablet's register reopened shows what was marked: the teacher's taps and who checked in at the door;
    another course's teacher and members are not shown it."""
    start = datetime.now(timezone.utc) - timedelta(minutes=30)
    course = admin.post("/v1/courses", {"title": "Choir 合唱", "capacity": 4, "teacher_ids": [teacher.id],
                                        "schedule": {"dates": [{"starts_at": iso(start),
                                                                "ends_at": iso(start + timedelta(hours=2))}]}}).json()
    session_id = course["sessions"][0]["id"]
    absent, door = new_member(palace.url), new_member(palace.url)
    for member in (absent, door):
        assert member.post(f"/v1/courses/{course['id']}/enrolments").json()["status"] == "confirmed"
    assert teacher.get(f"/v1/sessions/{session_id}/attendance").json() == {"session_id": session_id, "marked": []}

    assert teacher.post(f"/v1/sessions/{session_id}/attendance",
                        {"marks": [{"member_id": absent.id, "present": False}]}).status_code == 200
    code = teacher.get(f"/v1/sessions/{session_id}/code").json()["checkin_code"]
    assert door.post(f"/v1/sessions/{session_id}/attendance", {"code": code}).status_code == 200

    register = teacher.get(f"/v1/sessions/{session_id}/attendance")
    assert register.status_code == 200, register.text
    marks = {m["member_id"]: (m["present"], m["source"]) for m in register.json()["marked"]}
    assert marks == {absent.id: (False, "teacher"), door.id: (True, "check_in")}
    assert len(admin.get(f"/v1/sessions/{session_id}/attendance").json()["marked"]) == 2
    other = new_staff(palace.url, admin, ["teacher"], name="Wu Lan")
    assert_problem(other.get(f"/v1/sessions/{session_id}/attendance"), 404, "session-not-found")
    assert_problem(door.get(f"/v1/sessions/{session_id}/attendance"), 403, "forbidden")
    assert_problem(teacher.get(f"/v1/sessions/{uuid.uuid4()}/attendance"), 404, "session-not-found")


def test_a_unit_orders_a_class_and_staff_decide(palace, admin):
    with palace.db("gateway") as conn:
        unit_id = conn.execute("INSERT INTO units (name) VALUES (%s) RETURNING id",
                               (f"Rail depot branch {uuid.uuid4().hex[:6]}",)).fetchone()["id"]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=str(unit_id))
    asked = unit_admin.post("/v1/class-requests", {"title": "Safety at work", "site_id": str(uuid.uuid4()),
                                                   "capacity": 25, "note": "Friday evenings"})
    assert asked.status_code == 201, asked.text
    assert [r["id"] for r in unit_admin.get("/v1/class-requests").json()] == [asked.json()["id"]]
    assert_problem(new_member(palace.url).get("/v1/class-requests"), 403, "forbidden")
    decided = admin.post(f"/v1/class-requests/{asked.json()['id']}/decision", {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    course = Client(palace.url).get(f"/v1/courses/{decided.json()['course_id']}").json()
    assert course["title"] == "Safety at work" and course["unit_ids"] == [str(unit_id)]


def test_age_limits_are_checked_against_the_birth_date_on_the_account(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Youth football", "capacity": 5, "min_age": 12,
                                           "max_age": 16}).json()["id"]
    child = new_member(palace.url, name="Zhang Xiaoming", birth_date="2012-05-01")
    assert child.get("/v1/me").json()["birth_date"] == "2012-05-01"
    grown = new_member(palace.url, name="Zhang Wei", birth_date="1985-09-10")
    # what a member types is ignored once the account holds a birth date
    assert_problem(grown.post(f"/v1/courses/{course_id}/enrolments", {"birth_date": "2012-05-01"}), 403,
                   "not-eligible")
    assert child.post(f"/v1/courses/{course_id}/enrolments").status_code == 201
    undated = new_member(palace.url)  # an account without one: the member declares it
    assert_problem(undated.post(f"/v1/courses/{course_id}/enrolments"), 403, "not-eligible")
    assert undated.post(f"/v1/courses/{course_id}/enrolments", {"birth_date": "2011-02-03"}).status_code == 201
    assert_problem(Client(palace.url).post("/v1/auth/register", {"phone": "13912345670", "name": "x",
                                                                  "password": "long-enough-1",
                                                                  "birth_date": "1850-01-01"}),
                   422, "validation-failed", "birth_date")


def test_the_api_document_lists_the_enrolment_routes(palace):
    paths = Client(palace.url).get("/openapi.json").json()["paths"]
    assert {"/v1/terms", "/v1/enrolments/{enrolment_id}", "/v1/sessions/{session_id}/attendance",
            "/v1/enrolments/{enrolment_id}/certificate", "/v1/class-requests", "/v1/courses/{course_id}/lottery",
            "/v1/certificates/{code}", "/v1/certificates/{code}/certificate.pdf"} <= set(paths)
    assert "delete" in paths["/v1/enrolments/{enrolment_id}"]
