"""The transactional outbox: nothing written is lost, nothing is published twice by cooperating relays."""
import signal
import uuid

from kombu import Connection

from services.common import config
from services.common.events import exchange
from services.common.outbox import record, relay_batch
from tests.broker import Watch
from tests.harness import at_once, eventually


def test_an_event_written_before_a_crash_is_published_after_restart(stack):
    watch = Watch("enrolment")
    stack.start("enrolment")
    stack.stop("enrolment", signal.SIGKILL)
    # the change and its event committed, and the service died before relaying it
    with stack.db("enrolment") as conn, conn.transaction():
        event = record(conn, "enrolment", "course_published",
                       {"course_id": str(uuid.uuid4()), "title": "Yoga", "capacity": 20})
    assert watch.drain(wait=1.0) == [], "nothing relays while the service is down"

    stack.start("enrolment")
    published = eventually(lambda: watch.drain(wait=0.2), timeout=15)
    assert [e["event_id"] for e in published] == [event["event_id"]]
    assert published[0]["event_type"] == "enrolment.course_published"
    with stack.db("enrolment") as conn:
        row = conn.execute("SELECT sent_at FROM outbox WHERE event_id = %s", (event["event_id"],)).fetchone()
    assert row["sent_at"] is not None
    stack.stop("enrolment")
    watch.close()


def test_relays_claiming_together_publish_each_event_exactly_once(stack):
    """Three relays (as in three instances) drain one outbox: every event once, none twice."""
    watch = Watch("enrolment")
    with stack.db("enrolment") as conn, conn.transaction():
        events = [record(conn, "enrolment", "course_published", {"n": n}) for n in range(600)]

    def relay(go):
        import psycopg

        with psycopg.connect(config.db_url("enrolment"), connect_timeout=10) as db, \
                Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as amqp:
            producer = amqp.Producer()
            go()
            while relay_batch(db, producer, exchange("enrolment")):
                pass

    at_once([relay] * 3)

    ids = [e["event_id"] for e in watch.drain(wait=1.0)]
    assert len(ids) == len(set(ids)), "an event was published twice"
    assert set(ids) == {e["event_id"] for e in events}
    with stack.db("enrolment") as conn:
        assert conn.execute("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL").fetchone()["n"] == 0
    watch.close()


def test_an_event_no_queue_is_bound_for_is_kept_for_ops_not_dropped(stack):
    from ops import dead_letters
    from tests.broker import message_count

    before = message_count("palace.unrouted")
    stack.start("enrolment")
    with stack.db("enrolment") as conn, conn.transaction():
        event = record(conn, "enrolment", "nobody_listens_yet", {"n": 1})
    eventually(lambda: message_count("palace.unrouted") == before + 1)
    watch = Watch("enrolment", routing_key="nobody_listens_yet")  # a consumer arrives later
    assert dead_letters.replay_unrouted() == before + 1
    assert [e["event_id"] for e in watch.drain(wait=0.5)] == [event["event_id"]]
    stack.stop("enrolment")
    watch.close()


def test_a_relay_whose_connections_are_cut_connects_again_and_publishes(stack):
    """The relay's session ends when its database connection is killed under it; the loop pauses and
    starts a new session, and an event written meanwhile still goes out (services/common/loops.py)."""
    watch = Watch("enrolment")
    stack.start("enrolment")
    try:
        with stack.db("enrolment") as conn:
            cut = conn.execute("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity"
                               " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()["n"]
        assert cut >= 1
        with stack.db("enrolment") as conn, conn.transaction():
            event = record(conn, "enrolment", "course_published", {"course_id": str(uuid.uuid4())})
        published = eventually(lambda: watch.drain(wait=0.2), timeout=15)
        assert [e["event_id"] for e in published] == [event["event_id"]]
        assert "outbox relay of enrolment" in stack.log("enrolment"), "the lost session is logged"
    finally:
        stack.stop("enrolment")
        watch.close()
