"""Notify on real PostgreSQL and RabbitMQ, with a local HTTP server playing the SMS and WeChat
providers (tests/providers.py: answering 429/5xx or a provider's error code when told to) and a real
mail relay (aiosmtpd, STARTTLS and a login)."""
import time
import uuid
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest

from ops import dead_letters
from services.common import trust
from services.common.handlers import dead_queue_name
from tests.broker import message_count, publish
from tests.harness import at_once, eventually
from tests.providers import MAIL_USER, MailRelay, Providers, sms_env, wechat_env

BACKOFF_BASE = 0.1


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory):
    provider, mailbox = Providers(), MailRelay(tmp_path_factory.mktemp("relay"))
    # the migrate step declared the shared queues: an event sent before notify ever ran waits for it
    early = str(uuid.uuid4())
    publish("welfare", "mutual_aid_enrolled", {"member_id": early, "plan_title": "2026 plan"})
    stack.early_member = early
    stack.start("gateway-feed")  # notify asks it who holds a staff role (a booking waiting: the managers)
    stack.start("notify", extra_env={
        **sms_env(provider.url + "/sms"), **wechat_env(provider.url + "/wechat"),
        **mailbox.env(), "PALACE_NOTIFY_BACKOFF": f"{BACKOFF_BASE},1",
        "PALACE_NOTIFY_MAX_ATTEMPTS": "4", "PALACE_NOTIFY_POLL": "0.1",
    })
    yield stack, provider, mailbox
    stack.stop("notify")
    stack.stop("gateway-feed")
    mailbox.stop()
    provider.stop()


def as_member(stack, member):
    return stack.rpc(context={"caller_id": member, "caller_roles": "member"})


def new_member(stack, wechat_openid=None, **contacts):
    member = str(uuid.uuid4())
    if contacts:
        with as_member(stack, member) as rpc:
            rpc.notify.put_contacts(contacts)
    if wechat_openid:  # bound as WeChat's web authorization binds it (tests/e2e/test_notify_contacts.py)
        with stack.db("notify") as conn:
            conn.execute("INSERT INTO contacts (member_id, wechat_openid) VALUES (%s, %s) ON CONFLICT (member_id)"
                         " DO UPDATE SET wechat_openid = excluded.wechat_openid", (member, wechat_openid))
    return member


def phone():
    return f"139{uuid.uuid4().int % 10**8:08d}"


def confirmed(member):
    return {"enrolment_id": str(uuid.uuid4()), "course_id": str(uuid.uuid4()), "course_title": "Tea art 茶艺",
            "member_id": member, "status": "confirmed", "position": None}


def inbox(stack, member):
    with stack.db("notify") as conn:
        return conn.execute("SELECT * FROM inbox WHERE member_id = %s ORDER BY created_at", (member,)).fetchall()


def deliveries(stack, member):
    with stack.db("notify") as conn:
        return conn.execute("SELECT * FROM deliveries WHERE member_id = %s ORDER BY created_at",
                            (member,)).fetchall()


def settled(stack, member, count=1):
    rows = deliveries(stack, member)
    return rows if len(rows) >= count and all(r["state"] in ("sent", "failed", "skipped", "held")
                                              for r in rows) else None


