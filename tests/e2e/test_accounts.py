"""Accounts over HTTP: passwords, resets, closing an account, units, and the rate limits."""
import jwt
import pytest
import requests

from tests.e2e.conftest import Client, new_member, new_staff
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually

PASSWORD = "member-password"


@pytest.fixture(scope="module", autouse=True)
def day_long_windows(stack):
    """Limits as in production, but counted per day so no window ends in the middle of a test."""
    stack.env.update(PALACE_ENROL_LIMIT="10/86400", PALACE_SIGNIN_PHONE_LIMIT="5/86400",
                     PALACE_SIGNIN_ADDRESS_LIMIT="30/86400")


def _token(base, phone, password):
    return requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=15)


def _phone(palace, member):
    return member.get("/v1/me").json()["phone"]


def test_changing_the_password_signs_out_other_devices(palace):
    member = new_member(palace.url)
    phone = _phone(palace, member)
    other_device = _token(palace.url, phone, PASSWORD).json()["refresh_token"]

    wrong = member.post("/v1/me/password", json={"current_password": "not-it-at-all", "new_password": "n3w-password"})
    assert wrong.status_code == 422 and "current_password" in wrong.json()["errors"]
    changed = member.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": "n3w-password"})
    assert changed.status_code == 200 and Client(palace.url, changed.json()["access_token"]).get("/v1/me").ok

    assert _token(palace.url, phone, PASSWORD).status_code == 401
    assert _token(palace.url, phone, "n3w-password").status_code == 200
    refreshed = requests.post(f"{palace.url}/v1/auth/token", json={"refresh_token": other_device}, timeout=15)
    assert refreshed.status_code == 401


def test_a_member_resets_a_forgotten_password_with_the_code_sent_to_their_phone(palace):
    member = new_member(palace.url)
    phone = _phone(palace, member)
    asked = requests.post(f"{palace.url}/v1/auth/password-resets", json={"phone": phone}, timeout=15)
    assert asked.status_code == 202
    unknown = requests.post(f"{palace.url}/v1/auth/password-resets", json={"phone": "13312345678"}, timeout=15)
    assert unknown.status_code == 202, "the answer does not reveal who is registered"

    with palace.db("gateway") as conn:
        rows = conn.execute("SELECT body FROM outbox WHERE event_type = 'password_reset_requested'").fetchall()
    events = [r["body"]["payload"] for r in rows]
    sent = [e for e in events if e["member_id"] == member.id]
    assert len(sent) == 1 and len(events) == 1, "a code goes to the account's member, none for unknown phones"
    assert "code" not in sent[0], "the outbox holds the code sealed for notify, never in clear"
    code = palace.reset_code(sent[0]["code_sealed"])

    def texted():  # notify sends it by SMS to the account's phone, and to nowhere else
        with palace.db("notify") as conn:
            return conn.execute("SELECT channel, address, body, urgent FROM deliveries WHERE member_id = %s",
                                (member.id,)).fetchall()

    [sms] = eventually(texted)
    assert (sms["channel"], sms["address"], sms["urgent"]) == ("sms", phone, True)
    assert code not in sms["body"] and "********" in sms["body"], "the delivery keeps the code hidden"
    with palace.db("notify") as conn:
        assert not conn.execute("SELECT 1 FROM inbox WHERE member_id = %s", (member.id,)).fetchall()

    confirm = f"{palace.url}/v1/auth/password-resets/confirm"
    assert len(code) == 8 and code.isdigit()
    wrong = requests.post(confirm, json={"phone": phone, "code": "00000000" if code != "00000000"
                                         else "11111111", "new_password": "brand-new-pass"}, timeout=15)
    assert wrong.status_code == 422 and wrong.json()["type"].endswith("/problems/bad-reset-code")
    right = requests.post(confirm, json={"phone": phone, "code": code, "new_password": "brand-new-pass"},
                          timeout=15)
    assert right.status_code == 204
    assert _token(palace.url, phone, "brand-new-pass").status_code == 200
    again = requests.post(confirm, json={"phone": phone, "code": code, "new_password": "other-pass-1"},
                          timeout=15)
    assert again.status_code == 422, "a code works once"


