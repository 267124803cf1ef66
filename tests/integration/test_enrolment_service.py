"""The enrolment service on real PostgreSQL and RabbitMQ, called over RPC: catalog, limits,
lottery, offers, attendance, strikes, certificates, class requests, stats."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.zone import HOME_ZONE
from services.enrolment import domain
from tests.harness import eventually

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}
TEACHER = {"caller_id": str(uuid.uuid4()), "caller_roles": "teacher"}


@pytest.fixture(scope="module")
def svc(stack):
    stack.start("venues", wait=False)  # a weekly timetable is laid out on venues' working calendar
    stack.start("enrolment", extra_env={"PALACE_ENROLMENT_TICK": "0.5", "PALACE_STRIKE_LIMIT": "2"})
    stack.wait_until_up("venues")
    return stack


def call(stack, context, method, *args, **kwargs):
    with stack.rpc(context=context, timeout=30) as rpc:
        return getattr(rpc.enrolment, method)(*args, **kwargs)


def member(member_id=None, unit=None):
    return {"caller_id": member_id or str(uuid.uuid4()), "caller_roles": "member", "caller_unit": unit or ""}


def iso(moment):
    return moment.isoformat()


def now():
    return datetime.now(timezone.utc)


def events(stack, event_type, **match):
    with stack.db("enrolment") as conn:
        rows = conn.execute("SELECT body->'payload' AS p FROM outbox WHERE event_type = %s ORDER BY id",
                            (event_type,)).fetchall()
    return [r["p"] for r in rows if all(str(r["p"].get(k)) == str(v) for k, v in match.items())]


def dates(*starts, hours=1.5):
    return {"dates": [{"starts_at": iso(s), "ends_at": iso(s + timedelta(hours=hours))} for s in starts]}


def test_a_weekly_course_over_a_term_skips_holidays_and_is_found_by_the_filters(svc):
    term = call(svc, ADMIN, "create_term", {"name": f"2027 spring {uuid.uuid4().hex[:6]}", "starts_on": "2027-03-01",
                                            "ends_on": "2027-03-31", "holidays": ["2027-03-10"], "class_cap": 2})
    site = str(uuid.uuid4())
    course = call(svc, ADMIN, "create_course", {
        "title": "Paper cutting 剪纸", "capacity": 20, "term_id": term["id"], "site_id": site, "category": "craft",
        "teacher": "Master Zhou", "schedule": {"weekly": {"weekdays": [3], "start_time": "19:00",
                                                         "duration_minutes": 90}}})
    starts = [datetime.fromisoformat(s["starts_at"]).astimezone(HOME_ZONE) for s in course["sessions"]]
    assert [s.day for s in starts] == [3, 17, 24, 31], "Wednesdays of March 2027 but the 10th"
    assert course["state"] == "published" and course["version"] >= 1

    def found(**filters):
        return [c["id"] for c in call(svc, member(), "list_courses", 50, 0, filters)]

    assert course["id"] in found(site_id=site, weekday=3, evening=True, open_seats=True, q="剪纸")
    assert course["id"] in found(q="zhou", category="craft")
    assert course["id"] not in found(site_id=site, weekday=1)
    assert course["id"] not in found(site_id=site, evening=False)
    published = events(svc, "course_published", course_id=course["id"])
    assert published and published[0]["course"]["seats_left"] == 20 and "version" in published[0]["course"]


def test_bad_input_is_refused_with_the_field_and_reason(svc):
    with pytest.raises(Invalid) as exc:
        call(svc, ADMIN, "create_course", {"title": "Yoga", "capacity": 0})
    assert "capacity" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        call(svc, ADMIN, "create_course", {"title": "Yoga", "capacity": -3})
    assert "capacity" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        call(svc, ADMIN, "create_course", {"title": "Yoga", "capacity": 5, "schedule": {
            "dates": [{"starts_at": "2027-03-01T19:00:00", "ends_at": "2027-03-01T20:00:00"}]}})
    assert "schedule" in exc.value.errors, "a time without its zone is refused"
    with pytest.raises(Invalid) as exc:
        call(svc, ADMIN, "create_course", {"title": "Yoga", "capacity": 5, "term_id": str(uuid.uuid4())})
    assert "term_id" in exc.value.errors
    with pytest.raises(NotFound):
        call(svc, member(), "enrol", str(uuid.uuid4()))
    closed = call(svc, ADMIN, "create_course", {"title": "Closed", "capacity": 5,
                                                "opens_at": iso(now() - timedelta(days=2)),
                                                "closes_at": iso(now() - timedelta(days=1))})
    with pytest.raises(Invalid) as exc:
        call(svc, member(), "enrol", closed["id"])
    assert exc.value.problem == "enrolment-closed"
    with pytest.raises(Forbidden):
        call(svc, member(), "create_course", {"title": "Mine", "capacity": 5})


def test_the_term_cap_and_the_timetable_are_enforced(svc):
    term = call(svc, ADMIN, "create_term", {"name": f"cap {uuid.uuid4().hex[:6]}", "starts_on": "2027-03-01",
                                            "ends_on": "2027-06-30", "class_cap": 2})
    t0 = now() + timedelta(days=30)
    a = call(svc, ADMIN, "create_course", {"title": "A", "capacity": 5, "term_id": term["id"], **{"schedule": dates(t0)}})
    b = call(svc, ADMIN, "create_course", {"title": "B", "capacity": 5, "term_id": term["id"],
                                           "schedule": dates(t0 + timedelta(hours=1))})
    c = call(svc, ADMIN, "create_course", {"title": "C", "capacity": 5, "term_id": term["id"],
                                           "schedule": dates(t0 + timedelta(days=1))})
    d = call(svc, ADMIN, "create_course", {"title": "D", "capacity": 5, "term_id": term["id"],
                                           "schedule": dates(t0 + timedelta(days=2))})
    me = member()
    call(svc, me, "enrol", a["id"])
    with pytest.raises(Conflict) as exc:
        call(svc, me, "enrol", b["id"])
    assert exc.value.problem == "timetable-clash" and "A" in exc.value.detail
    call(svc, me, "enrol", c["id"])
    with pytest.raises(Conflict) as exc:
        call(svc, me, "enrol", d["id"])
    assert exc.value.problem == "term-cap-reached"
    gone = call(svc, me, "my_enrolments", 50, 0)[0]
    call(svc, me, "cancel_enrolment", gone["id"])
    assert call(svc, me, "enrol", d["id"])["status"] == "confirmed", "a cancelled class frees its term place"


def test_eligibility_and_group_entries(svc):
    unit = str(uuid.uuid4())
    seniors = call(svc, ADMIN, "create_course", {"title": "Tai chi", "capacity": 3, "min_age": 60,
                                                 "unit_ids": [unit], "group_limit": 2})
    with pytest.raises(Forbidden) as exc:
        call(svc, member(unit=str(uuid.uuid4())), "enrol", seniors["id"], {"birth_date": "1950-01-01"})
    assert exc.value.problem == "not-eligible"
    with pytest.raises(Forbidden):
        call(svc, member(unit=unit), "enrol", seniors["id"], {"birth_date": "1990-01-01"})
    pair = call(svc, member(unit=unit), "enrol", seniors["id"], {"birth_date": "1950-01-01", "seats": 2})
    assert (pair["status"], pair["seats"]) == ("confirmed", 2)
    with pytest.raises(Invalid):
        call(svc, member(unit=unit), "enrol", seniors["id"], {"birth_date": "1950-01-01", "seats": 3})
    waits = call(svc, member(unit=unit), "enrol", seniors["id"], {"birth_date": "1951-01-01", "seats": 2})
    assert waits["status"] == "waitlisted", "two seats wanted, one left: the entry waits whole"
    assert call(svc, member(), "get_course", seniors["id"])["seats_left"] == 1


def test_the_front_desk_enrols_a_member_by_the_members_age_and_unit_and_is_named(svc):
    unit, clerk = str(uuid.uuid4()), {"caller_id": str(uuid.uuid4()), "caller_roles": "desk", "caller_unit": "",
                                      "caller_birth_date": "2001-01-01"}
    course = call(svc, ADMIN, "create_course", {"title": "Choir for the steelworks", "capacity": 5, "min_age": 50,
                                                "unit_ids": [unit]})
    worker, outsider = str(uuid.uuid4()), str(uuid.uuid4())
    facts = {"id": worker, "birth_date": "1960-05-01", "unit_id": unit}
    entry = call(svc, clerk, "enrol", course["id"], {"member_id": worker}, member=facts, clerk_name="Zhao Li")
    assert (entry["member_id"], entry["status"]) == (worker, "confirmed")
    assert entry["enrolled_by"] == {"id": clerk["caller_id"], "name": "Zhao Li"}
    with pytest.raises(Forbidden) as exc:  # the member's unit, not the clerk's (who has none)
        call(svc, clerk, "enrol", course["id"], {"member_id": outsider},
             member={"id": outsider, "birth_date": "1960-05-01", "unit_id": None})
    assert exc.value.problem == "not-eligible"
    with pytest.raises(Invalid) as exc:  # the gateway's facts must be of the member named
        call(svc, clerk, "enrol", course["id"], {"member_id": outsider}, member=facts)
    assert "member_id" in exc.value.errors
    with pytest.raises(Forbidden):  # a member names only themselves, whatever facts come with it
        call(svc, member(unit=unit), "enrol", course["id"], {"member_id": outsider},
             member={"id": outsider, "birth_date": "1960-05-01", "unit_id": unit})
    assert [e["member_id"] for e in call(svc, ADMIN, "course_enrolments", course["id"])] == [worker]

    left = call(svc, clerk, "cancel_enrolment", entry["id"], clerk_name="Zhao Li")
    assert left["cancelled_by"] == {"id": clerk["caller_id"], "name": "Zhao Li"}
    [told] = events(svc, "enrolment_cancelled", enrolment_id=entry["id"])
    assert (told["member_id"], told["reason"]) == (worker, "cancelled by the member"), "told as if they did it"
    assert [e["id"] for e in call(svc, clerk, "member_enrolments", worker)] == [entry["id"]]
    with pytest.raises(Forbidden):
        call(svc, member(), "member_enrolments", worker)


def test_the_lottery_draws_at_its_time_reproducibly_with_priority(svc):
    term = call(svc, ADMIN, "create_term", {"name": f"lottery {uuid.uuid4().hex[:6]}", "starts_on": "2027-03-01",
                                            "ends_on": "2027-06-30", "class_cap": 5})
    other = call(svc, ADMIN, "create_course", {"title": "Choir", "capacity": 50, "term_id": term["id"]})
    closes = now() + timedelta(seconds=4)
    course = call(svc, ADMIN, "create_course", {"title": "Calligraphy 书法", "capacity": 5, "term_id": term["id"],
                                                "allocation": "lottery", "closes_at": iso(closes),
                                                "draw_at": iso(closes)})
    members = [member() for _ in range(12)]
    for m in members[:6]:  # these already hold a seat this term: they come after the others
        call(svc, m, "enrol", other["id"])
    entries = [call(svc, m, "enrol", course["id"]) for m in members]
    assert {e["status"] for e in entries} == {"registered"}
    entered = events(svc, "lottery_interest_registered", course_id=course["id"])
    assert sorted(e["member_id"] for e in entered) == sorted(m["caller_id"] for m in members)
    assert {e["status"] for e in entered} == {"registered"} and {datetime.fromisoformat(e["draw_at"]) for e in entered} == {closes}
    with pytest.raises(NotFound):
        call(svc, member(), "get_lottery", course["id"])

    audit = eventually(lambda: _drawn(svc, course["id"]), timeout=15)
    assert audit["reproduced"] is True
    assert audit["result"] == domain.draw(audit["seed"], audit["inputs"], 5)
    seated = {r["member_id"] for r in audit["result"] if r["outcome"] == "confirmed"}
    assert seated <= {m["caller_id"] for m in members[6:]}, "members with no seat this term first"
    line = call(svc, ADMIN, "course_enrolments", course["id"], "waitlisted", 50, 0)
    losers = [r["member_id"] for r in audit["result"] if r["outcome"] == "waitlisted"]
    assert [e["member_id"] for e in line] == losers and [e["position"] for e in line] == list(range(1, 8))
    [drawn] = events(svc, "lottery_drawn", course_id=course["id"])
    assert drawn["seats_left"] == 0 and drawn["waitlist_length"] == 7 and len(drawn["member_ids"]) == 12
    with pytest.raises(Conflict):
        call(svc, ADMIN, "draw_lottery", course["id"])
    # a member reads the draw's facts and their own rank, never another entrant's member id
    entrant = members[3]
    seen = call(svc, entrant, "get_lottery", course["id"])
    [own] = [r for r in audit["result"] if r["member_id"] == entrant["caller_id"]]
    assert (seen["seed"], seen["reproduced"], seen["entrants"]) == (audit["seed"], True, 12)
    assert seen["result"] == [own] and seen["inputs"] == []
    outsider = call(svc, member(), "get_lottery", course["id"])
    assert (outsider["result"], outsider["inputs"], outsider["entrants"]) == ([], [], 12)
    # the catalog read model orders count changes by version: every change a higher one
    with svc.db("enrolment") as conn:
        versions = [r["v"] for r in conn.execute(
            "SELECT (body->'payload'->>'course_version')::int AS v FROM outbox"
            " WHERE body->'payload'->>'course_id' = %s AND body->'payload' ? 'course_version' ORDER BY id",
            (course["id"],))]
    *each, drawn_version = versions  # twelve entries, twelve members told, then the draw as a whole
    assert len(each) == 24 and each == sorted(set(each)) and drawn_version == each[-1]
    assert versions[-1] == call(svc, member(), "get_course", course["id"])["version"]


def _drawn(stack, course_id):
    try:
        return call(stack, ADMIN, "get_lottery", course_id)
    except NotFound:
        return None


def test_staff_draw_on_demand(svc):
    course = call(svc, ADMIN, "create_course", {"title": "Dance", "capacity": 2, "allocation": "lottery",
                                                "teacher_ids": [TEACHER["caller_id"]],
                                                "draw_at": iso(now() + timedelta(days=3))})
    for _ in range(3):
        call(svc, member(), "enrol", course["id"])
    audit = call(svc, TEACHER, "draw_lottery", course["id"])
    assert [r["outcome"] for r in audit["result"]] == ["confirmed", "confirmed", "waitlisted"]
    late = call(svc, member(), "enrol", course["id"])
    assert (late["status"], late["position"]) == ("waitlisted", 2), "after the draw, late comers queue"
    assert line_kept_and_counted(svc, course["id"]) == (2, 2), "the draw's losers joined the line"


def test_an_offer_moves_down_the_list_when_it_expires(svc):
    course = call(svc, ADMIN, "create_course", {"title": "Cooking", "capacity": 1, "offer_hours": 12})
    first, second, third = member(), member(), member()
    seat = call(svc, first, "enrol", course["id"])
    wait2 = call(svc, second, "enrol", course["id"])
    wait3 = call(svc, third, "enrol", course["id"])
    call(svc, first, "cancel_enrolment", seat["id"])
    offered = call(svc, second, "get_enrolment", wait2["id"])
    assert offered["status"] == "offered" and offered["offer_expires_at"]
    assert call(svc, third, "get_enrolment", wait3["id"])["position"] == 1, "the offered entry left the line"
    [made] = events(svc, "offer_made", enrolment_id=wait2["id"])
    assert made["seats_left"] == 0 and made["offer_expires_at"]
    with svc.db("enrolment") as conn:  # twelve hours pass
        conn.execute("UPDATE enrolments SET offer_expires_at = now() - interval '1 second' WHERE id = %s",
                     (wait2["id"],))
    eventually(lambda: call(svc, third, "get_enrolment", wait3["id"])["status"] == "offered", timeout=10)
    assert line_kept_and_counted(svc, course["id"]) == (0, 0), "an offer leaves the line"
    assert call(svc, second, "get_enrolment", wait2["id"])["status"] == "cancelled"
    assert events(svc, "offer_expired", enrolment_id=wait2["id"])
    taken = call(svc, third, "accept_offer", wait3["id"])
    assert taken["status"] == "confirmed"
    with pytest.raises(Conflict):
        call(svc, third, "accept_offer", wait3["id"])


def line_kept_and_counted(stack, course_id):
    """The waitlist length the course keeps (answered without counting), beside the line counted."""
    with stack.db("enrolment") as conn:
        row = conn.execute("SELECT waitlist_length AS kept, (SELECT count(*) FROM enrolments e WHERE e.course_id = c.id"
                           " AND e.status = 'waitlisted') AS counted FROM courses c WHERE c.id = %s",
                           (course_id,)).fetchone()
    return row["kept"], row["counted"]


def places(stack, course_id):
    """(entry id, position) of the line as staff read it, in line order."""
    return [(e["id"], e["position"]) for e in call(stack, ADMIN, "course_enrolments", course_id, "waitlisted", 50, 0)]


def test_the_line_kept_on_the_course_agrees_with_the_line_counted_whichever_way_entries_leave(svc):
    course = call(svc, ADMIN, "create_course", {"title": "Tea art 茶艺", "capacity": 2})
    members = [member() for _ in range(6)]
    entries = [call(svc, m, "enrol", course["id"]) for m in members]
    assert [(e["status"], e["position"]) for e in entries[2:]] == [("waitlisted", n) for n in (1, 2, 3, 4)]
    assert line_kept_and_counted(svc, course["id"]) == (4, 4)
    call(svc, members[3], "cancel_enrolment", entries[3]["id"])  # second in line leaves: the rest close up
    assert line_kept_and_counted(svc, course["id"]) == (3, 3)
    assert places(svc, course["id"]) == [(entries[2]["id"], 1), (entries[4]["id"], 2), (entries[5]["id"], 3)]
    assert call(svc, members[5], "get_enrolment", entries[5]["id"])["position"] == 3
    call(svc, members[0], "cancel_enrolment", entries[0]["id"])  # a seat freed: the head of the line moves up
    assert call(svc, members[2], "get_enrolment", entries[2]["id"])["status"] == "confirmed"
    assert line_kept_and_counted(svc, course["id"]) == (2, 2)
    assert places(svc, course["id"]) == [(entries[4]["id"], 1), (entries[5]["id"], 2)]
    late = call(svc, member(), "enrol", course["id"])
    assert (late["status"], late["position"]) == ("waitlisted", 3), "a newcomer is last: the kept length"
    assert places(svc, course["id"])[-1] == (late["id"], 3)
    assert call(svc, member(), "get_course", course["id"])["waitlist_length"] == 3
    call(svc, ADMIN, "update_course", course["id"], {"capacity": 3})  # a seat more: one more moves up
    assert line_kept_and_counted(svc, course["id"]) == (2, 2)
    assert places(svc, course["id"]) == [(entries[5]["id"], 1), (late["id"], 2)]
    [last] = events(svc, "enrolment_promoted", course_id=course["id"])[-1:]
    assert last["waitlist_length"] == 2
    call(svc, ADMIN, "cancel_course", course["id"], {"reason": "the room flooded"})
    assert line_kept_and_counted(svc, course["id"]) == (0, 0)


def test_attendance_strikes_block_and_staff_clear_them(svc):
    past = now() - timedelta(days=3)
    course = call(svc, ADMIN, "create_course", {"title": "Fitness", "capacity": 5, "teacher_ids": [TEACHER["caller_id"]],
                                                "schedule": dates(past, past + timedelta(days=1))})
    me = member()
    call(svc, me, "enrol", course["id"])
    for session in course["sessions"]:
        call(svc, TEACHER, "record_attendance", session["id"], {"marks": [{"member_id": me["caller_id"],
                                                                           "present": False}]})
    with pytest.raises(Invalid):
        call(svc, TEACHER, "record_attendance", course["sessions"][0]["id"],
             {"marks": [{"member_id": str(uuid.uuid4()), "present": True}]})
    strikes = call(svc, me, "member_strikes", me["caller_id"])
    assert len(strikes["strikes"]) == 2 and strikes["blocked_until"]
    later = call(svc, ADMIN, "create_course", {"title": "Yoga", "capacity": 5})
    with pytest.raises(Forbidden) as exc:
        call(svc, me, "enrol", later["id"])
    assert exc.value.problem == "enrolment-blocked"
    with pytest.raises(Forbidden):
        call(svc, member(), "member_strikes", me["caller_id"])
    cleared = call(svc, TEACHER, "clear_strikes", me["caller_id"], {"reason": "was in hospital"})
    assert cleared["blocked_until"] is None and cleared["strikes"][0]["clear_reason"] == "was in hospital"
    assert call(svc, me, "enrol", later["id"])["status"] == "confirmed"


def test_check_in_with_the_door_code_and_a_certificate_with_a_verification_code(svc):
    past = now() - timedelta(days=2)
    course = call(svc, ADMIN, "create_course", {"title": "Tea art 茶艺", "capacity": 5, "attendance_threshold": 0.5,
                                                "teacher_ids": [TEACHER["caller_id"]],
                                                "schedule": dates(past, now() - timedelta(minutes=90))})
    me, lazy = member(), member()
    mine = call(svc, me, "enrol", course["id"])
    theirs = call(svc, lazy, "enrol", course["id"])
    first, second = course["sessions"]
    call(svc, TEACHER, "record_attendance", first["id"], {"marks": [{"member_id": me["caller_id"], "present": True}]})
    code = call(svc, TEACHER, "session_code", second["id"])["checkin_code"]
    with pytest.raises(Invalid):
        call(svc, me, "record_attendance", second["id"], {"code": "nope"})
    with pytest.raises(Forbidden):
        call(svc, member(), "record_attendance", second["id"], {"code": code})
    marked = call(svc, me, "record_attendance", second["id"], {"code": code})
    assert marked["marked"][0]["source"] == "check_in"

    cert = call(svc, me, "certificate", mine["id"])
    assert (cert["attended"], cert["sessions_count"]) == (2, 2)
    assert call(svc, me, "certificate", mine["id"])["code"] == cert["code"], "issued once"
    check = call(svc, {}, "verify_certificate", cert["code"])
    assert check["valid"] and check["course_title"] == "Tea art 茶艺"
    with pytest.raises(NotFound):
        call(svc, {}, "verify_certificate", "DEADBEEF00000000")
    with pytest.raises(Conflict) as exc:
        call(svc, lazy, "certificate", theirs["id"])
    assert "0 of 2" in exc.value.detail
    with pytest.raises(NotFound):
        call(svc, lazy, "certificate", mine["id"])
    assert len(events(svc, "certificate_issued", enrolment_id=mine["id"])) == 1


def test_a_unit_asks_for_a_class_and_staff_approve_or_decline(svc):
    unit = str(uuid.uuid4())
    unit_admin = {"caller_id": str(uuid.uuid4()), "caller_roles": "unit_admin", "caller_unit": unit}
    site = str(uuid.uuid4())
    asked = call(svc, unit_admin, "create_class_request", {"title": "First aid", "site_id": site, "capacity": 30})
    other = call(svc, unit_admin, "create_class_request", {"title": "Karaoke", "site_id": site, "capacity": 30})
    stranger = {"caller_id": str(uuid.uuid4()), "caller_roles": "unit_admin", "caller_unit": str(uuid.uuid4())}
    assert call(svc, stranger, "list_class_requests", 50, 0) == []
    assert {r["id"] for r in call(svc, unit_admin, "list_class_requests", 50, 0)} == {asked["id"], other["id"]}
    with pytest.raises(Forbidden):
        call(svc, member(), "create_class_request", {"title": "x", "site_id": site, "capacity": 3})

    approved = call(svc, ADMIN, "decide_class_request", asked["id"], {"decision": "approve",
                                                                      "course": {"teacher": "Dr Lin"}})
    assert approved["state"] == "approved" and approved["course_id"]
    course = call(svc, member(), "get_course", approved["course_id"])
    assert (course["title"], course["teacher"], course["site_id"]) == ("First aid", "Dr Lin", site)
    assert course["unit_ids"] == [unit]
    with pytest.raises(Invalid):
        call(svc, ADMIN, "decide_class_request", other["id"], {"decision": "decline"})
    declined = call(svc, ADMIN, "decide_class_request", other["id"], {"decision": "decline", "reason": "no teacher"})
    assert declined["state"] == "declined"
    with pytest.raises(Conflict):
        call(svc, ADMIN, "decide_class_request", other["id"], {"decision": "approve"})
    told = events(svc, "class_request_decided", request_id=other["id"])
    assert told[0]["member_id"] == unit_admin["caller_id"] and told[0]["reason"] == "no teacher"


def test_course_changes_bump_the_version_and_a_cancelled_course_tells_its_members(svc):
    course = call(svc, ADMIN, "create_course", {"title": "Choir", "capacity": 1})
    seat = call(svc, member(), "enrol", course["id"])
    wait = call(svc, member(), "enrol", course["id"])
    bigger = call(svc, ADMIN, "update_course", course["id"], {"capacity": 2, "description": "Sing together"})
    assert bigger["version"] > course["version"] and bigger["seats_left"] == 0
    assert call(svc, ADMIN, "get_enrolment", wait["id"])["status"] == "confirmed", "more seats promote the line"
    [updated] = events(svc, "course_updated", course_id=course["id"])
    assert updated["course"]["capacity"] == 2 and updated["course"]["version"] == bigger["version"]
    with pytest.raises(Conflict):
        call(svc, ADMIN, "update_course", course["id"], {"capacity": 1})
    cancelled = call(svc, ADMIN, "cancel_course", course["id"], {"reason": "teacher ill"})
    assert cancelled["state"] == "cancelled"
    [told] = events(svc, "course_cancelled", course_id=course["id"])
    assert set(told["member_ids"]) == {seat["member_id"], wait["member_id"]} and told["reason"] == "teacher ill"
    assert call(svc, ADMIN, "get_enrolment", seat["id"])["status"] == "cancelled"


def test_upcoming_sessions_are_announced_once_and_stats_add_up(svc):
    soon = now() + timedelta(hours=2)
    course = call(svc, ADMIN, "create_course", {"title": "Recitation", "capacity": 4, "schedule": dates(soon)})
    me = member()
    call(svc, me, "enrol", course["id"])
    [told] = eventually(lambda: events(svc, "session_upcoming", course_id=course["id"]), timeout=10)
    assert told["member_ids"] == [me["caller_id"]] and told["course_title"] == "Recitation"
    stats = call(svc, {}, "stats")
    assert stats["courses_run"] >= 1 and stats["trainees"] >= 1 and 0 < stats["fill_rate"] <= 1
    assert {"seats", "attendance_rate", "certificates"} <= set(stats)
