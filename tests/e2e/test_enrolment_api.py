"""Enrolment over HTTP through the gateway: what members, teachers and unit administrators do."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import Client, new_member, new_staff
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
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Classroom 2", "capacity": 30}).json()
    course_id = admin.post("/v1/courses", {"title": "Woodcut 版画", "capacity": 10}).json()["id"]
    member = new_member(palace.url)
    assert member.post(f"/v1/courses/{course_id}/enrolments").json()["status"] == "confirmed"
    first = datetime(2032, 3, 2, 11, 0, tzinfo=timezone.utc)
    dates = [{"starts_at": iso(first + timedelta(weeks=w)), "ends_at": iso(first + timedelta(weeks=w, hours=2))}
             for w in range(3)]
    taken = admin.post("/v1/courses", {"title": "Paper cutting", "capacity": 5, "room_id": room["id"],
                                       "schedule": {"dates": dates[1:2]}})
    assert taken.status_code == 201, taken.text

    clash = admin.patch(f"/v1/courses/{course_id}", {"room_id": room["id"], "schedule": {"dates": dates}})
    doc = assert_problem(clash, 409, "room-clash", "occurrences")
    assert [datetime.fromisoformat(d) for d in doc["errors"]["occurrences"]] == [first + timedelta(weeks=1)]
    assert admin.get(f"/v1/courses/{course_id}").json()["sessions"] == []

    done = admin.patch(f"/v1/courses/{course_id}", {"room_id": room["id"], "schedule": {"dates": dates[::2]}})
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
    course = admin.post("/v1/courses", {"title": "Handicraft 手工", "capacity": 4, "schedule": {"dates": [
        {"starts_at": iso(start), "ends_at": iso(start + timedelta(hours=2))}]}}).json()
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
            "/v1/certificates/{code}"} <= set(paths)
    assert "delete" in paths["/v1/enrolments/{enrolment_id}"]
