"""Teachers own their classes, over HTTP: a course names its teachers (their names shown on it), its
roster gives each member's name, phone, status, waitlist place and attendance so far to its teachers,
the desk and admins, and a teacher of another course finds nothing there and changes nothing."""
import csv
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import ANY_VERSION, Client, new_member, new_staff
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually

OWN_PALACE = True  # it counts every broadcast notify holds


def iso(moment):
    return moment.isoformat()


@pytest.fixture(scope="module")
def people(palace, admin):
    return {"teacher": new_staff(palace.url, admin, ["teacher"], name="Teacher Ma 马老师"),
            "other": new_staff(palace.url, admin, ["teacher"], name="Teacher Sun"),
            "desk": new_staff(palace.url, admin, ["desk"], name="Clerk Hu"),
            "members": [new_member(palace.url, name) for name in ("Liu Yang 刘洋", "Chen Jing", "Zhao Lei")]}


def written(palace, course_id):
    """All a refused request could have changed: the course, its entries and the register."""
    with palace.db("enrolment") as conn:
        return conn.execute(
            "SELECT (SELECT row_to_json(c)::text FROM courses c WHERE c.id = %(c)s) AS course,"
            " (SELECT string_agg(e.status || e.updated_at, ',' ORDER BY e.id) FROM enrolments e"
            "  WHERE e.course_id = %(c)s) AS entries,"
            " (SELECT string_agg(a.member_id || a.present::text || a.marked_at, ',' ORDER BY a.member_id, a.marked_at)"
            "  FROM attendance a JOIN sessions s ON s.id = a.session_id WHERE s.course_id = %(c)s) AS marks",
            {"c": course_id}).fetchone()


@pytest.fixture(scope="module")
def course(palace, admin, people):
    """Two sessions held and one to come; two members with a seat (one came to both, one to
    neither), one waiting."""
    now = datetime.now(timezone.utc)
    starts = [now - timedelta(days=8), now - timedelta(days=1), now + timedelta(days=6)]
    made = admin.post("/v1/courses", {"title": "Erhu 二胡 evening", "capacity": 2,
                                      "teacher_ids": [people["teacher"].id],
                                      "schedule": {"dates": [{"starts_at": iso(s), "ends_at": iso(s + timedelta(hours=2))}
                                                             for s in starts]}})
    assert made.status_code == 201, made.text
    course = made.json()
    for member in people["members"]:
        assert member.post(f"/v1/courses/{course['id']}/enrolments").status_code == 201
    came, missed, _ = people["members"]
    for session in course["sessions"][:2]:
        marked = people["teacher"].post(f"/v1/sessions/{session['id']}/attendance", {"marks": [
            {"member_id": came.id, "present": True}, {"member_id": missed.id, "present": False}]})
        assert marked.status_code == 200, marked.text
    return course


def test_the_roster_names_each_member_with_phone_status_place_and_attendance(palace, admin, people, course):
    roster = people["teacher"].get(f"/v1/courses/{course['id']}/roster")
    assert roster.status_code == 200, roster.text
    assert roster.headers["X-Total-Count"] == "3"
    phones = [m.get("/v1/me").json()["phone"] for m in people["members"]]
    assert [(r["name"], r["phone"], r["status"], r["position"], r["attended"], r["held"], r["member_id"])
            for r in roster.json()] == [
        ("Liu Yang 刘洋", phones[0], "confirmed", None, 2, 2, people["members"][0].id),
        ("Chen Jing", phones[1], "confirmed", None, 0, 2, people["members"][1].id),
        ("Zhao Lei", phones[2], "waitlisted", 1, 0, 2, people["members"][2].id)]
    first = people["desk"].get(f"/v1/courses/{course['id']}/roster", params={"limit": 2})
    assert first.status_code == 200 and len(first.json()) == 2 and 'rel="next"' in first.headers["Link"]
    waiting = admin.get(f"/v1/courses/{course['id']}/roster", params={"status": "waitlisted"})
    assert [r["name"] for r in waiting.json()] == ["Zhao Lei"] and waiting.headers["X-Total-Count"] == "1"
    assert_problem(admin.get(f"/v1/courses/{course['id']}/roster", params={"status": "asleep"}),
                   422, "validation-failed", "status")
    assert_problem(people["members"][0].get(f"/v1/courses/{course['id']}/roster"), 403, "forbidden")
    assert_problem(admin.get(f"/v1/courses/{uuid.uuid4()}/roster"), 404, "course-not-found")