def test_an_event_redelivered_100_times_gives_one_inbox_entry_and_one_sms(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    publish("enrolment", "enrolment_confirmed", confirmed(member), times=100)
    eventually(lambda: message_count("evt-enrolment--notify.on_enrolment") == 0)
    eventually(lambda: settled(stack, member))
    time.sleep(0.5)  # room for a wrong second message to show up
    assert len(inbox(stack, member)) == 1
    [sms] = provider.to("/sms", number)
    assert (sms[1], sms[2]["Code"]) == (200, "OK")
    assert sms[2]["TemplateCode"] == provider.template("SMS_PALACE_ENROL_OK")
    assert sms[2]["TemplateParam"] == {"course": "Tea art 茶艺", "time": "另行通知"}, "no timetable yet"
    [row] = deliveries(stack, member)
    assert (row["channel"], row["state"], row["attempts"]) == ("sms", "sent", 1)


def test_a_provider_answering_503_three_times_delivers_once_after_backoff(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    with provider.lock:
        provider.script["/sms"] = [503, 503, 503]
    publish("enrolment", "enrolment_confirmed", confirmed(member))
    [row] = eventually(lambda: settled(stack, member), timeout=15)
    tries = provider.to("/sms", number)
    assert [t[1] for t in tries] == [503, 503, 503, 200]
    assert len({t[2]["OutId"] for t in tries}) == 1, "the same delivery each time"
    assert (row["state"], row["attempts"]) == ("sent", 4)
    # equal jitter: pause k is at least half of base * 2**(k-1)
    gaps = [b[3] - a[3] for a, b in zip(tries, tries[1:])]
    for k, gap in enumerate(gaps, start=1):
        assert gap >= BACKOFF_BASE * 2 ** (k - 1) / 2 * 0.9, gaps
    with stack.rpc() as rpc:
        assert rpc.notify.stats()["sms_retried"] >= 3


def test_a_channel_that_always_fails_is_recorded_and_the_sms_takes_over_and_ops_can_replay(world):
    stack, provider, _ = world
    number, openid = phone(), f"oPENID{uuid.uuid4().hex[:12]}"
    member = new_member(stack, phone=number, wechat_openid=openid)
    with provider.lock:
        provider.always["/wechat"] = -1  # "system busy": worth trying again, until the last attempt
    try:
        publish("enrolment", "enrolment_confirmed", confirmed(member))
        rows = eventually(lambda: settled(stack, member, 2), timeout=15)
    finally:
        with provider.lock:
            provider.always.pop("/wechat")
    wechat, sms = rows
    assert (wechat["channel"], wechat["state"], wechat["attempts"]) == ("wechat", "failed", 4)
    assert "wechat answered -1" in wechat["last_error"]
    assert (sms["channel"], sms["state"], sms["failover_of"]) == ("sms", "sent", wechat["id"])
    assert len(provider.to("/wechat", openid)) == 4 and len(provider.to("/sms", number)) == 1

    with stack.rpc(part=trust.OPS) as rpc:  # ops tooling signs as itself
        failed = rpc.notify.failed_deliveries()
        assert str(wechat["id"]) in [f["id"] for f in failed]
        assert rpc.notify.replay_delivery(str(wechat["id"]))["state"] == "pending"
    eventually(lambda: deliveries(stack, member)[0]["state"] == "sent")
    assert len(provider.to("/sms", number)) == 1, "the replay sent no second SMS"
    with as_member(stack, str(uuid.uuid4())) as rpc, pytest.raises(Exception, match="admin"):
        rpc.notify.failed_deliveries()
    with stack.rpc() as rpc, pytest.raises(Exception, match="sign in"):  # the gateway names no one: refused
        rpc.notify.failed_deliveries()


def test_a_provider_saying_too_many_requests_is_tried_again(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    with provider.lock:
        provider.script["/sms"] = [429]
    publish("enrolment", "enrolment_confirmed", confirmed(member))
    [row] = eventually(lambda: settled(stack, member))
    assert [t[1] for t in provider.to("/sms", number)] == [429, 200] and row["state"] == "sent"


def test_the_daily_cap_holds_when_events_for_one_member_race_on_several_queues(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    with as_member(stack, member) as rpc:
        rpc.notify.put_preferences({"daily_cap": 3})
    sources = [("enrolment", "certificate_issued"), ("welfare", "payout_made"), ("venues", "booking_pending")]

    def publisher(source, kind):
        def send(go):
            go()
            publish(source, kind, {"member_id": member, "amount": "5"})
        return send

    at_once([publisher(source, kind) for source, kind in sources * 4])
    rows = eventually(lambda: settled(stack, member, 12), timeout=15)
    assert sum(r["state"] != "skipped" for r in rows) == 3
    assert len(inbox(stack, member)) == 12
    eventually(lambda: len(provider.to("/sms", number)) == 3)


def test_aliyun_flow_control_is_tried_again_and_a_number_it_refuses_fails_at_once(world):
    stack, provider, _ = world
    limited, refused = phone(), phone()
    first, second = new_member(stack, phone=limited), new_member(stack, phone=refused)
    with provider.lock:
        provider.script["/sms"] = ["isv.BUSINESS_LIMIT_CONTROL"]
    publish("enrolment", "enrolment_confirmed", confirmed(first))
    [row] = eventually(lambda: settled(stack, first))
    assert [t[2]["Code"] for t in provider.to("/sms", limited)] == ["isv.BUSINESS_LIMIT_CONTROL", "OK"]
    assert (row["state"], row["attempts"]) == ("sent", 2)

    with provider.lock:
        provider.script["/sms"] = ["isv.MOBILE_NUMBER_ILLEGAL"]
    publish("enrolment", "enrolment_confirmed", confirmed(second))
    [row] = eventually(lambda: settled(stack, second))
    assert (row["state"], row["attempts"]) == ("failed", 1) and "isv.MOBILE_NUMBER_ILLEGAL" in row["last_error"]


def test_a_refusal_that_cannot_pass_later_fails_at_once(world):
    stack, provider, _ = world
    number, openid = phone(), f"oBAD{uuid.uuid4().hex[:12]}"
    member = new_member(stack, phone=number, wechat_openid=openid)
    with provider.lock:
        provider.script["/wechat"] = [43004]  # the member no longer follows the account
    publish("enrolment", "enrolment_confirmed", confirmed(member))
    wechat, sms = eventually(lambda: settled(stack, member, 2))
    assert (wechat["state"], wechat["attempts"], sms["state"]) == ("failed", 1, "sent")


def test_email_goes_through_a_real_smtp_server_in_the_members_language(world):
    stack, _, mailbox = world
    member = new_member(stack, email="ruan@example.org")
    with as_member(stack, member) as rpc:
        prefs = rpc.notify.put_preferences({"language": "en", "categories": {"welfare": ["email"]}})
    assert prefs["categories"]["welfare"] == ["email"] and prefs["categories"]["classes"] == ["wechat", "sms"]
    publish("welfare", "payout_made", {"member_id": member, "amount": "1500.00", "reference": "PAY-7"})
    [(_, content, login)] = eventually(lambda: mailbox.to("ruan@example.org"))
    mail = message_from_bytes(content.encode(), policy=policy.default)
    assert "PAY-7" in mail.get_content() and mail["Subject"] == "Payment sent: ¥1,500.00"
    assert login == MAIL_USER and mail["Date"] and mail["Message-ID"].endswith("@localhost>")
    [entry] = inbox(stack, member)
    assert entry["title"] == "Payment sent: ¥1,500.00"


def test_quiet_hours_hold_a_routine_message_but_not_an_urgent_one(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    local = datetime.now(ZoneInfo("Asia/Shanghai"))  # quiet from an hour ago to an hour from now
    start, end = (f"{(local + timedelta(hours=h)):%H:%M}" for h in (-1, 1))
    with as_member(stack, member) as rpc:
        rpc.notify.put_preferences({"quiet_hours": {"start": start, "end": end}})
    publish("enrolment", "certificate_issued", {"member_id": member, "course_title": "Erhu"})
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    publish("enrolment", "offer_made", {"member_id": member, "course_title": "Erhu 2", "expires_at": soon})
    rows = eventually(lambda: settled(stack, member, 2))
    states = {r["event_type"]: (r["state"], r["urgent"]) for r in rows}
    assert states == {"enrolment.certificate_issued": ("held", False), "enrolment.offer_made": ("sent", True)}
    assert len(inbox(stack, member)) == 2, "the inbox is never held"
    assert len(provider.to("/sms", number)) == 1


def test_the_daily_cap_skips_messages_outside_the_app_but_keeps_the_inbox(world):
    stack, provider, _ = world
    number = phone()
    member = new_member(stack, phone=number)
    with as_member(stack, member) as rpc:
        rpc.notify.put_preferences({"daily_cap": 1})
    for _ in range(3):
        publish("enrolment", "certificate_issued", {"member_id": member, "course_title": "Calligraphy"})
    rows = eventually(lambda: settled(stack, member, 3))
    assert sorted(r["state"] for r in rows) == ["sent", "skipped", "skipped"]
    assert len(inbox(stack, member)) == 3 and len(provider.to("/sms", number)) == 1


def test_one_queue_per_source_takes_every_event_type_and_an_event_for_nobody_goes_to_nobody(world):
    stack, _, _ = world
    members = [new_member(stack) for _ in range(3)]
    publish("welfare", "application_decided", {"member_ids": members + [members[0]], "decision": "approved",
                                                "amount": "800", "programme": "hardship_relief"})
    publish("venues", "room_closed", {"room_id": str(uuid.uuid4()), "room_name": "Hall B", "reason": "repairs"})
    for member in members:
        [entry] = eventually(lambda m=member: inbox(stack, m))
        assert entry["title"] == "申请结果：已批准" and "¥800.00" in entry["body"]
        assert "hardship_relief" not in entry["body"], "a programme's code is not its name"
    eventually(lambda: message_count("evt-venues--notify.on_venues") == 0)


def test_an_event_sent_before_notify_first_ran_was_kept_for_it(world):
    stack, _, _ = world
    [entry] = eventually(lambda: inbox(stack, stack.early_member))
    assert entry["title"] == "您已加入职工互助保障" and "2026 plan" in entry["body"]


def test_a_malformed_event_on_a_shared_queue_is_dead_lettered_with_its_reason(world):
    queue = "evt-welfare--notify.on_welfare"
    publish("welfare", "payout_made", {"member_id": "not-a-member", "amount": "1"})
    eventually(lambda: message_count(dead_queue_name(queue)) == 1)
    [letter] = dead_letters.peek(dead_queue_name(queue))
    assert letter["attempts"] == 1 and "member" in letter["reason"]
    # a type the queue is not bound for, sent straight to it, is refused too
    publish("welfare", "payout_made", {}, event=trust.sign_event({
        "event_id": str(uuid.uuid4()), "event_type": "welfare.unknown",
        "occurred_at": datetime.now(timezone.utc).isoformat(), "version": 1, "payload": {}}))
    eventually(lambda: message_count(dead_queue_name(queue)) == 2)
    reasons = [letter["reason"] for letter in dead_letters.peek(dead_queue_name(queue))]
    assert any("welfare.unknown" in r for r in reasons)
    dead_letters.replay(queue)  # they die again: leave the queue as found
    eventually(lambda: message_count(dead_queue_name(queue)) == 2)


def test_a_class_session_and_a_booking_are_reminded_before_they_start_and_a_cancelled_one_is_not(world):
    stack, _, _ = world
    member = new_member(stack)
    soon = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    later = soon + timedelta(days=5)
    publish("enrolment", "session_upcoming", {"member_ids": [member], "session_id": str(uuid.uuid4()),
                                              "course_id": str(uuid.uuid4()), "course_title": "Peking opera",
                                              "starts_at": soon.isoformat(), "room_name": "Studio 2"})
    booking = str(uuid.uuid4())
    publish("venues", "booking_confirmed", {"member_id": member, "booking_id": booking, "room_name": "Hall A",
                                            "starts_at": later.isoformat(),
                                            "ends_at": (later + timedelta(hours=2)).isoformat()})
    entries = eventually(lambda: len(inbox(stack, member)) == 2 and inbox(stack, member))
    titles = sorted(e["title"] for e in entries)
    assert titles == ["提醒：Peking opera", "预约成功：Hall A"]
    with stack.db("notify") as conn:
        due = conn.execute("SELECT subject, state, due_at, starts_at FROM reminders WHERE member_id = %s"
                           " ORDER BY starts_at", (member,)).fetchall()
    assert [r["state"] for r in due] == ["sent", "due"]
    assert due[1]["starts_at"] - due[1]["due_at"] == timedelta(hours=24)
    publish("venues", "booking_cancelled", {"member_id": member, "booking_id": booking, "room_name": "Hall A",
                                            "starts_at": later.isoformat(), "reason": "closed for repairs"})
    eventually(lambda: len(inbox(stack, member)) == 3)
    with stack.db("notify") as conn:
        state = conn.execute("SELECT state FROM reminders WHERE subject = %s", (f"booking:{booking}",)).fetchone()
    assert state["state"] == "cancelled"


def test_preview_renders_every_language_and_the_sms_template(world):
    stack, _, _ = world
    with stack.rpc() as rpc:
        zh = rpc.notify.preview({"event_type": "enrolment.session_moved", "language": "zh-CN", "payload": {
            "course_title": "Erhu", "new_starts_at": "2026-11-21T11:30:00+00:00"}})
        assert zh["title"] == "上课时间变更：Erhu" and "11月21日 周六 19:30" in zh["body"]
        assert zh["sms"] == {"template_id": "SMS_PALACE_SESSION_MOVED",
                             "params": {"course": "Erhu", "time": "11月21日 周六 19:30"}}
        with pytest.raises(Exception, match="event_type"):
            rpc.notify.preview({"event_type": "enrolment.nothing"})
        figures = rpc.notify.stats()
    assert figures["sms_sent"] >= 1 and figures["wechat_failed"] >= 1 and figures["inbox_entries"] >= 1
    assert figures["inbox_latency_p99_ms"] is not None


def test_one_event_failing_in_the_database_fails_alone_and_its_group_is_handled(world):
    stack, _, _ = world
    queue = "evt-welfare--notify.on_welfare"
    before = message_count(dead_queue_name(queue))
    members = [new_member(stack) for _ in range(30)]
    bad = new_member(stack)
    for i, member in enumerate(members):
        publish("welfare", "payout_made", {"member_id": member, "amount": "10", "reference": f"OK-{i}"})
        if i == 15:  # PostgreSQL text cannot hold NUL: this one's transaction fails every time
            publish("welfare", "payout_made", {"member_id": bad, "amount": "10", "reference": "BAD\u0000"})
    for member in members:
        eventually(lambda m=member: len(inbox(stack, m)) == 1)
    eventually(lambda: message_count(dead_queue_name(queue)) == before + 1)
    assert inbox(stack, bad) == []
    letters = dead_letters.peek(dead_queue_name(queue), limit=50)
    assert any(letter["attempts"] == 3 and "BAD" in letter["body"] for letter in letters)


def test_a_moved_session_is_reminded_at_its_new_time_and_a_cancelled_course_is_not_reminded(world):
    stack, _, _ = world
    member = new_member(stack)
    course, session, gone = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    far = (datetime.now(timezone.utc) + timedelta(days=10)).replace(microsecond=0)
    for sid in (session, gone):
        publish("enrolment", "session_upcoming", {"member_id": member, "session_id": sid, "course_id":
                                                  course if sid == session else gone, "course_title": "Erhu",
                                                  "starts_at": far.isoformat()})
    moved = far + timedelta(days=3)
    publish("enrolment", "session_moved", {"member_ids": [member], "session_id": session, "course_id": course,
                                           "course_title": "Erhu", "old_starts_at": far.isoformat(),
                                           "new_starts_at": moved.isoformat()})
    publish("enrolment", "course_cancelled", {"member_ids": [member], "course_id": gone, "course_title": "Erhu",
                                              "reason": "teacher ill"})

    def reminders():
        with stack.db("notify") as conn:
            rows = conn.execute("SELECT subject, state, starts_at, due_at FROM reminders WHERE member_id = %s",
                                (member,)).fetchall()
        return {r["subject"]: r for r in rows}

    eventually(lambda: len(inbox(stack, member)) == 2)  # the move and the cancellation, nothing else yet
    found = eventually(lambda: (r := reminders()) and r[f"session:{gone}"]["state"] == "cancelled" and r)
    assert found[f"session:{session}"]["starts_at"] == moved
    assert found[f"session:{session}"]["due_at"] == moved - timedelta(hours=24)
    assert found[f"session:{session}"]["state"] == "due"


def contacts_and_language(stack, member):
    with as_member(stack, member) as rpc:
        return rpc.notify.get_contacts()["phone"], rpc.notify.get_preferences()["language"]


def test_a_new_account_gives_its_phone_once_and_keeps_what_a_member_set_first(world):
    stack, provider, _ = world
    queue = "evt-gateway-account_registered--notify.on_account_registered"
    number, english, settled_first = phone(), str(uuid.uuid4()), new_member(stack, phone="13800000000")
    member = str(uuid.uuid4())
    publish("gateway", "account_registered", {"member_id": member, "phone": number, "language": "zh-CN"}, times=3)
    publish("gateway", "account_registered", {"member_id": english, "phone": phone(), "language": "en"})
    publish("gateway", "account_registered", {"member_id": settled_first, "phone": phone(), "language": "en"})
    eventually(lambda: message_count(queue) == 0)
    assert eventually(lambda: contacts_and_language(stack, member) == (number, "zh-CN"))
    assert eventually(lambda: contacts_and_language(stack, english)[1] == "en")
    time.sleep(0.3)
    assert contacts_and_language(stack, settled_first) == ("13800000000", "en"), "their own phone stays"

    publish("enrolment", "enrolment_confirmed", confirmed(member))
    eventually(lambda: settled(stack, member))
    [sms] = provider.to("/sms", number)
    assert sms[2]["TemplateParam"]["course"] == "Tea art 茶艺"

    publish("gateway", "account_registered", {"member_id": str(uuid.uuid4()), "phone": "call me"})
    publish("gateway", "account_registered", {"phone": number})
    eventually(lambda: message_count(dead_queue_name(queue)) == 2)


def test_a_case_past_its_time_reaches_its_officer_and_every_admin_each_once_through_the_broker(world):
    stack, provider, _ = world
    with stack.db("gateway") as conn:  # the admins notify finds by asking the gateway's feed
        admins = [str(conn.execute("INSERT INTO accounts (phone, name, password_hash, roles) VALUES (%s, %s, 'x', %s)"
                                   " RETURNING id", (phone(), f"管理员{n}", ["admin"])).fetchone()["id"]) for n in "12"]
    officer, member = str(uuid.uuid4()), str(uuid.uuid4())
    overdue = {"application_id": str(uuid.uuid4()), "reference": "WF-2026-0042", "member_ids": [officer],
               "roles": ["admin"], "programme_title": "法律援助", "state": "submitted",
               "waiting_since": "2026-11-24T11:00:00+00:00", "sla_hours": 72, "assigned_officer": officer}
    publish("welfare", "case_overdue", overdue, times=2)
    for someone in (officer, *admins):
        [entry] = eventually(lambda s=someone: inbox(stack, s))
        assert entry["title"] == "个案超时待办：WF-2026-0042" and "11月24日 周二 19:00" in entry["body"]
    publish("welfare", "case_escalated", {**{k: v for k, v in overdue.items() if k not in ("member_ids", "roles")},
                                          "member_id": member})
    [entry] = eventually(lambda: inbox(stack, member))
    assert entry["title"] == "您的申请仍在办理中", "the member hears their own message, not the staff's"
    assert len(inbox(stack, officer)) == 1, "the applicant's message is not an alert"
    publish("welfare", "case_overdue", {**overdue, "application_id": str(uuid.uuid4()), "reference": "WF-2",
                                        "member_ids": [], "assigned_officer": None})
    eventually(lambda: len(inbox(stack, admins[0])) == 2)
    time.sleep(0.3)
    assert len(inbox(stack, officer)) == 1, "a case nobody holds goes to the admins alone"
