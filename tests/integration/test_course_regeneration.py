"""A course laid out before the recurrence helper gets its sessions to come laid out again on the
working calendar (调休), through the real enrolment and venues services as `palace courses
regenerate` asks (signed as ops): the make-up day gains a class and its room, the public holiday
loses both, the sessions held keep their ids and attendance, a second run finds nothing, and no
part but ops tooling may ask."""
import json
import secrets
import subprocess
import sys
import uuid
from datetime import date, datetime, time, timedelta

import pytest

from services.common.errors import Forbidden
from services.common.zone import HOME_ZONE
from tests.harness import ROOT
from tests.integration.test_enrolment_rooms import ADMIN, bookings, call, outbox


@pytest.fixture(scope="module")
def palace(stack):
    stack.start_all(["venues", "enrolment"])
    return stack


def regenerate(stack, apply):
    with stack.rpc(part="ops", timeout=60) as rpc:
        return rpc.enrolment.regenerate_timetables(apply)


def at(day):
    return datetime.combine(day, time(19), tzinfo=HOME_ZONE)


def sessions(stack, course_id):
    with stack.db("enrolment") as conn:
        return conn.execute("SELECT id, starts_at, state FROM sessions WHERE course_id = %s ORDER BY starts_at",
                            (course_id,)).fetchall()


def tuesdays(palace):
    """(two Tuesdays held, five to come, the second of them a public holiday, the Saturday after it
    a make-up working day kept as a Tuesday), the two days in venues' calendar."""
    today = datetime.now(HOME_ZONE).date()
    tuesday = today - timedelta(days=(today.weekday() - 1) % 7 or 7)  # the last Tuesday before today
    held = [tuesday - timedelta(weeks=1), tuesday]
    to_come = [tuesday + timedelta(weeks=k) for k in range(1, 6)]
    holiday, make_up = to_come[1], to_come[1] + timedelta(days=4)
    with palace.db("venues") as conn:
        conn.execute("INSERT INTO calendar_days (day, kind, name, as_weekday) VALUES (%s, 'holiday', '假日', NULL),"
                     " (%s, 'workday', '调休', 2) ON CONFLICT DO NOTHING", (holiday, make_up))
    return held, to_come, holiday, make_up


def old_course(palace, days, **extra):
    """A course laid out the old way: every Tuesday, the calendar not asked."""
    return call(palace, "enrolment", "create_course", {
        "title": "茶艺 Tea art", "capacity": 10, **extra,
        "schedule": {"dates": [{"starts_at": at(d).isoformat(), "ends_at": (at(d) + timedelta(hours=2)).isoformat()}
                               for d in days]}})


def test_an_old_courses_sessions_to_come_follow_the_working_calendar_and_the_past_stays(palace):
    held, to_come, holiday, make_up = tuesdays(palace)
    site = call(palace, "venues", "create_site", {"name": f"Palace {uuid.uuid4().hex[:6]}", "kind": "palace"})
    room = call(palace, "venues", "create_room", {"site_id": site["id"], "name": "Tea room", "capacity": 20})
    course = old_course(palace, to_come, room_id=room["id"])
    member = {"caller_id": str(uuid.uuid4()), "caller_roles": "member"}
    entry = call(palace, "enrolment", "enrol", course["id"], context=member)
    with palace.db("enrolment") as conn:  # the two classes held, one of them marked
        past = [conn.execute("INSERT INTO sessions (course_id, starts_at, ends_at, checkin_code) VALUES (%s, %s, %s, %s)"
                             " RETURNING id", (course["id"], at(d), at(d) + timedelta(hours=2),
                                               f"{secrets.randbelow(10**6):06d}")).fetchone()["id"] for d in held]
        conn.execute("INSERT INTO attendance (session_id, member_id, enrolment_id, present, source)"
                     " VALUES (%s, %s, %s, true, 'teacher')", (past[1], member["caller_id"], entry["id"]))
    before = sessions(palace, course["id"])

    [seen] = [c for c in regenerate(palace, apply=False) if c["course_id"] == course["id"]]
    assert seen == {"course_id": course["id"], "applied": False,
                    "adds": [at(make_up).isoformat()], "drops": [at(holiday).isoformat()]}
    assert sessions(palace, course["id"]) == before, "shown, not changed"

    [done] = [c for c in regenerate(palace, apply=True) if c["course_id"] == course["id"]]
    assert done["applied"] is True
    after = sessions(palace, course["id"])
    assert [s["starts_at"].astimezone(HOME_ZONE).date() for s in after] == \
        held + [to_come[0], make_up] + to_come[2:]
    assert [s["id"] for s in after[:2]] == [s["id"] for s in before[:2]], "the classes held are the same rows"
    with palace.db("enrolment") as conn:
        marks = conn.execute("SELECT session_id, present FROM attendance WHERE enrolment_id = %s",
                             (entry["id"],)).fetchall()
    assert marks == [{"session_id": past[1], "present": True}]
    booked = sorted(datetime.fromisoformat(b["starts_at"]).astimezone(HOME_ZONE).date()
                    for b in bookings(palace, room["id"]))
    assert booked == [to_come[0], make_up] + to_come[2:], "the room follows: the make-up day booked, the holiday freed"
    [told] = outbox(palace, "course_rescheduled", course["id"])
    assert told["member_ids"] == [member["caller_id"]]

    assert [c for c in regenerate(palace, apply=True) if c["course_id"] == course["id"]] == [], "a second run: nothing"
    assert sessions(palace, course["id"]) == after


def test_only_ops_tooling_may_ask(palace):
    """Not even an admin through the gateway: the sessions of every course are ops' to lay out again."""
    with pytest.raises(Forbidden) as refused, palace.rpc(context=ADMIN) as rpc:
        rpc.enrolment.regenerate_timetables(True)
    assert refused.value.problem == "caller-not-allowed"


def test_a_course_of_explicit_dates_is_left_as_staff_made_it(palace):
    first = date.today() + timedelta(days=30)
    course = call(palace, "enrolment", "create_course", {"title": "讲座 Lecture", "capacity": 50, "schedule": {"dates": [
        {"starts_at": at(first).isoformat(), "ends_at": (at(first) + timedelta(hours=1)).isoformat()},
        {"starts_at": at(first + timedelta(days=3)).isoformat().replace("19:00", "14:00"),
         "ends_at": at(first + timedelta(days=3)).isoformat().replace("19:00", "16:00")}]}})
    assert all(c["course_id"] != course["id"] for c in regenerate(palace, apply=False))


def test_the_palace_command_shows_then_lays_out_again_and_a_second_run_shows_nothing(palace):
    _, to_come, holiday, make_up = tuesdays(palace)
    course = old_course(palace, to_come)

    def palace_command(*args):
        done = subprocess.run([sys.executable, "-m", "ops.cli", "courses", "regenerate", *args], cwd=ROOT,
                              capture_output=True, text=True, env=palace.env, timeout=120)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()], done.stderr

    shown, said = palace_command()
    assert {"course_id": course["id"], "applied": False, "adds": [at(make_up).isoformat()],
            "drops": [at(holiday).isoformat()]} in shown and "--apply" in said
    made, _ = palace_command("--apply")
    assert [c["applied"] for c in made if c["course_id"] == course["id"]] == [True]
    assert [s["starts_at"].astimezone(HOME_ZONE).date() for s in sessions(palace, course["id"])] == \
        [to_come[0], make_up] + to_come[2:]
    again, said = palace_command("--apply")
    assert again == [] and said.startswith("0 course(s)")