def test_a_reset_code_stops_working_after_five_wrong_guesses(palace, admin):
    member = new_member(palace.url)
    phone = _phone(palace, member)
    code = admin.post(f"/v1/accounts/{member.id}/reset-code").json()["code"]
    guesses = [f"{(int(code) + n) % 10**8:08d}" for n in range(1, 6)]
    confirm = f"{palace.url}/v1/auth/password-resets/confirm"
    for guess in guesses:
        assert requests.post(confirm, json={"phone": phone, "code": guess, "new_password": "guessed-pass"},
                             timeout=15).status_code == 422
    late = requests.post(confirm, json={"phone": phone, "code": code, "new_password": "guessed-pass"}, timeout=15)
    assert late.status_code == 422
    assert _token(palace.url, phone, PASSWORD).status_code == 200


def test_a_member_gives_their_birth_date_once_and_a_change_is_refused(palace):
    member = new_member(palace.url)
    assert_problem(member.patch("/v1/me", {"birth_date": "31.12.1960"}), 422, "validation-failed", "birth_date")
    assert_problem(member.patch("/v1/me", {}), 422, "validation-failed", "birth_date")
    given = member.patch("/v1/me", {"birth_date": "1960-12-31"})
    assert given.status_code == 200 and given.json()["birth_date"] == "1960-12-31", given.text
    assert member.patch("/v1/me", {"birth_date": "1960-12-31"}).status_code == 200, "the same again is no change"
    assert_problem(member.patch("/v1/me", {"birth_date": "1950-01-01"}), 409, "birth-date-set", "birth_date")
    assert member.get("/v1/me").json()["birth_date"] == "1960-12-31"


def test_a_closed_account_can_no_longer_sign_in_or_refresh(palace, admin):
    member = new_member(palace.url)
    phone = _phone(palace, member)
    refresh = _token(palace.url, phone, PASSWORD).json()["refresh_token"]
    assert admin.delete(f"/v1/accounts/{member.id}").status_code == 204
    assert admin.delete(f"/v1/accounts/{member.id}").status_code == 404
    assert _token(palace.url, phone, PASSWORD).status_code == 401
    assert requests.post(f"{palace.url}/v1/auth/token", json={"refresh_token": refresh},
                         timeout=15).status_code == 401
    assert member.get("/v1/me").status_code == 401
    # the access token itself stops working within the gateway's refresh of closed accounts
    def refused():
        answer = member.get("/v1/me/enrolments")
        return answer.json() if answer.status_code == 401 else None

    assert eventually(refused, timeout=5)["type"].endswith("/problems/account-closed")


def test_admins_find_accounts_by_role(palace, admin):
    teacher = new_staff(palace.url, admin, ["teacher"], name="Teacher Zhou")
    found = admin.get("/v1/accounts", params={"role": "teacher", "q": "Zhou"}).json()
    assert teacher.id in [a["id"] for a in found]
    assert all("teacher" in a["roles"] for a in found)
    assert teacher.get("/v1/accounts").status_code == 403
    assert admin.get("/v1/accounts", params={"role": "pope"}).status_code == 400


