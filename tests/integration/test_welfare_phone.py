"""Welfare keeps the phone of each account to find a unit's roster rows by it; that copy follows the
account through the real broker: a phone change moves it (the old phone may become another worker's,
who then gets the rows typed with it), links the rows typed with the new phone, is idempotent, cannot
be undone by an older event arriving late, and writes nothing back for a closed account."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common import trust
from services.common.events import envelope
from tests.broker import message_count, publish
from tests.harness import eventually

QUEUES = ("evt-gateway-account_registered--welfare.on_account_registered",
          "evt-gateway-account_phone_changed--welfare.on_phone_changed",
          "evt-gateway-account_closed--welfare.on_account_closed")


@pytest.fixture(scope="module")
def welfare(stack):
    stack.start("welfare")
    with stack.db("welfare") as conn:
        plan = conn.execute("INSERT INTO plans (year, name, contribution, rules) VALUES (2026, %s, 6000, '{}')"
                            " RETURNING id", (f"Plan {uuid.uuid4().hex[:6]}",)).fetchone()["id"]
    return stack, plan


def phone():
    return f"137{uuid.uuid4().int % 10**8:08d}"


def told(event_type, payload, at=None):
    """A gateway event as the gateway's relay publishes it; `at` backdates it (signed as it says)."""
    event = envelope("gateway", event_type, payload)
    if at is not None:
        event = trust.sign_event({**event, "occurred_at": at.isoformat()})
    return publish("gateway", event_type, payload, event=event)


def drained():
    eventually(lambda: all(message_count(q) == 0 for q in QUEUES), timeout=15)


def members(stack, phone_number):
    """Who welfare takes a roster row typed with this phone to be: the import's lookup."""
    with stack.db("welfare") as conn:
        return [str(r["member_id"]) for r in conn.execute(
            "SELECT member_id FROM members WHERE phone = %s ORDER BY registered_at", (phone_number,)).fetchall()]


def roster_row(stack, plan, phone_number):
    with stack.db("welfare") as conn:
        return conn.execute(
            "INSERT INTO plan_enrolments (plan_id, unit_id, name, phone, national_id_hash, national_id_cipher,"
            " national_id_mask) VALUES (%s, %s, '王芳', %s, %s, '\\x00', '****') RETURNING id",
            (plan, str(uuid.uuid4()), phone_number, f"test:{uuid.uuid4().hex}")).fetchone()["id"]


def linked_to(stack, row):
    with stack.db("welfare") as conn:
        member = conn.execute("SELECT member_id FROM plan_enrolments WHERE id = %s", (row,)).fetchone()["member_id"]
    return member and str(member)


def test_a_phone_change_moves_welfares_copy_and_the_old_phone_finds_its_new_holder(welfare):
    stack, plan = welfare
    first, second, old, new = str(uuid.uuid4()), str(uuid.uuid4()), phone(), phone()
    typed_with_new = roster_row(stack, plan, new)
    told("account_registered", {"member_id": first, "phone": old, "language": "zh-CN"})
    eventually(lambda: members(stack, old) == [first])

    changed = told("account_phone_changed", {"member_id": first, "phone": new})
    eventually(lambda: members(stack, new) == [first])
    assert members(stack, old) == [], "the old phone no longer names them"
    assert linked_to(stack, typed_with_new) == first, "the row the unit typed with the new phone is theirs"

    # the old phone now signs in another worker: a row typed with it is theirs, not the first one's
    told("account_registered", {"member_id": second, "phone": old, "language": "zh-CN"})
    eventually(lambda: members(stack, old) == [second])

    publish("gateway", "account_phone_changed", changed["payload"], event=changed, times=3)  # redelivered
    drained()
    assert (members(stack, new), members(stack, old)) == ([first], [second])


def test_an_older_event_arriving_late_does_not_put_the_old_phone_back(welfare):
    stack, _ = welfare
    member, old, new = str(uuid.uuid4()), phone(), phone()
    now = datetime.now(timezone.utc)
    told("account_phone_changed", {"member_id": member, "phone": new}, at=now)
    eventually(lambda: members(stack, new) == [member])
    # the registration, on its own queue, reaches welfare after the change it came before
    told("account_registered", {"member_id": member, "phone": old, "language": "zh-CN"}, at=now - timedelta(minutes=5))
    drained()
    assert (members(stack, new), members(stack, old)) == ([member], [])


def test_a_closed_account_gets_no_phone_back_from_a_late_change(welfare):
    stack, plan = welfare
    member, old, new = str(uuid.uuid4()), phone(), phone()
    typed_with_new = roster_row(stack, plan, new)
    told("account_registered", {"member_id": member, "phone": old, "language": "zh-CN"})
    eventually(lambda: members(stack, old) == [member])
    told("account_closed", {"member_id": member})
    eventually(lambda: members(stack, old) == [])
    told("account_phone_changed", {"member_id": member, "phone": new})
    drained()
    assert members(stack, new) == [] and linked_to(stack, typed_with_new) is None


def test_a_registration_arriving_after_an_upload_told_welfare_the_same_phone_still_links_the_rows(welfare):
    stack, plan = welfare
    member, number = str(uuid.uuid4()), phone()
    typed = roster_row(stack, plan, number)
    with stack.db("welfare") as conn:  # an upload's accounts_by_phone named the account first (start_import)
        conn.execute("INSERT INTO members (member_id, phone, phone_at) VALUES (%s, %s, now())", (member, number))
    told("account_registered", {"member_id": member, "phone": number, "language": "zh-CN"},
         at=datetime.now(timezone.utc) - timedelta(minutes=5))
    assert eventually(lambda: linked_to(stack, typed) == member)
