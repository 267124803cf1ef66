"""A closed account stays erased in notify on real PostgreSQL, however its last events race the
erasure: an event told while the erasure is open waits for it and then tells nobody; an erasure
that starts while an event is being told waits for it and then deletes what it wrote."""
import threading
import uuid

import psycopg
from psycopg.rows import dict_row

from services.common import config
from services.notify import fanout, store


def connect():
    return psycopg.connect(config.db_url("notify"), row_factory=dict_row)


def paid(member):
    return {"event_id": str(uuid.uuid4()), "event_type": "welfare.payout_made",
            "payload": {"member_id": member, "application_id": str(uuid.uuid4()), "amount": "4500.00"}}


def left_of(conn, member):
    return conn.execute("SELECT (SELECT count(*) FROM inbox WHERE member_id = %(m)s)"
                        " + (SELECT count(*) FROM contacts WHERE member_id = %(m)s) AS n", {"m": member}).fetchone()["n"]


def in_thread(work):
    done = threading.Thread(target=work, daemon=True)
    done.start()
    return done


def test_an_event_told_while_the_erasure_is_open_waits_and_tells_nobody(stack):
    member = str(uuid.uuid4())
    with connect() as eraser, connect() as teller:
        with eraser.transaction():
            store.seed_contacts(eraser, member, "13900001111")
        eraser.execute("BEGIN")
        store.lock_member(eraser, member)
        store.erase_member(eraser, member)

        def tell():
            with teller.transaction():
                fanout.tell_many(teller, [paid(member)])
        telling = in_thread(tell)
        telling.join(1.0)
        assert telling.is_alive(), "the event waits for the erasure"
        eraser.execute("COMMIT")
        telling.join(10)
        assert not telling.is_alive()
        assert left_of(eraser, member) == 0


def test_an_erasure_started_while_an_event_is_told_deletes_what_it_wrote(stack):
    member = str(uuid.uuid4())
    with connect() as eraser, connect() as teller:
        teller.execute("BEGIN")
        fanout.tell_many(teller, [paid(member)])

        def erase():
            with eraser.transaction():
                store.lock_member(eraser, member)
                store.erase_member(eraser, member)
        erasing = in_thread(erase)
        erasing.join(1.0)
        assert erasing.is_alive(), "the erasure waits for the event"
        teller.execute("COMMIT")
        erasing.join(10)
        assert not erasing.is_alive()
        assert left_of(teller, member) == 0
        with teller.transaction():
            fanout.tell_many(teller, [paid(member)])
            fanout.seed_member(teller, {"event_type": "gateway.account_registered",
                                        "payload": {"member_id": member, "phone": "13900001111", "language": "zh-CN"}})
        assert left_of(teller, member) == 0, "and whatever comes later for them writes nothing"
