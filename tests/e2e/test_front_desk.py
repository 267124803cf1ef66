"""The front desk over HTTP: a clerk finds a member, opens an account for a walk-in, and enrols,
waitlists and cancels on the member's behalf; the member is told as if they had done it, and their
history names the clerk. Bad requests are refused by field with nothing written."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.e2e.conftest import NO_LIMITS, _phones, new_member, new_staff, sign_in
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually

CLERK_NAME = "Zhao Li 赵丽"


@pytest.fixture(scope="module")
def clerk(palace, admin):
    return new_staff(palace.url, admin, ["desk"], name=CLERK_NAME)


def _walk_in(clerk, name, **extra):
    """A walk-in's account opened by the clerk: its id and phone (past a phone another test took)."""
    for _ in range(20):
        phone = str(next(_phones))
        opened = clerk.post("/v1/desk/members", {"phone": phone, "name": name, **extra})
        if opened.status_code != 409:
            break
    assert opened.status_code == 201, opened.text
    return opened.json(), phone


def _rows(palace, course_id):
    with palace.db("enrolment") as conn:
        return conn.execute("SELECT member_id::text, status, enrolled_by::text FROM enrolments WHERE course_id = %s"
                            " ORDER BY created_at", (course_id,)).fetchall()


def test_a_clerk_registers_a_walk_in_and_puts_them_on_the_waitlist_of_a_full_class(palace, admin, clerk):
    course_id = admin.post("/v1/courses", {"title": "Tea art 茶艺", "capacity": 1}).json()["id"]
    regular = new_member(palace.url)
    assert regular.post(f"/v1/courses/{course_id}/enrolments").json()["status"] == "confirmed"  # the class is full

    account, phone = _walk_in(clerk, "Sun Hua 孙华", id_last4="002x", birth_date="1966-04-02")
    assert (account["roles"], account["id_last4"], account["phone"]) == (["member"], "002X", phone)
    walk_in = account["id"]
    with palace.db("gateway") as conn:
        assert str(conn.execute("SELECT opened_by FROM accounts WHERE id = %s", (walk_in,)).fetchone()["opened_by"]) \
            == clerk.id, "who opened the account is kept"
    for guess in ("member-password", "", phone):
        answer = requests.post(f"{palace.url}/v1/auth/token", json={"phone": phone, "password": guess}, timeout=15)
        assert answer.status_code in (401, 422), "an account opened at the counter has no usable password"

    for q in ("002x", phone[-4:], phone[-6:], "孙华", "sun hua"):  # the ID's last 4, the phone, the name
        found = clerk.get("/v1/desk/members", params={"q": q})
        assert found.status_code == 200, found.text
        [card] = [m for m in found.json() if m["id"] == walk_in]
        assert (card["name"], card["phone"], card["id_last4"], card["unit_id"]) == ("Sun Hua 孙华", phone, "002X", None)
    # the member's page opened by its link reads the same card by id
    assert clerk.get(f"/v1/desk/members/{walk_in}").json() == card

    enrolled = clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": walk_in},
                          headers={"Idempotency-Key": f"desk-{uuid.uuid4()}"})
    assert enrolled.status_code == 201, enrolled.text
    entry = enrolled.json()
    assert (entry["member_id"], entry["status"], entry["position"]) == (walk_in, "waitlisted", 1)
    assert entry["enrolled_by"] == {"id": clerk.id, "name": CLERK_NAME}
    assert [r["status"] for r in _rows(palace, course_id)] == ["confirmed", "waitlisted"]

    # the member sets a password with the reset code the clerk hands over at the counter
    code = clerk.post(f"/v1/accounts/{walk_in}/reset-code")
    assert code.status_code == 201, code.text
    confirmed = requests.post(f"{palace.url}/v1/auth/password-resets/confirm",
                              json={"phone": phone, "code": code.json()["code"], "new_password": "walk-in-pass"},
                              timeout=15)
    assert confirmed.status_code == 204, confirmed.text
    member = sign_in(palace.url, phone, "walk-in-pass")

    [history] = member.get("/v1/me/enrolments").json()
    assert (history["id"], history["status"], history["position"]) == (entry["id"], "waitlisted", 1)
    assert history["enrolled_by"] == {"id": clerk.id, "name": CLERK_NAME}, "the history names the clerk"
    assert member.get(f"/v1/enrolments/{entry['id']}").json()["enrolled_by"]["name"] == CLERK_NAME

    def told(event_type):
        return lambda: [n for n in member.get("/v1/me/notifications").json() if n["event_type"] == event_type]

    [note] = eventually(told("enrolment.enrolment_waitlisted"), timeout=15)
    assert note["title"] == "已进入候补：Tea art 茶艺", "told as if they had enrolled themselves, in Chinese"
    assert "候补第 1 位" in note["body"]
    assert eventually(lambda: member.get("/v1/me/contacts").json()["phone"] == phone), \
        "the phone the clerk opened the account with is the member's SMS contact"

    # the clerk reads the member's classes and takes them off the waitlist when they ask
    listed = clerk.get(f"/v1/desk/members/{walk_in}/enrolments")
    assert [e["id"] for e in listed.json()] == [entry["id"]]
    left = clerk.delete(f"/v1/enrolments/{entry['id']}")
    assert left.status_code == 200, left.text
    assert left.json()["cancelled_by"] == {"id": clerk.id, "name": CLERK_NAME}
    [gone] = member.get("/v1/me/enrolments").json()
    assert gone["status"] == "cancelled" and gone["cancelled_by"]["name"] == CLERK_NAME
    [cancelled] = eventually(told("enrolment.enrolment_cancelled"), timeout=15)
    assert cancelled["title"] == "报名已取消：Tea art 茶艺" and "您本人取消" in cancelled["body"]


