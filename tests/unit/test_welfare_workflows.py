"""Welfare's use cases are plain functions (workflows.py), called here with no nameko around them:
a refusal of the rules leaves as the error the gateway answers with, an event is told in its own
schema's shape, a roster with no account among it tells no one, and a closed case's rooms go back."""
from contextlib import contextmanager

import pytest
from nameko.exceptions import RpcTimeout

from services.common.errors import Conflict, Forbidden, Invalid, PayloadTooLarge, UnsupportedMediaType
from services.welfare import domain, store
from services.welfare.workflows import emit, refusals, release_rooms, tell_enrolled


@pytest.mark.parametrize("refused, answer", [
    (domain.BadInput, Invalid), (domain.NotAllowed, Forbidden), (domain.WrongState, Conflict),
    (domain.TooLarge, PayloadTooLarge), (domain.Unsupported, UnsupportedMediaType)])
def test_each_refusal_of_the_rules_leaves_as_its_error_with_the_field_at_fault(refused, answer):
    with pytest.raises(answer) as raised, refusals():
        raise refused("no", errors={"amount": ["too much"]})
    assert (raised.value.detail, raised.value.problem) == ("no", refused.problem)
    assert raised.value.errors == {"amount": ["too much"]}


def test_an_event_is_told_as_its_schema_dumps_it():
    told = []
    emit("conn", lambda conn, kind, payload: told.append((conn, kind, payload)), "case_assigned", {
        "application_id": "6f1c1ad4-4c8e-4d43-9b38-0c8a3a7d5a01", "reference": "W-1",
        "officer_id": "0b7e0a59-2f0f-4a54-8a3e-5b0f6f2b1a11", "programme_title": "Hardship relief",
        "priority": "high", "not_in_the_schema": 1})
    assert [(conn, kind) for conn, kind, _ in told] == [("conn", "case_assigned")]
    assert "not_in_the_schema" not in told[0][2] and told[0][2]["reference"] == "W-1"


def test_a_roster_with_no_account_among_it_tells_no_one():
    told = []
    tell_enrolled("conn", lambda *a: told.append(a), {"id": 1, "name": "Plan", "year": 2030}, "unit", [])
    assert told == []


def test_a_closed_case_gives_back_each_room_series_and_logs_those_venues_did_not_answer_for(caplog, monkeypatch):
    released, opened = [], []

    class Venues:
        def release_series(self, holder, reason):
            if holder["reference"] == "case/2":
                raise RpcTimeout()
            released.append((holder, reason))

    @contextmanager
    def transaction():
        opened.append("tx")
        yield "conn"

    calls = []
    monkeypatch.setattr(store, "release_appointments", lambda conn, ref: calls.append((conn, ref)))
    release_rooms(Venues(), transaction, "case", ["case/1", "case/2", "case/3"])
    assert released == [({"service": "welfare", "reference": r}, "counselling case closed")
                        for r in ("case/1", "case/3")]
    assert calls == [("conn", "case/1"), ("conn", "case/3")] and len(opened) == 2
    assert "could not release the rooms of case case (case/2); venues did not answer" in caplog.text
