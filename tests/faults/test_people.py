"""People (issue 18): a curious colleague gets nothing. An officer cannot give themselves a case or a
claim (and so its private facts), not even past the service: the database refuses it too; a worker of a
unit does not read the unit's import jobs, only its administrators and the officers do; a roster row
naming someone who is not the unit's worker links no account."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import NotFound
from tests.e2e.conftest import admin, new_member, new_staff, palace, sign_in  # noqa: F401 (fixtures)
from tests.faults.conftest import figures
from tests.harness import eventually

PLAN = {"year": 2026, "contribution": "60.00", "rules": {
    "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 0,
    "critical_illness": "10000.00", "yearly_cap": "15000.00",
    "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}}


@pytest.fixture(scope="module")
def officers(palace, admin):  # noqa: F811
    return [new_staff(palace.url, admin, ["welfare_officer"], name=f"People Officer {n}") for n in "AB"]


@pytest.fixture(scope="module")
def unit(palace, admin):  # noqa: F811
    """A unit, its administrator, a worker of it (signed in after joining: the token names the unit),
    a plan, and an import the administrator ran."""
    made = admin.post("/v1/units", {"name": f"People Steelworks {uuid.uuid4().hex[:6]}"}).json()
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=made["id"])
    worker = new_member(palace.url, "People Worker")
    phone = worker.get("/v1/me").json()["phone"]
    assert admin.post(f"/v1/units/{made['id']}/members", {"phone": phone}).status_code == 200
    worker_id, worker = worker.id, sign_in(palace.url, phone, "member-password")
    worker.id = worker_id
    assert worker.get("/v1/me").json()["unit_id"] == made["id"]
    plan = admin.post("/v1/mutual-aid/plans", {**PLAN, "name": f"People plan {uuid.uuid4().hex[:6]}"}).json()
    job = unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments",
                          data="name,national_id,phone\nLi Na,11010519491231002X,\nBad,123,\n".encode(),
                          headers={"Content-Type": "text/csv"})
    assert job.status_code == 202, job.text
    return {"id": made["id"], "admin": unit_admin, "worker": worker, "plan": plan, "job": job.json()["id"]}


def test_an_officer_cannot_assign_a_case_to_themselves(palace, officers):  # noqa: F811
    member = new_member(palace.url, "People Applicant")
    case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "unpaid wages"}).json()
    a, b = officers
    taken = a.post(f"/v1/welfare/applications/{case['id']}/assignment", {"officer_id": a.id})
    assert taken.status_code == 403, taken.text
    problem = taken.json()
    assert taken.headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"].endswith("/problems/self-assignment") and "themselves" in problem["detail"]
    assert "officer_id" in problem["errors"]
    assert a.get(f"/v1/welfare/applications/{case['id']}").json()["assigned_officer"] is None
    # another officer (the triager) gives it to them
    given = b.post(f"/v1/welfare/applications/{case['id']}/assignment", {"officer_id": a.id})
    assert given.status_code == 200 and given.json()["assigned_officer"] == a.id, given.text
    figures("self_assignment", refused=taken.status_code, by_another=given.status_code)


@pytest.fixture(scope="module")
def claim(unit):
    """The unit's worker, enrolled in the plan by the unit's roster, claims for an accident."""
    worker = unit["worker"]
    joined = unit["admin"].post(f"/v1/mutual-aid/plans/{unit['plan']['id']}/enrolments",
                                data=f"name,national_id,member_id\nPeople Worker,440524188001010014,{worker.id}\n"
                                .encode(), headers={"Content-Type": "text/csv"})
    assert joined.status_code == 202, joined.text
    eventually(lambda: unit["admin"].get(f"/v1/mutual-aid/imports/{joined.json()['id']}").json()["status"] == "done",
               timeout=30)
    made = worker.post("/v1/mutual-aid/claims", {
        "plan_id": unit["plan"]["id"], "kind": "accident", "details": {"severity": "minor"},
        "event_date": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()})
    assert made.status_code == 201, made.text
    return made.json()


def test_an_officer_cannot_assign_a_claim_to_themselves(palace, admin, officers, claim):  # noqa: F811
    a, _ = officers
    taken = a.post(f"/v1/mutual-aid/claims/{claim['id']}/assignment", {"officer_id": a.id})
    assert taken.status_code == 403 and taken.json()["type"].endswith("/problems/self-assignment"), taken.text
    assert a.get(f"/v1/mutual-aid/claims/{claim['id']}").json()["assigned_officer"] is None
    assert admin.post(f"/v1/mutual-aid/claims/{claim['id']}/assignment", {"officer_id": a.id}).status_code == 200


def test_the_database_refuses_a_self_assignment_written_past_the_service(palace, stack, claim):  # noqa: F811
    member = new_member(palace.url, "People Applicant")
    case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "unpaid wages"}).json()
    officer = str(uuid.uuid4())
    with stack.db("welfare") as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE applications SET assigned_officer = %s, assigned_by = %s WHERE id = %s",
                         (officer, officer, case["id"]))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE claims SET assigned_officer = %s, assigned_by = %s WHERE id = %s",
                         (officer, officer, claim["id"]))


def test_a_worker_of_the_unit_does_not_read_its_import_jobs(palace, stack, officers, unit):  # noqa: F811
    path = f"/v1/mutual-aid/imports/{unit['job']}"
    assert unit["admin"].get(path).status_code == 200
    assert officers[0].get(path).status_code == 200
    peeked = unit["worker"].get(path)
    assert peeked.status_code == 403, peeked.text
    assert "Li Na" not in peeked.text and "123" not in peeked.text
    # past the gateway, the service answers a signed worker of the unit as if the job did not exist
    worker = {"caller_id": unit["worker"].id, "caller_roles": "member", "caller_unit": unit["id"], "request_id": "p"}
    with ClusterRpcProxy({"AMQP_URI": stack.env["AMQP_URI"], "serializer": "json"}, timeout=10,
                         context_data=stack.signed(worker)) as rpc:
        with pytest.raises(NotFound):
            rpc.welfare.get_import(unit["job"])
    figures("import_job_reads", unit_admin=200, worker=peeked.status_code)


# ---------------------------------------------------------------- a moved booking keeps every rule

def evening(weeks_ahead, weekday=2, hour=19):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    start = datetime(monday.year, monday.month, monday.day, hour, tzinfo=ZoneInfo("Asia/Shanghai")) \
        + timedelta(days=weekday - 1)
    return start, start + timedelta(hours=2)


@pytest.fixture(scope="module")
def rooms(palace, admin):  # noqa: F811
    manager = new_staff(palace.url, admin, ["venue_manager"], name="People Manager")
    site = manager.post("/v1/sites", {"name": f"People Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()

    def room(**limits):
        made = manager.post("/v1/rooms", {"site_id": site["id"], "name": f"Room {uuid.uuid4().hex[:6]}",
                                          "capacity": 30, **limits})
        assert made.status_code == 201, made.text
        return made.json()
    return manager, room


def booked(member, room, start, end):
    made = member.post("/v1/bookings", {"room_id": room["id"], "title": "Rehearsal", "starts_at": start.isoformat(),
                                        "ends_at": end.isoformat()})
    assert made.status_code == 201, made.text
    return made.json()


def moved(member, booking, start, end):
    return member.patch(f"/v1/bookings/{booking['id']}", {"starts_at": start.isoformat(), "ends_at": end.isoformat()})


def test_a_moved_booking_in_a_room_needing_approval_waits_for_approval_again(palace, rooms):  # noqa: F811
    manager, room = rooms
    theatre = room(requires_approval=True, max_advance_days=None, max_bookings_per_week=None)
    member = new_member(palace.url, "People Booker")
    start, end = evening(2)
    made = booked(member, theatre, start, end)
    assert made["status"] == "pending"
    assert manager.post(f"/v1/bookings/{made['id']}/approve").json()["status"] == "confirmed"
    answer = moved(member, made, start + timedelta(days=1), end + timedelta(days=1))
    assert answer.status_code == 200, answer.text
    assert member.get(f"/v1/bookings/{made['id']}").json()["status"] == "pending", "approved for another time"
    # a manager's own move keeps the approval: they are the ones who approve
    assert manager.post(f"/v1/bookings/{made['id']}/approve").json()["status"] == "confirmed"
    assert moved(manager, made, start, end).status_code == 200
    assert member.get(f"/v1/bookings/{made['id']}").json()["status"] == "confirmed"


def test_a_moved_booking_keeps_the_advance_limit_the_quota_and_the_closures(palace, rooms):  # noqa: F811
    manager, room = rooms
    hall = room(max_advance_days=30, max_bookings_per_week=1)
    member = new_member(palace.url, "People Mover")
    start, end = evening(1)
    first, second = booked(member, hall, start, end), booked(member, hall, start + timedelta(weeks=1),
                                                              end + timedelta(weeks=1))
    reasons = {}
    for name, (s, e) in {"advance": (start + timedelta(days=60), end + timedelta(days=60)),
                         "quota": (start + timedelta(days=1), end + timedelta(days=1))}.items():
        answer = moved(member, second, s, e)
        assert answer.status_code == 409, (name, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        reasons[name] = answer.json()["errors"]["reasons"][0]
    assert "at most 30 days ahead" in reasons["advance"] and "quota" in reasons["quota"], reasons
    closed = manager.post("/v1/closures", {"room_id": hall["id"], "starts_at": (start + timedelta(days=2)).isoformat(),
                                           "ends_at": (end + timedelta(days=2)).isoformat(), "reason": "floor repairs"})
    assert closed.status_code == 201, closed.text
    answer = moved(member, first, start + timedelta(days=2), end + timedelta(days=2))
    assert answer.status_code == 409 and "floor repairs" in answer.text, answer.text
    # within the rules a move goes through, and the booking does not count against its own quota
    assert moved(member, second, start + timedelta(weeks=1, hours=1), end + timedelta(weeks=1, hours=1)).status_code == 200
    assert [member.get(f"/v1/bookings/{b['id']}").json()["status"] for b in (first, second)] == ["confirmed"] * 2
    figures("moved_booking", advance=409, quota=409, closure=409)


# ---------------------------------------------------------------- a new room has limits

def test_a_new_room_without_limits_gets_a_month_ahead_and_three_bookings_a_week(palace, rooms):  # noqa: F811
    manager, room = rooms
    plain = manager.post("/v1/rooms", {"site_id": room()["site_id"], "name": f"Plain {uuid.uuid4().hex[:6]}",
                                       "capacity": 20})
    assert plain.status_code == 201, plain.text
    plain = plain.json()
    assert (plain["max_advance_days"], plain["max_bookings_per_week"]) == (30, 3)
    member = new_member(palace.url, "People Regular")
    far = member.post("/v1/bookings", {"room_id": plain["id"], "title": "Far", "starts_at": evening(7)[0].isoformat(),
                                       "ends_at": evening(7)[1].isoformat()})
    assert far.status_code == 409 and "at most 30 days ahead" in far.text, far.text
    start, end = evening(1, weekday=1)
    for day in range(3):
        booked(member, plain, start + timedelta(days=day), end + timedelta(days=day))
    fourth = member.post("/v1/bookings", {"room_id": plain["id"], "title": "Fourth",
                                          "starts_at": (start + timedelta(days=3)).isoformat(),
                                          "ends_at": (end + timedelta(days=3)).isoformat()})
    assert fourth.status_code == 409 and "at most 3 bookings a week" in fourth.text, fourth.text
    # a manager who means a room to be open says so
    open_room = room(max_advance_days=None, max_bookings_per_week=None)
    assert (open_room["max_advance_days"], open_room["max_bookings_per_week"]) == (None, None)
    figures("room_defaults", max_advance_days=30, max_bookings_per_week=3)


# ---------------------------------------------------------------- joining a unit is the member's choice

def test_a_unit_admin_cannot_pull_an_account_only_invite_a_member_who_accepts(palace, admin, unit,  # noqa: F811
                                                                              officers):
    unit_admin, path = unit["admin"], f"/v1/units/{unit['id']}"
    member = new_member(palace.url, "People Invitee", birth_date="1990-05-01")
    phone = member.get("/v1/me").json()["phone"]
    pulled = unit_admin.post(f"{path}/members", {"phone": phone})
    assert pulled.status_code == 403 and pulled.json()["type"].endswith("/problems/invite-instead"), pulled.text
    assert member.get("/v1/me").json()["unit_id"] is None, "nobody joins a unit unasked"
    # a staff account is neither pulled nor invited
    staff_invite = unit_admin.post(f"{path}/invitations", {"phone": officers[0].get("/v1/me").json()["phone"]})
    assert staff_invite.status_code == 409 and staff_invite.json()["type"].endswith("/problems/staff-account"), staff_invite.text
    assert officers[0].get("/v1/me").json()["unit_id"] is None

    invited = unit_admin.post(f"{path}/invitations", {"phone": phone})
    assert invited.status_code == 200, invited.text
    assert "birth_date" not in invited.json() and "name" not in invited.json()
    again = unit_admin.post(f"{path}/invitations", {"phone": phone}).json()
    assert again["id"] == invited.json()["id"], "one open invitation"
    [mine] = member.get("/v1/me/unit-invitations").json()
    assert (mine["id"], mine["unit_id"], mine["status"]) == (invited.json()["id"], unit["id"], "pending")
    assert unit["worker"].post(f"/v1/me/unit-invitations/{mine['id']}/accept").status_code == 404, "not theirs"
    assert member.post(f"/v1/me/unit-invitations/{mine['id']}/accept").json()["status"] == "accepted"
    assert member.get("/v1/me").json()["unit_id"] == unit["id"]
    assert member.get("/v1/me/unit-invitations").json() == []
    # the unit's administrator sees their workers' names and phones, never a birth date
    listed = unit_admin.get(f"{path}/members").json()
    assert member.id in [m["id"] for m in listed]
    assert all("birth_date" not in m and "id_last4" not in m for m in listed)

    # a declined invitation leaves the member where they were; the palace admin still sets a unit
    other = new_member(palace.url, "People Decliner")
    other_phone = other.get("/v1/me").json()["phone"]
    declined = unit_admin.post(f"{path}/invitations", {"phone": other_phone}).json()
    assert other.post(f"/v1/me/unit-invitations/{declined['id']}/decline").json()["status"] == "declined"
    assert other.get("/v1/me").json()["unit_id"] is None
    assert admin.post(f"{path}/members", {"phone": other_phone}).status_code == 200
    assert other.get("/v1/me").json()["unit_id"] == unit["id"]
    figures("unit_consent", pulled=403, staff_invited=409, accepted=200)
