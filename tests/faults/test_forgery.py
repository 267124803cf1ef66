"""Someone with the broker's password but not the palace's keys: an RPC with made-up officers (a
nameko standalone proxy, no signature, a changed one, another key's) reaches no service code, an
event they publish is dead-lettered with the reason, and a password reset's code shows in no log,
no database and no dead letter."""
import re
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from psycopg import sql

from ops import dead_letters
from services.common import config, trust
from services.common.errors import Forbidden, Unauthorized
from services.common.events import envelope
from services.common.handlers import dead_queue_name
from tests import broker
from tests.e2e.conftest import NO_LIMITS, admin, new_member, palace  # noqa: F401 (fixtures)
from tests.faults.conftest import figures
from tests.harness import eventually

# two officers nobody appointed, and an admin for good measure
OFFICERS = [{"caller_id": str(uuid.uuid4()), "caller_roles": "welfare_officer,admin", "request_id": "forged"}
            for _ in range(2)]


def forged(stack, context):
    """A standalone proxy on the palace's broker, its context headers whatever the forger says."""
    return ClusterRpcProxy({"AMQP_URI": stack.env["AMQP_URI"], "serializer": "json"}, timeout=10,
                           context_data=context)


def tampered(stack, context):
    """A context the gateway really signed, then given more roles."""
    return {**stack.signed(context), "caller_roles": "welfare_officer,admin"}


def forgeries(stack, officer):
    return {"unsigned": officer, "another key": trust.sign(officer, "gateway", secret=secrets.token_urlsafe(32)),
            "tampered": tampered(stack, {**officer, "caller_roles": "member"}),
            "stale": trust.sign(officer, "gateway", expires=1, secret=stack.env["PALACE_CONTEXT_KEY"])}


def refused(call):
    with pytest.raises(Unauthorized) as refusal:
        call()
    return refusal.value.problem


@pytest.fixture(scope="module")
def case(palace, admin):  # noqa: F811
    member = new_member(palace.url, "Forgery Target")
    answer = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "unpaid wages"})
    assert answer.status_code == 201, answer.text
    return member, answer.json()


def test_a_forged_rpc_to_decide_and_pay_is_refused_and_changes_nothing(palace, case):  # noqa: F811
    member, application = case
    problems = []
    for officer in OFFICERS:
        for context in forgeries(palace, officer).values():
            with forged(palace, context) as rpc:
                problems.append(refused(lambda: rpc.welfare.decide(application["id"], {
                    "decision": "approve", "note": "approved by nobody"})))
                problems.append(refused(lambda: rpc.welfare.pay(application["id"])))
    after = member.get(f"/v1/welfare/applications/{application['id']}").json()
    figures("forged-rpc-welfare", calls=len(problems), problems=sorted(set(problems)), state=after["state"])
    assert set(problems) == {"context-unsigned", "context-tampered", "context-stale"}
    assert after["state"] == application["state"]
    with palace.db("welfare") as conn:
        assert not conn.execute("SELECT 1 FROM payouts WHERE application_id = %s", (application["id"],)).fetchall()


def test_a_forged_rpc_to_release_a_series_is_refused_and_the_bookings_stay(palace, admin):  # noqa: F811
    site = admin.post("/v1/sites", {"name": "Forgery Workers' Home", "kind": "shared"}).json()["id"]
    room = admin.post("/v1/rooms", {"site_id": site, "name": "Forgery hall", **NO_LIMITS, "capacity": 20}).json()["id"]
    holder = {"service": "enrolment", "reference": str(uuid.uuid4())}
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    with palace.rpc(part="enrolment") as rpc:  # enrolment books a course's rooms, as it does
        booked = rpc.venues.reserve_series(holder, room, [
            {"starts_at": (start + timedelta(days=7 * w)).isoformat(),
             "ends_at": (start + timedelta(days=7 * w, hours=2)).isoformat()} for w in range(3)], "Erhu")
    problems = []
    for context in forgeries(palace, OFFICERS[0]).values():
        with forged(palace, context) as rpc:
            problems.append(refused(lambda: rpc.venues.release_series(holder, "forged")))
    with palace.rpc() as rpc, pytest.raises(Forbidden):  # the gateway itself may not release another's series
        rpc.venues.release_series(holder, "not the gateway's to release")
    with palace.db("venues") as conn:
        states = {r["status"] for r in conn.execute(
            "SELECT status FROM bookings WHERE id = ANY(%s::uuid[])", ([b["id"] for b in booked["bookings"]],))}
    figures("forged-rpc-venues", calls=len(problems), problems=sorted(set(problems)), bookings=sorted(states))
    assert set(problems) == {"context-unsigned", "context-tampered", "context-stale"}
    assert states == {"confirmed"}


