"""A poison event: a malformed one lands in the dead-letter queue with its reason while the
consumer goes on with the rest; and an event that failed while the consumer's database was
broken waits in the dead letters until ops fix it and replay it, then has its effect once."""
import time
import uuid

from ops import dead_letters
from tests import broker
from tests.faults.conftest import figures
from tests.harness import eventually

COURSE = {"course_id": None, "course_title": "Calligraphy 书法", "status": "confirmed", "position": None,
          "seats": 1, "course_version": 2, "seats_left": 9, "waitlist_length": 0}


def confirmed(member_id):
    payload = {**COURSE, "course_id": str(uuid.uuid4()), "enrolment_id": str(uuid.uuid4()), "member_id": member_id}
    return broker.publish("enrolment", "enrolment_confirmed", payload)


def inbox(stack, member_id):
    with stack.db("notify") as conn:
        return conn.execute("SELECT event_id FROM inbox WHERE member_id = %s", (member_id,)).fetchall()


def notify_dead_letters():
    return {queue: n for queue, n in dead_letters.counts().items() if "notify" in queue and n}


def test_a_malformed_event_is_parked_with_its_reason_and_the_rest_flow_on(stack):
    stack.start("notify")
    broker.publish("enrolment", "enrolment_confirmed", None, raw=b"{not json at all")
    member = str(uuid.uuid4())
    confirmed(member)
    eventually(lambda: inbox(stack, member), timeout=20)
    [(queue, count)] = eventually(lambda: list(notify_dead_letters().items()), timeout=20)
    [letter] = dead_letters.peek(queue)
    figures("poison-event", dead_queue=queue, reason=letter["reason"][:80], later_event_handled=True)
    assert count == 1 and letter["reason"], "parked once, with the reason"


def test_a_failed_event_is_replayed_after_the_fix_and_counts_once(stack):
    stack.env["PALACE_RETRY_DELAYS"] = "0.2,0.5"
    for queue in list(notify_dead_letters()):  # the previous test's letter: ops decided to drop it
        dead_letters.purge(queue)
    with stack.db("notify") as conn:
        conn.execute("ALTER TABLE inbox RENAME TO inbox_broken")  # a bad migration, say
    member = str(uuid.uuid4())
    event = confirmed(member)
    [(queue, _)] = eventually(lambda: list(notify_dead_letters().items()), timeout=30)
    [letter] = dead_letters.peek(queue)
    assert "inbox" in letter["reason"], letter["reason"]

    with stack.db("notify") as conn:
        conn.execute("ALTER TABLE inbox_broken RENAME TO inbox")  # the fix
    started = time.monotonic()
    replayed = dead_letters.replay(queue)
    [entry] = eventually(lambda: inbox(stack, member), timeout=20)
    handled_after = time.monotonic() - started
    time.sleep(1)  # a second effect would show by now
    figures("poison-replay", reason=letter["reason"][:80], replayed=replayed, handled_after_s=round(handled_after, 2))
    assert str(entry["event_id"]) == event["event_id"]
    assert len(inbox(stack, member)) == 1 and not notify_dead_letters()
