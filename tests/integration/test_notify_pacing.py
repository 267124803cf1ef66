"""A member is not sent a burst: their messages outside the app go PALACE_NOTIFY_MEMBER_GAP apart
(urgent ones at once), so the SMS provider's per-number flow control (the fake Aliyun refuses a
number texted again too soon, as Aliyun's isv.BUSINESS_LIMIT_CONTROL does) never refuses one.
Notify's fan-out and dispatcher run in this process on the stack's real PostgreSQL."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from services.common import config
from services.notify import channels, dispatch, fanout, store
from tests.providers import SMS_KEY_ID, SMS_SECRET, SMS_SIGN_NAME, Providers, sms_codes

GAP = 1.5  # seconds between a member's messages
PROVIDER_GAP = 1.0  # the fake provider's per-number window: shorter, as the setting's advice says


@pytest.fixture(scope="module")
def fake():
    providers = Providers()
    providers.per_number_gap = PROVIDER_GAP
    yield providers
    providers.stop()


@pytest.fixture
def notify(stack, fake, monkeypatch):
    monkeypatch.setenv("PALACE_NOTIFY_QUIET_HOURS", "off")
    adapters = {"sms": channels.AliyunSms(fake.url + "/sms", SMS_KEY_ID, SMS_SECRET, SMS_SIGN_NAME, sms_codes(), 5),
                "console": channels.Console("console")}
    # autocommit: each look outside a transaction block is its own, so now() moves on between rounds
    with psycopg.connect(config.db_url("notify"), row_factory=dict_row, autocommit=True) as conn:
        yield conn, adapters


def member_with_phone(conn):
    member, number = str(uuid.uuid4()), f"139{uuid.uuid4().int % 10**8:08d}"
    with conn.transaction():
        store.set_phone(conn, member, number)
    return member, number


def certificate(member, title):
    return {"event_id": str(uuid.uuid4()), "event_type": "enrolment.certificate_issued",
            "payload": {"member_id": member, "course_title": title}}


def offer(member):
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    return {"event_id": str(uuid.uuid4()), "event_type": "enrolment.offer_made",
            "payload": {"member_id": member, "course_title": "二胡", "expires_at": soon}}


class InOrder:
    """The dispatcher's pool, one send after another (eventlet stays fenced in notify's own modules)."""
    imap = staticmethod(map)


def dispatch_until(conn, adapters, fake, number, count, timeout=15):
    """Run the dispatcher until the provider got `count` texts for `number`; their requests."""
    pool, deadline = InOrder(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatch.run_once(conn, adapters, pool)
        got = fake.to("/sms", number)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{len(fake.to('/sms', number))} of {count} texts in {timeout}s")


def test_three_events_at_once_reach_the_phone_a_gap_apart_and_none_is_refused(notify, fake, monkeypatch):
    conn, adapters = notify
    monkeypatch.setenv("PALACE_NOTIFY_MEMBER_GAP", str(GAP))
    member, number = member_with_phone(conn)
    with conn.transaction():
        fanout.tell_many(conn, [certificate(member, title) for title in ("剪纸", "茶艺", "书法")])
    rows = conn.execute("SELECT state, next_attempt_at FROM deliveries WHERE member_id = %s ORDER BY next_attempt_at",
                        (member,)).fetchall()
    assert [r["state"] for r in rows] == ["pending", "held", "held"]
    steps = [(b["next_attempt_at"] - a["next_attempt_at"]).total_seconds() for a, b in zip(rows, rows[1:])]
    assert steps == [GAP, GAP]
    texts = dispatch_until(conn, adapters, fake, number, 3)
    assert [t[2]["Code"] for t in texts] == ["OK", "OK", "OK"]
    assert all(later[3] - earlier[3] >= PROVIDER_GAP for earlier, later in zip(texts, texts[1:]))


def test_without_a_gap_the_provider_refuses_the_burst(notify, fake, monkeypatch):
    """What pacing prevents: the same three events unpaced meet the provider's flow control."""
    conn, adapters = notify
    monkeypatch.setenv("PALACE_NOTIFY_MEMBER_GAP", "0")
    member, number = member_with_phone(conn)
    with conn.transaction():
        fanout.tell_many(conn, [certificate(member, title) for title in ("剪纸", "茶艺", "书法")])
    texts = dispatch_until(conn, adapters, fake, number, 3)
    assert [t[2]["Code"] for t in texts].count("isv.BUSINESS_LIMIT_CONTROL") >= 1


def test_an_urgent_message_is_not_paced_behind_a_routine_one(notify, fake, monkeypatch):
    conn, adapters = notify
    monkeypatch.setenv("PALACE_NOTIFY_MEMBER_GAP", "60")
    member, _ = member_with_phone(conn)
    with conn.transaction():
        fanout.tell_many(conn, [certificate(member, "剪纸")])
    with conn.transaction():
        fanout.tell_many(conn, [certificate(member, "茶艺"), offer(member)])
    rows = {r["event_type"]: r for r in conn.execute(
        "SELECT event_type, urgent, state, next_attempt_at - created_at AS wait FROM deliveries WHERE member_id = %s"
        " ORDER BY created_at", (member,)).fetchall() if r["event_type"] != "enrolment.certificate_issued"}
    assert (rows["enrolment.offer_made"]["urgent"], rows["enrolment.offer_made"]["state"]) == (True, "pending")
    routine = conn.execute("SELECT state, next_attempt_at FROM deliveries WHERE member_id = %s"
                           " AND event_type = 'enrolment.certificate_issued' ORDER BY next_attempt_at",
                           (member,)).fetchall()
    assert [r["state"] for r in routine] == ["pending", "held"]
    assert (routine[1]["next_attempt_at"] - routine[0]["next_attempt_at"]).total_seconds() == 60
