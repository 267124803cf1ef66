"""An Idempotency-Key keeps no private facts in the gateway's database: a payment, a walk-in's
account (name, phone, birth date) and a staff account keep only the id of what was made, and a
replay re-reads it (the same status and thing, marked replayed)."""
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
