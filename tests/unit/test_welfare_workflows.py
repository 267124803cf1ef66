"""Welfare's use cases are plain functions (workflows.py), called here with no nameko around them:
a refusal of the rules leaves as the error the gateway answers with, an event is told in its own
schema's shape, and a roster with no account among it tells no one."""
import pytest

from services.common.errors import Conflict, Forbidden, Invalid, PayloadTooLarge, UnsupportedMediaType
from services.welfare import domain
from services.welfare.workflows import emit, refusals, tell_enrolled


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
