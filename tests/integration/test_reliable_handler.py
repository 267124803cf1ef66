"""The reliable handler, on notify's real queues: one effect per event, retries, dead letters, replay."""
import json
import uuid

import pytest
from amqp.exceptions import NotFound
from kombu import Connection

from ops import dead_letters, topology
from services.common import config, trust
from services.common.handlers import dead_queue_name, retry_queue_name
from tests.broker import message_count, publish
from tests.harness import eventually

QUEUE = "evt-enrolment--notify.on_enrolment"


@pytest.fixture(scope="module")
def notify(stack):
    stack.start("notify")
    return stack


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


def test_a_retired_handler_queue_hands_its_events_on_and_goes(notify):
    """An upgrade from a release whose notify had a queue per enrolment event type: the migrate step
    moves what waits there to the shared queue (dead letters to its dead-letter queue)."""
    old, _ = topology.RETIRED[0]
    waiting, letter = str(uuid.uuid4()), confirmed(str(uuid.uuid4()))
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        channel = conn.default_channel
        old(channel).declare()  # bound to enrolment_confirmed, as the old release left it
        dead = dead_queue_name(old.name)
        channel.queue_declare(dead, durable=True, auto_delete=False)
        producer = conn.Producer(channel)
        for body, target in ((confirmed(waiting), old.name), (letter, dead)):
            # signed: events an older release left unsigned in its queues are dead-lettered as forgeries
            event = trust.sign_event({"event_id": str(uuid.uuid4()), "event_type": "enrolment.enrolment_confirmed",
                                      "occurred_at": "2026-11-21T08:00:00+00:00", "version": 1, "payload": body})
            producer.publish(json.dumps(event), exchange="", routing_key=target, delivery_mode=2,
                             content_type="application/json", headers={"x-palace-queue": old.name})
    dead_before = message_count(dead_queue_name(QUEUE))

    assert topology.retire_all() == {old.name: 2}
    eventually(lambda: inbox_count(notify, waiting) == 1)
    assert message_count(dead_queue_name(QUEUE)) == dead_before + 1
    [moved] = [m for m in dead_letters.peek(dead_queue_name(QUEUE), limit=50)
               if json.loads(m["body"])["payload"].get("member_id") == letter["member_id"]]
    for gone in (old.name, dead_queue_name(old.name)):
        with pytest.raises(NotFound):
            message_count(gone)
    assert topology.retire_all() == {}, "a second run finds nothing to do"

    member = str(uuid.uuid4())
    publish("enrolment", "enrolment_confirmed", confirmed(member))
    eventually(lambda: inbox_count(notify, member) == 1)
    dead_letters.replay(QUEUE)  # leave the queues as found