def test_the_roster_exports_for_the_register_book(palace, people, course):
    """The teacher prints the roster: a CSV for Excel (BOM, Chinese headers), every row, names and phones."""
    answer = people["teacher"].get(f"/v1/courses/{course['id']}/roster", headers={"Accept": "text/csv"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv"), answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(header) == 8 and all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for title in header), header
    assert [row[0] for row in rows] == ["Liu Yang 刘洋", "Chen Jing", "Zhao Lei"]
    assert rows[2][1] == people["members"][2].get("/v1/me").json()["phone"]


def test_a_course_shows_its_teachers_names_and_a_teacher_sees_what_they_teach(palace, people, course):
    assert course["teachers"] == [{"id": people["teacher"].id, "name": "Teacher Ma 马老师"}]
    public = Client(palace.url)  # the catalog's read model, fed by the course's events, names them too
    eventually(lambda: public.get(f"/v1/courses/{course['id']}").json().get("teachers") == course["teachers"])
    mine = people["teacher"].get("/v1/me/teaching")
    assert mine.status_code == 200, mine.text
    [taught] = [c for c in mine.json() if c["id"] == course["id"]]
    assert taught["next_session"]["id"] == course["sessions"][2]["id"]
    assert course["id"] not in [c["id"] for c in people["other"].get("/v1/me/teaching").json()]


def test_a_teacher_of_another_course_finds_nothing_and_writes_nothing(palace, people, course):
    other, came = people["other"], people["members"][0]
    session = course["sessions"][1]["id"]
    before = written(palace, course["id"])
    assert_problem(other.get(f"/v1/courses/{course['id']}/roster"), 404, "course-not-found")
    assert_problem(other.post(f"/v1/sessions/{session}/attendance",
                              {"marks": [{"member_id": came.id, "present": False}]}), 404, "session-not-found")
    assert_problem(other.patch(f"/v1/courses/{course['id']}", {"capacity": 40}, headers=ANY_VERSION), 404, "course-not-found")
    assert_problem(other.post(f"/v1/courses/{course['id']}/cancel", {"reason": "mine now"}), 404, "course-not-found")
    assert_problem(other.post(f"/v1/members/{people['members'][1].id}/strikes/clear", {"reason": "kind"}),
                   404, "member-not-found")
    assert written(palace, course["id"]) == before
    assert other.get(f"/v1/courses/{course['id']}").status_code == 200, "the public page stays public"


def test_teachers_are_named_as_accounts_and_changed_by_admins_only(palace, admin, people):
    member = people["members"][0]
    title = f"Guqin {uuid.uuid4().hex[:6]}"
    refused = admin.post("/v1/courses", {"title": title, "capacity": 3, "teacher_ids": [member.id, str(uuid.uuid4())]})
    doc = assert_problem(refused, 422, "validation-failed", "teacher_ids")
    assert len(doc["errors"]["teacher_ids"]) == 2 and member.id in doc["errors"]["teacher_ids"][0] + \
        doc["errors"]["teacher_ids"][1]
    assert admin.get("/v1/courses", params={"q": title}).json() == [], "nothing made"

    made = people["teacher"].post("/v1/courses", {"title": title, "capacity": 3, "publish": False})
    assert made.status_code == 201 and made.json()["teacher_ids"] == [people["teacher"].id], "its maker teaches it"
    course_id = made.json()["id"]
    assert_problem(people["other"].get(f"/v1/courses/{course_id}"), 404, "course-not-found")  # a draft
    assert_problem(people["teacher"].patch(f"/v1/courses/{course_id}", {"teacher_ids": [people["other"].id]},
                                           headers=ANY_VERSION),
                   403, "forbidden", "teacher_ids")
    handed = admin.patch(f"/v1/courses/{course_id}", {"teacher_ids": [people["other"].id]}, headers=ANY_VERSION)
    assert handed.status_code == 200 and handed.json()["teachers"] == [{"id": people["other"].id,
                                                                       "name": "Teacher Sun"}]
    assert people["other"].get(f"/v1/courses/{course_id}/roster").status_code == 200
    assert_problem(people["teacher"].get(f"/v1/courses/{course_id}/roster"), 404, "course-not-found")
    assert_problem(admin.patch(f"/v1/courses/{course_id}", {"teacher_ids": [people["desk"].id]}, headers=ANY_VERSION),
                   422, "validation-failed", "teacher_ids")


def test_an_approved_class_request_names_teacher_accounts_only(palace, admin, people):
    unit = admin.post("/v1/units", {"name": f"Roster depot branch {uuid.uuid4().hex[:6]}"}).json()["id"]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=unit)
    asked = unit_admin.post("/v1/class-requests", {"title": "Knots", "site_id": str(uuid.uuid4()), "capacity": 9})
    assert asked.status_code == 201, asked.text
    decide = f"/v1/class-requests/{asked.json()['id']}/decision"
    assert_problem(admin.post(decide, {"decision": "approve", "course": {"teacher_ids": [people["desk"].id]}}),
                   422, "validation-failed", "teacher_ids")
    decided = admin.post(decide, {"decision": "approve", "course": {"teacher_ids": [people["teacher"].id]}})
    assert decided.status_code == 200, "the refusal decided nothing: " + decided.text
    roster = people["teacher"].get(f"/v1/courses/{decided.json()['course_id']}/roster")
    assert roster.status_code == 200 and roster.json() == []


def test_only_the_courses_teachers_message_its_students(palace, people, course):
    """A broadcast to a course's students is for its own teachers (and admins): another teacher learns
    nothing of who is on it, and nothing is queued."""
    message = {"audience": "course", "course_id": course["id"], "title": "调课通知", "body": "本周课程改到二号厅"}
    assert_problem(people["other"].post("/v1/broadcasts/preview", json=message), 404, "course-not-found")
    assert_problem(people["other"].post("/v1/broadcasts", json=message), 404, "course-not-found")
    preview = people["teacher"].post("/v1/broadcasts/preview", json=message)
    assert preview.status_code == 200 and preview.json()["recipients"] == 2, preview.text
    with palace.db("notify") as conn:
        assert conn.execute("SELECT count(*) AS n FROM broadcasts").fetchone()["n"] == 0