def test_a_walk_in_sets_their_password_with_the_code_sent_to_their_phone(palace, clerk):
    account, phone = _walk_in(clerk, "Zhou Jie 周杰")
    asked = requests.post(f"{palace.url}/v1/auth/password-resets", json={"phone": phone}, timeout=15)
    assert asked.status_code == 202

    def texted():  # notify knows the phone from the account the clerk opened, and texts the code to it
        with palace.db("notify") as conn:
            return conn.execute("SELECT address, body FROM deliveries WHERE member_id = %s AND channel = 'sms'",
                                (account["id"],)).fetchall()

    [sms] = eventually(texted, timeout=15)
    with palace.db("gateway") as conn:
        [sent] = [r["body"]["payload"] for r in conn.execute(
            "SELECT body FROM outbox WHERE event_type = 'password_reset_requested'").fetchall()
            if r["body"]["payload"]["member_id"] == account["id"]]
    code = palace.reset_code(sent["code_sealed"])  # the outbox holds it sealed for notify, never in clear
    assert sms["address"] == phone and code not in sms["body"] and "********" in sms["body"]
    done = requests.post(f"{palace.url}/v1/auth/password-resets/confirm",
                         json={"phone": phone, "code": code, "new_password": "my-own-pass"}, timeout=15)
    assert done.status_code == 204, done.text
    assert sign_in(palace.url, phone, "my-own-pass").get("/v1/me").json()["id"] == account["id"]


def test_the_clerk_enrols_by_the_members_age_not_their_own(palace, admin, clerk):
    course_id = admin.post("/v1/courses", {"title": "Tai chi for retirees 太极", "capacity": 5,
                                           "min_age": 55}).json()["id"]
    older, _ = _walk_in(clerk, "Qian Lao", birth_date="1950-01-01")
    younger, _ = _walk_in(clerk, "Qian Xiao", birth_date="2000-01-01")
    assert clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": older["id"]}).json()["status"] == "confirmed"
    assert_problem(clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": younger["id"]}), 403,
                   "not-eligible", "course_id")
    assert [r["member_id"] for r in _rows(palace, course_id)] == [older["id"]]