def test_a_forged_rpc_to_read_failed_deliveries_is_refused_and_no_caller_is_no_ops(palace):  # noqa: F811
    problems = []
    for context in [{}, *forgeries(palace, OFFICERS[1]).values()]:
        with forged(palace, context) as rpc:
            problems.append(refused(lambda: rpc.notify.failed_deliveries()))
    with palace.rpc() as rpc:  # signed by the gateway, but naming no one: not ops tooling
        problems.append(refused(lambda: rpc.notify.failed_deliveries()))
    with palace.rpc(part=trust.OPS) as rpc:  # ops tooling signs as itself
        assert isinstance(rpc.notify.failed_deliveries(), list)
    figures("forged-rpc-notify", calls=len(problems), problems=sorted(set(problems)))
    assert set(problems) == {"context-unsigned", "context-tampered", "context-stale", "unauthenticated"}


def test_a_forged_event_is_dead_lettered_with_its_reason_and_tells_no_one(palace):  # noqa: F811
    queue = dead_queue_name("evt-welfare--notify.on_welfare")
    dead_letters.purge(queue)
    member = str(uuid.uuid4())
    real = envelope("welfare", "payout_made", {"member_id": member, "amount": "10.00", "reference": "REAL-1"})
    unsigned = {k: v for k, v in envelope("welfare", "payout_made", {
        "member_id": member, "amount": "9000.00", "reference": "FORGED-1"}).items() if k != "signature"}
    changed = {**real, "event_id": str(uuid.uuid4()), "payload": {**real["payload"], "amount": "90000.00"}}
    for event in (unsigned, changed):
        broker.publish("welfare", "payout_made", None, event=event)
    letters = eventually(lambda: len(dead_letters.peek(queue)) == 2 and dead_letters.peek(queue), timeout=20)
    broker.publish("welfare", "payout_made", None, event=real)  # a real one still goes through
    with palace.db("notify") as conn:
        told = eventually(lambda: conn.execute("SELECT body FROM inbox WHERE member_id = %s", (member,)).fetchall(),
                          timeout=20)
    reasons = sorted(letter["reason"] for letter in letters)
    figures("forged-event", dead_lettered=len(letters), reasons=[r[:60] for r in reasons], real_told=len(told))
    assert any("not signed" in r for r in reasons) and any("does not match" in r for r in reasons), reasons
    assert len(told) == 1, "the forged payouts told the member nothing; the real one did"


def _everything_in(stack, part):
    """Every row of every table of a part's database, as text (what a backup would hold)."""
    with stack.db(part) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type ="
                              " 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        return "\n".join(row["t"] for t in tables for row in conn.execute(
            sql.SQL("SELECT t::text AS t FROM {}.{} t").format(sql.Identifier(t["table_schema"]),
                                                              sql.Identifier(t["table_name"]))))


def _issued_code(stack, phone):
    """The code the gateway just issued, from its outbox: in clear (before issue 18), or sealed."""
    with stack.db("gateway") as conn:
        [payload] = [r["body"]["payload"] for r in conn.execute(
            "SELECT body FROM outbox WHERE event_type = 'password_reset_requested'") if r["body"]["payload"]["phone"] == phone]
    return payload.get("code") or stack.reset_code(payload["code_sealed"])


def test_a_reset_code_shows_in_no_log_no_database_and_no_dead_letter(palace):  # noqa: F811
    member = new_member(palace.url, "Forgetful Li")
    phone = member.get("/v1/me").json()["phone"]
    assert member.post("/v1/auth/password-resets", {"phone": phone}).status_code == 202
    code = eventually(lambda: _issued_code(palace, phone), timeout=10)
    with palace.db("notify") as conn:  # sent (the console channel: no SMS provider is set here)
        eventually(lambda: conn.execute("SELECT 1 FROM deliveries WHERE address = %s AND state = 'sent'",
                                        (phone,)).fetchall(), timeout=20)
    pattern = re.compile(re.escape(code))
    logs = {path.name: path.read_text(errors="replace") for path in palace.logdir.glob(f"{palace.tag}-*.log")}
    in_logs = sorted(name for name, text in logs.items() if pattern.search(text))
    in_databases = sorted(part for part in config.DATABASES if pattern.search(_everything_in(palace, part)))
    in_dead_letters = sorted(dead for _, dead in dead_letters.dead_queues()
                             if any(pattern.search(letter["body"] or "") for letter in dead_letters.peek(dead, 200)))
    figures("reset-code-leaks", logs_read=len(logs), databases_read=len(config.DATABASES), in_logs=in_logs,
            in_databases=in_databases, in_dead_letters=in_dead_letters)
    assert logs and not in_logs and not in_databases and not in_dead_letters
    # the search can find: the phone the code went to is in the logs (the console channel) and the databases
    assert any(phone in text for text in logs.values()) and phone in _everything_in(palace, "notify")
    confirmed = member.post("/v1/auth/password-resets/confirm", {"phone": phone, "code": code,
                                                                  "new_password": "remembered-at-last"})
    assert confirmed.status_code == 204, "the code reached notify's sender intact"
