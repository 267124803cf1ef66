"""An Idempotency-Key keeps no private facts in the gateway's database: a payment, a walk-in's
account (name, phone, birth date) and a staff account keep only the id of what was made, and a
replay re-reads it (the same status and thing, marked replayed). Nor can a copy of that database
confirm a guess at a request's body: the hash kept of it is keyed with a key only the gateway holds."""
import hashlib
import json

import pytest

from tests.e2e.conftest import new_member, new_staff
from tests.e2e.test_welfare_cases import apply, decide


@pytest.fixture(scope="module")
def officers(palace, admin):
    return [new_staff(palace.url, admin, ["welfare_officer", "member"], name=f"Officer {n}") for n in "AB"]


def kept(palace, key):
    with palace.db("gateway") as conn:
        return conn.execute("SELECT body FROM idempotency_keys WHERE key = %s", (key,)).fetchone()["body"]


def test_a_replayed_payment_is_reread_and_the_key_keeps_only_its_id(palace, officers):
    a, b = officers
    member = new_member(palace.url, "Sun Yue")
    application = apply(member, national_id="11010519491231002X", private={"health": "heart surgery"})
    decide(a, application, "approve", "4500.00")
    decide(b, application, "approve")
    first = b.post(f"/v1/welfare/applications/{application['id']}/payouts", headers={"Idempotency-Key": "pay-ref"})
    assert first.status_code == 201, first.text
    assert kept(palace, "pay-ref") == {"reference_id": first.json()["id"]}
    again = b.post(f"/v1/welfare/applications/{application['id']}/payouts", headers={"Idempotency-Key": "pay-ref"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert {k: again.json()[k] for k in ("id", "reference", "amount")} == \
        {k: first.json()[k] for k in ("id", "reference", "amount")}


def test_a_walk_in_account_made_with_a_key_leaves_no_name_or_phone_in_the_key(palace, admin):
    clerk = new_staff(palace.url, admin, ["desk"], name="Clerk Wu")
    body = {"phone": "13712345678", "name": "Walk-in Lin Fang", "birth_date": "1961-03-04", "id_last4": "123X"}
    first = clerk.post("/v1/desk/members", body, headers={"Idempotency-Key": "walk-in-1"})
    assert first.status_code == 201, first.text
    stored = json.dumps(kept(palace, "walk-in-1"))
    assert "Lin Fang" not in stored and "13712345678" not in stored and "1961" not in stored
    again = clerk.post("/v1/desk/members", body, headers={"Idempotency-Key": "walk-in-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["name"] == "Walk-in Lin Fang"


def unkeyed(method, path, body):
    """What anyone can compute of a guessed request, with no key: how keys were hashed before."""
    return hashlib.sha256(json.dumps([method, path, body], sort_keys=True, default=str).encode()).hexdigest()


def stored_hash(palace, key):
    with palace.db("gateway") as conn:
        return conn.execute("SELECT request_hash FROM idempotency_keys WHERE key = %s", (key,)).fetchone()["request_hash"]


def test_a_guess_at_an_applications_facts_cannot_be_checked_against_its_keys_hash(palace):
    member = new_member(palace.url, "Guo Lan")
    path = "/v1/welfare/applications"
    body = {"programme": "hardship_relief", "amount_requested": "3000.00", "reason": "treatment",
            "private": {"household_income": "2400.00", "household_size": 3, "health": "diagnosed with cancer"},
            "draft": True}
    first = member.post(path, body, headers={"Idempotency-Key": "apply-hash"})
    assert first.status_code == 201, first.text
    kept_hash = stored_hash(palace, "apply-hash")
    assert kept_hash != unkeyed("POST", path, body), "a right guess of the body would match the kept hash"
    assert kept_hash == palace.request_fingerprint("POST", path, body)
    again = member.post(path, body, headers={"Idempotency-Key": "apply-hash"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = member.post(path, {**body, "amount_requested": "3100.00"}, headers={"Idempotency-Key": "apply-hash"})
    assert other.status_code == 422 and other.json()["type"].endswith("/problems/idempotency-key-reused")


def test_keys_hashed_before_hashes_were_keyed_still_replay_and_are_taken_over_keyed(palace, admin):
    member = new_member(palace.url)
    course_id = admin.post("/v1/courses", {"title": "Tea ceremony", "capacity": 5}).json()["id"]
    path = f"/v1/courses/{course_id}/enrolments"
    answered = {"id": "00000000-0000-0000-0000-000000000001", "status": "confirmed"}
    with palace.db("gateway") as conn:  # written by a gateway from before the change
        conn.execute("INSERT INTO idempotency_keys (account_id, key, request_hash, status, body)"
                     " VALUES (%s, 'tap-answered', %s, 201, %s)",
                     (member.id, unkeyed("POST", path, {}), json.dumps(answered)))
        conn.execute("INSERT INTO idempotency_keys (account_id, key, request_hash, released)"
                     " VALUES (%s, 'tap-released', %s, true)", (member.id, unkeyed("POST", path, {})))
    replayed = member.post(path, headers={"Idempotency-Key": "tap-answered"})
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == answered
    taken_over = member.post(path, headers={"Idempotency-Key": "tap-released"})
    assert taken_over.status_code == 201 and taken_over.json()["status"] == "confirmed", taken_over.text
    assert "Idempotent-Replayed" not in taken_over.headers
    assert stored_hash(palace, "tap-released") == palace.request_fingerprint("POST", path, {})
