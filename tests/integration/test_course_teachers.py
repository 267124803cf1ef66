"""Teachers own their classes, in the enrolment service over RPC: a course names its teachers, who
alone (with admins) see and act on its staff side; a teacher of another course finds nothing there
and changes nothing. The roster counts attendance; "the courses I teach" shows the next session."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Forbidden, NotFound

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}
DESK = {"caller_id": str(uuid.uuid4()), "caller_roles": "desk"}


def teacher():
    return {"caller_id": str(uuid.uuid4()), "caller_roles": "teacher"}


def member():
    return {"caller_id": str(uuid.uuid4()), "caller_roles": "member"}


@pytest.fixture(scope="module")
def svc(stack):
    stack.start("enrolment")
    return stack


def call(stack, context, method, *args, **kwargs):
    with stack.rpc(context=context, timeout=30) as rpc:
        return getattr(rpc.enrolment, method)(*args, **kwargs)


def iso(moment):
    return moment.isoformat()


def held_course(svc, owner, **extra):
    """A course of `owner`'s with two sessions held and one to come, and three members: two with a
    seat (one of them at both sessions, one missing both), one on the waitlist."""
    now = datetime.now(timezone.utc)
    starts = [now - timedelta(days=2), now - timedelta(days=1), now + timedelta(days=5)]
    course = call(svc, ADMIN, "create_course", {
        "title": "Erhu 二胡", "capacity": 2, "teacher_ids": [owner["caller_id"]],
        "schedule": {"dates": [{"starts_at": iso(s), "ends_at": iso(s + timedelta(hours=1))} for s in starts]},
        **extra})
    keen, absent, waiting = member(), member(), member()
    entries = [call(svc, m, "enrol", course["id"]) for m in (keen, absent, waiting)]
    for session in course["sessions"][:2]:
        call(svc, owner, "record_attendance", session["id"], {"marks": [
            {"member_id": keen["caller_id"], "present": True}, {"member_id": absent["caller_id"], "present": False}]})
    return course, (keen, absent, waiting), entries


def footprint(svc, course_id):
    """What a refused request must leave as it was: the course's row, entries, marks, strikes, outbox."""
    with svc.db("enrolment") as conn:
        return conn.execute(
            "SELECT (SELECT row_to_json(c)::text FROM courses c WHERE c.id = %(c)s) AS course,"
            " (SELECT string_agg(e.status || e.updated_at, ',' ORDER BY e.id) FROM enrolments e"
            "  WHERE e.course_id = %(c)s) AS entries,"
            " (SELECT count(*) FROM attendance a JOIN sessions s ON s.id = a.session_id WHERE s.course_id = %(c)s)"
            "  AS marks,"
            " (SELECT string_agg(coalesce(clear_reason, '-'), ',' ORDER BY id) FROM strikes WHERE course_id = %(c)s)"
            "  AS strikes,"
            " (SELECT max(id) FROM outbox) AS outbox", {"c": course_id}).fetchone()


def test_a_teacher_of_another_course_finds_nothing_and_changes_nothing(svc):
    owner, other = teacher(), teacher()
    call(svc, other, "create_course", {"title": "Their own class", "capacity": 3})
    course, (keen, absent, _), entries = held_course(svc, owner)
    lottery = call(svc, ADMIN, "create_course", {"title": "Lottery", "capacity": 2, "allocation": "lottery",
                                                 "teacher_ids": [owner["caller_id"]],
                                                 "draw_at": iso(datetime.now(timezone.utc) + timedelta(days=3))})
    draft = call(svc, ADMIN, "create_course", {"title": "Draft", "capacity": 2, "publish": False,
                                               "teacher_ids": [owner["caller_id"]]})
    session = course["sessions"][0]["id"]
    before = footprint(svc, course["id"]), footprint(svc, lottery["id"]), footprint(svc, draft["id"])
    refused = [
        ("update_course", course["id"], {"title": "Mine now"}),
        ("publish_course", draft["id"]),
        ("cancel_course", course["id"], {"reason": "not yours"}),
        ("course_enrolments", course["id"]),
        ("course_roster", course["id"]),
        ("draw_lottery", lottery["id"]),
        ("get_course", draft["id"]),
        ("session_code", session),
        ("record_attendance", session, {"marks": [{"member_id": keen["caller_id"], "present": False}]}),
        ("member_strikes", absent["caller_id"]),
        ("clear_strikes", absent["caller_id"], {"reason": "asked nicely"}),
        ("get_enrolment", entries[0]["id"]),
        ("cancel_enrolment", entries[0]["id"]),
        ("certificate", entries[0]["id"]),
    ]
    for method, *args in refused:
        with pytest.raises(NotFound):
            call(svc, other, method, *args)
    assert (footprint(svc, course["id"]), footprint(svc, lottery["id"]), footprint(svc, draft["id"])) == before
    assert draft["id"] not in [c["id"] for c in call(svc, other, "list_courses", 200, 0)]
    assert draft["id"] in [c["id"] for c in call(svc, owner, "list_courses", 200, 0)]

    # the course's own teacher does all of it
    assert call(svc, owner, "course_enrolments", course["id"])
    assert call(svc, owner, "session_code", session)["checkin_code"]
    assert call(svc, owner, "get_course", draft["id"])["state"] == "draft"
    assert call(svc, owner, "publish_course", draft["id"])["state"] == "published"
    assert call(svc, owner, "draw_lottery", lottery["id"])["reproduced"] is True
    assert call(svc, owner, "update_course", course["id"], {"title": "Erhu for beginners"})["title"] == \
        "Erhu for beginners"
    assert len(call(svc, owner, "member_strikes", absent["caller_id"])["strikes"]) == 2