def test_a_unit_administrator_sees_and_manages_only_their_own_unit(palace, admin):
    ours = admin.post("/v1/units", json={"name": "Shanghai Electric union branch"})
    theirs = admin.post("/v1/units", json={"name": "Bund Textiles union branch"})
    assert ours.status_code == 201 and theirs.status_code == 201
    assert admin.post("/v1/units", json={"name": "Shanghai Electric union branch"}).status_code == 409
    ours, theirs = ours.json()["id"], theirs.json()["id"]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=ours)
    worker = new_member(palace.url, name="Zhang Wei")

    invited = unit_admin.post(f"/v1/units/{ours}/invitations", json={"phone": _phone(palace, worker)})
    assert invited.status_code == 200 and invited.json()["status"] == "pending", invited.text
    [told] = eventually(lambda: [n for n in worker.get("/v1/me/notifications").json()
                                 if n["event_type"] == "gateway.unit_invitation_sent"], timeout=15)
    assert "Shanghai Electric union branch" in told["title"] and "邀请" in told["body"], told
    accepted = worker.post(f"/v1/me/unit-invitations/{invited.json()['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    members = unit_admin.get(f"/v1/units/{ours}/members").json()
    assert worker.id in [m["id"] for m in members]
    assert [u["id"] for u in unit_admin.get("/v1/units").json()] == [ours]
    assert {ours, theirs} <= {u["id"] for u in admin.get("/v1/units").json()}

    assert unit_admin.get(f"/v1/units/{theirs}/members").status_code == 404
    assert unit_admin.post(f"/v1/units/{theirs}/invitations", json={"phone": _phone(palace, worker)}).status_code == 404
    assert admin.post(f"/v1/units/{theirs}/members", json={"phone": _phone(palace, worker)}).status_code == 409
    assert worker.get(f"/v1/units/{ours}/members").status_code == 403

    assert unit_admin.delete(f"/v1/units/{ours}/members/{worker.id}").status_code == 204
    assert worker.id not in [m["id"] for m in unit_admin.get(f"/v1/units/{ours}/members").json()]


def test_enrolment_requests_are_limited_per_member(palace, admin):
    course = admin.post("/v1/courses", json={"title": "Tea art", "capacity": 5}).json()
    member = new_member(palace.url)
    answers = [member.post(f"/v1/courses/{course['id']}/enrolments").status_code for _ in range(12)]
    assert answers[0] == 201 and set(answers[1:10]) == {409}, answers
    assert answers[10:] == [429, 429]
    limited = member.post(f"/v1/courses/{course['id']}/enrolments")
    assert int(limited.headers["Retry-After"]) > 0
    other = new_member(palace.url)
    assert other.post(f"/v1/courses/{course['id']}/enrolments").status_code == 201, "others are not held back"


def test_the_enrolment_limit_holds_for_requests_with_keys_and_a_refused_key_stays_free(palace, admin):
    course = admin.post("/v1/courses", json={"title": "Calligraphy", "capacity": 5}).json()
    member = new_member(palace.url)
    path = f"/v1/courses/{course['id']}/enrolments"
    answers = [member.post(path, headers={"Idempotency-Key": f"tap-{n}"}).status_code for n in range(12)]
    assert answers[0] == 201 and set(answers[1:10]) == {409} and answers[10:] == [429, 429], answers
    with palace.db("gateway") as conn:
        kept = {r["key"] for r in conn.execute("SELECT key FROM idempotency_keys WHERE account_id = %s",
                                                 (member.id,)).fetchall()}
    assert kept == {"tap-0"}, "a refused request claims no key, and a 409 none either"


def test_expired_tampered_and_foreign_tokens_are_refused(palace):
    member = new_member(palace.url)
    with palace.db("gateway") as conn:
        secret = conn.execute("SELECT value FROM settings WHERE name = 'token_secret'").fetchone()["value"]
    good = member.http.headers["Authorization"].split()[1]
    claims = jwt.decode(good, secret, algorithms=["HS256"], audience="palace-api", issuer="palace-gateway")
    assert "born" not in claims, "the birth date stays in the database"
    expired = jwt.encode({**claims, "exp": claims["iat"] - 60}, secret, algorithm="HS256")
    foreign = jwt.encode(claims, "another palace's key, long enough for HS256", algorithm="HS256")
    elsewhere = jwt.encode({**claims, "aud": "another-api"}, secret, algorithm="HS256")
    forged = jwt.encode({**claims, "iss": "someone-else"}, secret, algorithm="HS256")
    head, body, signature = good.split(".")
    tampered = ".".join((head, jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(body).replace(b'"member"', b'"admin"')).decode(), signature))
    for token in (expired, foreign, tampered, elsewhere, forged):
        answer = Client(palace.url, token).get("/v1/me/enrolments")
        assert answer.status_code == 401 and answer.json()["type"].endswith("/problems/bad-token"), answer.text
    assert Client(palace.url, tampered).get("/v1/accounts").status_code == 401, "no admin by editing the token"
    assert Client(palace.url, good).get("/v1/me/enrolments").status_code == 200


def test_failed_sign_ins_are_limited_per_phone_then_per_address(palace):
    member, other = new_member(palace.url), new_member(palace.url)
    phone = _phone(palace, member)
    for _ in range(5):
        assert _token(palace.url, phone, "wrong-password").status_code == 401
    blocked = _token(palace.url, phone, PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["type"].endswith("/problems/rate-limited")

    # 30 failures from one address, spread over phones, close that address too (kept last: it
    # blocks this test module's own address)
    for n in range(25):
        _token(palace.url, f"1370000{n:04d}", "wrong-password")
    assert _token(palace.url, _phone(palace, other), PASSWORD).status_code == 429
    assert Client(palace.url).get("/healthz").status_code == 200
