"""Venues' use cases are plain functions (workflows.py), called here with no nameko around them:
who sees a booking, how a refused request names its occurrences, and the one event a request tells."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.context import Caller
from services.common.errors import Conflict, NotFound
from services.venues import domain
from services.venues.workflows import MEMBERS, refuse, tell, tell_each, visible

MEMBER, LEADER, OTHER = (str(uuid.uuid4()) for _ in range(3))
BOOKING = {"id": uuid.uuid4(), "member_id": MEMBER, "club_leader_id": LEADER}
EIGHT_PM = datetime(2030, 3, 4, 12, tzinfo=timezone.utc)  # 20:00 in Shanghai


def caller(member_id, *roles):
    return Caller(member_id, frozenset(roles or ("member",)), None, None, None)


def test_a_booking_is_seen_by_its_member_its_clubs_leader_and_managers_only():
    for who in (caller(MEMBER), caller(LEADER), caller(OTHER, "venue_manager"), caller(OTHER, "admin")):
        visible(who, BOOKING)
    for who in (caller(OTHER), caller(None), caller(OTHER, "desk")):
        with pytest.raises(NotFound) as hidden:
            visible(who, BOOKING)
        assert hidden.value.problem == "booking-not-found"


def test_one_refused_occurrence_is_named_in_home_time_with_its_reason():
    one = [domain.Occurrence(EIGHT_PM, EIGHT_PM + timedelta(hours=1))]
    with pytest.raises(Conflict) as refused:
        refuse(one, {0: "closed"}, lambda i: "first")
    assert refused.value.problem == "booking-conflict"
    assert refused.value.detail == "the room cannot be booked at 2030-03-04 20:00 (closed)"
    assert refused.value.errors == {"occurrences": ["first"], "reasons": ["closed"]}


def test_a_refused_series_names_twenty_occurrences_then_counts_the_rest():
    weeks = [domain.Occurrence(EIGHT_PM + timedelta(weeks=k), EIGHT_PM + timedelta(weeks=k, hours=1))
             for k in range(25)]
    with pytest.raises(Conflict) as refused:
        refuse(weeks, {k: "taken" for k in range(22)}, str)
    assert refused.value.detail.startswith("22 of 25 occurrences cannot be booked: 2030-03-04 20:00 (taken); ")
    assert refused.value.detail.endswith(" and 2 more; nothing was booked")
    assert refused.value.errors["occurrences"] == [str(k) for k in range(22)]


def row(**extra):
    return {"id": uuid.uuid4(), "series_id": None, "room_id": uuid.uuid4(), "room_name": "Room 1",
            "site_id": uuid.uuid4(), "site_name": "Palace", "title": "Choir", "status": "cancelled",
            "starts_at": EIGHT_PM, "ends_at": EIGHT_PM + timedelta(hours=1), "holder_service": MEMBERS,
            "holder_reference": MEMBER, "member_id": uuid.UUID(MEMBER), "reason": "closed: leak", **extra}


def test_a_series_is_one_event_and_each_ending_is_its_own_with_its_cause():
    told = []

    def outbox(conn, event_type, payload):
        told.append((conn, event_type, payload))

    series = [row(), row()]
    tell("conn", outbox, "booking_confirmed", series)
    tell_each("conn", outbox, "booking_cancelled", series, "closed: leak", domain.ROOM_CLOSED, "leak")
    tell("conn", outbox, "booking_confirmed", [])  # nothing booked: nothing told
    assert [(conn, kind) for conn, kind, _ in told] == [("conn", "booking_confirmed")] + [
        ("conn", "booking_cancelled")] * 2
    confirmed, cancelled = told[0][2], told[1][2]
    assert confirmed["occurrences"] == 2 and confirmed["booking_ids"] == [str(r["id"]) for r in series]
    assert confirmed["starts_at"] == "2030-03-04T20:00:00+08:00" and confirmed["cause"] is None
    assert cancelled["booking_ids"] == [str(series[0]["id"])]
    assert (cancelled["reason"], cancelled["cause"], cancelled["note"]) == ("closed: leak", domain.ROOM_CLOSED, "leak")