def test_a_teacher_makes_their_own_course_and_only_admins_change_its_teachers(svc):
    maker, colleague = teacher(), teacher()
    course = call(svc, maker, "create_course", {"title": "Guzheng", "capacity": 4,
                                                "teacher_ids": [colleague["caller_id"]]})
    assert course["teacher_ids"] == [maker["caller_id"], colleague["caller_id"]]
    with pytest.raises(Forbidden) as exc:
        call(svc, maker, "update_course", course["id"], {"teacher_ids": [maker["caller_id"]]})
    assert "teacher_ids" in exc.value.errors
    moved = call(svc, ADMIN, "update_course", course["id"], {"teacher_ids": [colleague["caller_id"]]})
    assert moved["teacher_ids"] == [colleague["caller_id"]]
    with pytest.raises(NotFound):
        call(svc, maker, "update_course", course["id"], {"title": "Still mine?"})
    assert call(svc, colleague, "update_course", course["id"], {"capacity": 5})["capacity"] == 5


def test_the_roster_counts_attendance_and_a_teacher_clears_only_the_strikes_of_their_classes(svc):
    owner = teacher()
    course, (keen, absent, waiting), _entries = held_course(svc, owner)
    roster = call(svc, owner, "course_roster", course["id"], with_total=True)
    assert roster["total"] == 3
    rows = {r["member_id"]: r for r in roster["items"]}
    assert [(rows[m["caller_id"]]["status"], rows[m["caller_id"]]["position"], rows[m["caller_id"]]["attended"],
             rows[m["caller_id"]]["held"]) for m in (keen, absent, waiting)] == [
        ("confirmed", None, 2, 2), ("confirmed", None, 0, 2), ("waitlisted", 1, 0, 2)]
    assert [r["status"] for r in roster["items"]] == ["confirmed", "confirmed", "waitlisted"], "seats, then the line"
    assert call(svc, DESK, "course_roster", course["id"], "waitlisted") == [rows[waiting["caller_id"]]]
    assert call(svc, ADMIN, "course_roster", course["id"], limit=1, offset=2) == [rows[waiting["caller_id"]]]

    # the absent member also missed a class of another teacher's: theirs stands
    other = teacher()
    past = datetime.now(timezone.utc) - timedelta(days=3)
    elsewhere = call(svc, ADMIN, "create_course", {
        "title": "Chess", "capacity": 3, "teacher_ids": [other["caller_id"]],
        "schedule": {"dates": [{"starts_at": iso(past), "ends_at": iso(past + timedelta(hours=1))}]}})
    call(svc, absent, "enrol", elsewhere["id"])
    call(svc, other, "record_attendance", elsewhere["sessions"][0]["id"],
         {"marks": [{"member_id": absent["caller_id"], "present": False}]})
    cleared = call(svc, owner, "clear_strikes", absent["caller_id"], {"reason": "was ill"})
    assert sorted((s["course_id"], s["clear_reason"]) for s in cleared["strikes"]) == sorted(
        [(course["id"], "was ill"), (course["id"], "was ill"), (elsewhere["id"], None)])


def test_the_courses_i_teach_with_their_next_session(svc):
    me = teacher()
    course, _members, _entries = held_course(svc, me)
    later = call(svc, me, "create_course", {"title": "No timetable yet", "capacity": 3})
    call(svc, ADMIN, "create_course", {"title": "Someone else's", "capacity": 3, "teacher_ids": [teacher()["caller_id"]]})
    mine = call(svc, me, "my_teaching", with_total=True)
    assert [c["id"] for c in mine["items"]] == [course["id"], later["id"]] and mine["total"] == 2
    assert mine["items"][0]["next_session"]["id"] == course["sessions"][2]["id"]
    assert mine["items"][1]["next_session"] is None
    with pytest.raises(Forbidden):
        call(svc, member(), "my_teaching")
