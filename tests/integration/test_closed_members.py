"""A closed account stays erased in enrolment and venues on real PostgreSQL: an enrolment made while
the erasure waits is ended by it, and neither service takes a new enrolment or booking for it after,
nor counts a no-show against it."""
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from services.common import config
from services.common.closed_accounts import remember as remember_closed
from services.common.errors import NotFound
from services.common.outbox import record
from services.enrolment import workflows
from services.venues import store as venues_store
from services.venues.domain import Occurrence
from services.venues.workflows import MEMBERS, open_holder


def connect(part):
    return psycopg.connect(config.db_url(part), row_factory=dict_row)


def outbox(conn, event_type, payload):
    record(conn, "enrolment", event_type, payload)


def enrol(conn, course_id, member):
    return workflows.enrol(conn, outbox, course_id, workflows.Enrollee(member, None, None), None, 1,
                           strike_limit=3, block_days=30)


def test_an_enrolment_beside_the_erasure_is_ended_by_it_and_none_is_taken_after(stack):
    member = str(uuid.uuid4())
    with connect("enrolment") as enroller, connect("enrolment") as eraser:
        with enroller.transaction():
            course_id = str(enroller.execute("INSERT INTO courses (title, capacity) VALUES ('Erasure race', 5)"
                                             " RETURNING id").fetchone()["id"])
        entry = enrol(enroller, course_id, member)  # its transaction still open

        def close():
            with eraser.transaction():
                workflows.close_member(eraser, outbox, member)
        closing = threading.Thread(target=close, daemon=True)
        closing.start()
        closing.join(1.0)
        assert closing.is_alive(), "the erasure waits for the enrolment"
        enroller.commit()
        closing.join(10)
        assert not closing.is_alive()
        status = enroller.execute("SELECT status FROM enrolments WHERE id = %s", (entry["id"],)).fetchone()
        assert status["status"] == "cancelled"
        enroller.commit()
        with pytest.raises(NotFound) as refused, enroller.transaction():
            enrol(enroller, course_id, member)
        assert refused.value.problem == "account-closed"


def test_venues_takes_no_booking_for_a_closed_account(stack):
    member = str(uuid.uuid4())
    with connect("venues") as conn:
        with conn.transaction():
            open_holder(conn, (MEMBERS, member))  # an open account books
            remember_closed(conn, member)
        with pytest.raises(NotFound), conn.transaction():
            open_holder(conn, (MEMBERS, member))


def test_a_no_show_counts_no_strike_against_a_closed_account(stack):
    """A club's booking its closed leader held stays the club's; nobody checking in to it must not
    bring a strike (a row naming the erased person) back."""
    closed, open_member = str(uuid.uuid4()), str(uuid.uuid4())
    with connect("venues") as conn, conn.transaction():
        site = conn.execute("INSERT INTO sites (name, kind) VALUES ('Strike Home', 'shared') RETURNING id").fetchone()
        room = conn.execute("INSERT INTO rooms (site_id, name, capacity) VALUES (%s, 'Strike room', 10)"
                            " RETURNING id, site_id, buffer_minutes", (site["id"],)).fetchone()
        remember_closed(conn, closed)
        bookings = []
        for hour, member in ((1, closed), (3, open_member)):
            starts = venues_store.now(conn) - timedelta(days=1, hours=hour)
            holder = (MEMBERS, member)
            booking_id = venues_store.insert_booking(conn, room, Occurrence(starts, starts + timedelta(hours=1)),
                                                     "confirmed", "Rehearsal", holder, member, None, member)
            bookings.append(venues_store.get_booking(conn, booking_id))
        for booking in bookings:
            venues_store.add_strike(conn, booking)
        struck = conn.execute("SELECT holder_reference FROM strikes WHERE booking_id = ANY(%s)",
                              ([b["id"] for b in bookings],)).fetchall()
    assert struck == [{"holder_reference": open_member}]
