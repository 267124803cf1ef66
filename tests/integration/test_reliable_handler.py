"""The reliable handler, on notify's real queues: one effect per event, retries, dead letters, replay."""
import json
import uuid

import pytest

from ops import dead_letters
from services.common.handlers import dead_queue_name, retry_queue_name
from tests.broker import message_count, publish
from tests.harness import eventually

QUEUE = "evt-enrolment-enrolment_confirmed--notify.on_enrolment_confirmed"


@pytest.fixture(scope="module")
def notify(stack):
    stack.start("notify")
    yield stack
    stack.stop("notify")


def confirmed(member_id):
    return {"enrolment_id": str(uuid.uuid4()), "course_id": str(uuid.uuid4()), "course_title": "Choir",
            "member_id": member_id, "status": "confirmed", "position": None}


def inbox_count(stack, member_id):
    with stack.db("notify") as conn:
        return conn.execute("SELECT count(*) AS n FROM inbox WHERE member_id = %s", (member_id,)).fetchone()["n"]


def rename_inbox(stack, away):
    old, new = ("inbox", "inbox_away") if away else ("inbox_away", "inbox")
    with stack.db("notify") as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_a_redelivered_event_has_no_second_effect(notify):
    member = str(uuid.uuid4())
    event = publish("enrolment", "enrolment_confirmed", confirmed(member), times=20)
    eventually(lambda: inbox_count(notify, member) >= 1)
    eventually(lambda: message_count(QUEUE) == 0)
    assert inbox_count(notify, member) == 1
    with notify.db("notify") as conn:
        handled = conn.execute("SELECT count(*) AS n FROM processed_events WHERE event_id = %s",
                               (event["event_id"],)).fetchone()["n"]
    assert handled == 1


def test_a_failing_handler_is_retried_after_a_pause_and_then_succeeds(notify):
    member = str(uuid.uuid4())
    rename_inbox(notify, away=True)
    try:
        publish("enrolment", "enrolment_confirmed", confirmed(member))
        # second failure: the event now waits in the longer delay queue
        eventually(lambda: message_count(retry_queue_name(QUEUE, 0.5)) == 1, interval=0.01)
    finally:
        rename_inbox(notify, away=False)
    eventually(lambda: inbox_count(notify, member) == 1)
    assert message_count(dead_queue_name(QUEUE)) == 0


def test_an_event_that_keeps_failing_is_dead_lettered_with_its_reason_and_can_be_replayed(notify):
    member = str(uuid.uuid4())
    rename_inbox(notify, away=True)
    try:
        publish("enrolment", "enrolment_confirmed", confirmed(member))
        eventually(lambda: message_count(dead_queue_name(QUEUE)) == 1)
        [letter] = dead_letters.peek(dead_queue_name(QUEUE))
        assert "inbox" in letter["reason"] and letter["attempts"] == 3
    finally:
        rename_inbox(notify, away=False)
    assert inbox_count(notify, member) == 0

    assert dead_letters.replay(QUEUE) == {dead_queue_name(QUEUE): 1}
    eventually(lambda: inbox_count(notify, member) == 1)
    assert message_count(dead_queue_name(QUEUE)) == 0


def test_a_malformed_event_is_dead_lettered_at_once_and_the_handler_goes_on(notify):
    bad = confirmed(str(uuid.uuid4()))
    del bad["member_id"]
    publish("enrolment", "enrolment_confirmed", bad)
    eventually(lambda: message_count(dead_queue_name(QUEUE)) == 1)
    [letter] = dead_letters.peek(dead_queue_name(QUEUE))
    assert letter["attempts"] == 1 and "member_id" in letter["reason"]
    assert json.loads(letter["body"])["payload"]["course_title"] == "Choir"

    member = str(uuid.uuid4())
    publish("enrolment", "enrolment_confirmed", confirmed(member))
    eventually(lambda: inbox_count(notify, member) == 1)
    dead_letters.replay(QUEUE)  # leave the queue as found; the bad event dies again
    eventually(lambda: message_count(dead_queue_name(QUEUE)) == 1)