def test_bad_desk_requests_name_the_field_and_write_nothing(palace, admin, clerk):
    course_id = admin.post("/v1/courses", {"title": "Calligraphy 书法", "capacity": 1}).json()["id"]
    member, other = new_member(palace.url), new_member(palace.url)

    unknown = clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": str(uuid.uuid4())})
    assert_problem(unknown, 422, "validation-failed", "member_id")
    staff_account = clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": clerk.id})
    assert_problem(staff_account, 422, "validation-failed", "member_id")  # the desk has no seat of its own
    assert_problem(clerk.post(f"/v1/courses/{course_id}/enrolments", {}), 422, "validation-failed", "member_id")
    assert_problem(clerk.post(f"/v1/courses/{course_id}/enrolments", {"member_id": "nope"}), 422,
                   "validation-failed", "member_id")
    someone_else = member.post(f"/v1/courses/{course_id}/enrolments", {"member_id": other.id})
    assert_problem(someone_else, 403, "forbidden", "member_id")
    assert _rows(palace, course_id) == [], "nothing written"
    assert other.get("/v1/me/enrolments").json() == []

    myself = member.post(f"/v1/courses/{course_id}/enrolments", {"member_id": member.id})
    assert myself.status_code == 201 and myself.json()["enrolled_by"] is None, "naming oneself is enrolling"

    taken = member.get("/v1/me").json()["phone"]
    assert_problem(clerk.post("/v1/desk/members", {"phone": taken, "name": "Someone"}), 409, "phone-taken", "phone")
    for bad in ("11010519491231002X", "12", "00a1"):
        assert_problem(clerk.post("/v1/desk/members", {"phone": "13912340000", "name": "Li", "id_last4": bad}),
                       422, "validation-failed", "id_last4")
    assert_problem(clerk.post("/v1/desk/members", {"phone": "13912340000", "name": "Li",
                                                   "national_id": "11010519491231002X"}),
                   422, "validation-failed", "national_id")
    with palace.db("gateway") as conn:
        assert conn.execute("SELECT 1 FROM accounts WHERE phone = '13912340000'").fetchone() is None

    assert_problem(clerk.get("/v1/desk/members"), 422, "validation-failed", "q")
    assert_problem(member.get("/v1/desk/members", params={"q": "Wang"}), 403, "forbidden")
    assert_problem(clerk.post(f"/v1/accounts/{admin.get('/v1/me').json()['id']}/reset-code"), 404, "not-found")
    assert_problem(clerk.get(f"/v1/desk/members/{uuid.uuid4()}/enrolments"), 404, "not-found")
    assert_problem(clerk.get(f"/v1/desk/members/{uuid.uuid4()}"), 404, "not-found")
    assert_problem(member.get(f"/v1/desk/members/{member.id}"), 403, "forbidden")


def test_the_clerk_sees_a_members_bookings_and_the_state_of_their_cases_but_no_facts_of_them(palace, admin, clerk):
    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Room 2", **NO_LIMITS, "capacity": 10}).json()
    member, other = new_member(palace.url), new_member(palace.url)
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    booked = member.post("/v1/bookings", {"room_id": room["id"], "title": "Choir 合唱", "starts_at": starts.isoformat(),
                                          "ends_at": (starts + timedelta(hours=1)).isoformat()})
    assert booked.status_code == 201, booked.text
    secret = "sleepless since the layoff"
    case = member.post("/v1/welfare/applications", {"programme": "counselling", "reason": secret}).json()

    bookings = clerk.get(f"/v1/desk/members/{member.id}/bookings")
    assert bookings.headers["X-Total-Count"] == "1", bookings.text
    assert [(b["title"], b["room_name"]) for b in bookings.json()] == [("Choir 合唱", "Room 2")]
    cases = clerk.get(f"/v1/desk/members/{member.id}/cases")
    assert [(c["reference"], c["programme"], c["state"]) for c in cases.json()] == [
        (case["reference"], "counselling", case["state"])]
    assert set(cases.json()[0]) == {"id", "reference", "programme", "state", "created_at", "decided_at"}
    assert secret not in cases.text
    assert clerk.get(f"/v1/desk/members/{other.id}/cases").json() == []
    assert clerk.get(f"/v1/welfare/applications/{case['id']}").status_code == 404  # the case itself stays shut
    assert_problem(member.get(f"/v1/desk/members/{member.id}/cases"), 403, "forbidden")
    assert_problem(clerk.get(f"/v1/desk/members/{uuid.uuid4()}/bookings"), 404, "not-found")
