"""Signed callers and events (services/common/trust.py): what a service believes, and what it refuses."""
import time

import pytest
from cryptography.fernet import Fernet

from services.common import trust
from services.common.context import Caller
from services.common.errors import Forbidden, Invalid, Unauthorized
from services.common.events import envelope, read_envelope

KEY = "k" * 40
OFFICER = {"caller_id": "0b6c0a8e-0000-4000-8000-000000000001", "caller_roles": "welfare_officer",
           "request_id": "r-1"}


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("PALACE_CONTEXT_KEY", KEY)
    monkeypatch.setenv("PALACE_RESET_CODE_KEY", Fernet.generate_key().decode())


def test_a_signed_caller_is_believed_with_the_part_that_signed():
    caller = Caller.from_context(trust.sign(OFFICER, "gateway"))
    assert (caller.id, caller.roles, caller.service) == (OFFICER["caller_id"], {"welfare_officer"}, "gateway")


@pytest.mark.parametrize("change", [
    {"caller_roles": "welfare_officer,admin"}, {"caller_id": "someone-else"}, {"signed_by": "welfare"},
    {"expires": str(int(time.time()) + 10_000)},
])
def test_a_changed_context_is_refused(change):
    forged = {**trust.sign(OFFICER, "gateway"), **change}
    with pytest.raises(Unauthorized) as refused:
        trust.verify(forged)
    assert refused.value.problem == "context-tampered"
    assert Caller.from_context(forged).id is None


def test_plain_headers_and_another_keys_signature_are_refused():
    with pytest.raises(Unauthorized) as plain:
        trust.admit("welfare", "decide", OFFICER)
    assert plain.value.problem == "context-unsigned"
    with pytest.raises(Unauthorized):
        trust.admit("welfare", "decide", trust.sign(OFFICER, "gateway", secret="x" * 40))


def test_a_stale_context_is_refused():
    with pytest.raises(Unauthorized) as stale:
        trust.verify(trust.sign(OFFICER, "gateway", expires=time.time() - 1))
    assert stale.value.problem == "context-stale"


def test_each_rpc_takes_only_the_parts_it_allows():
    assert trust.admit("welfare", "decide", trust.sign(OFFICER, "gateway"))["caller_id"] == OFFICER["caller_id"]
    with pytest.raises(Forbidden):
        trust.admit("welfare", "decide", trust.sign(OFFICER, "enrolment"))
    with pytest.raises(Forbidden):
        trust.admit("venues", "release_series", trust.sign({}, "gateway"))
    assert trust.admit("venues", "release_series", trust.sign({}, "welfare"))
    assert trust.admit("notify", "failed_deliveries", trust.sign({}, trust.OPS))
    assert trust.admit("venues", "ping", trust.sign({}, trust.OPS))


def test_a_service_passes_on_a_signed_caller_but_never_an_unsigned_one():
    served = trust.onward(trust.sign(OFFICER, "gateway"), "welfare")
    assert (served["caller_id"], served["signed_by"]) == (OFFICER["caller_id"], "welfare")
    assert trust.verify(served)
    alone = trust.onward(OFFICER, "welfare")  # an event's or a timer's headers name no one
    assert (alone["caller_id"], alone["signed_by"], alone["request_id"]) == ("", "welfare", "r-1")


def test_a_missing_or_short_key_stops_the_part(monkeypatch):
    for placeholder in ("change-me", "change-me-to-a-long-random-string-of-40-chars", ""):
        monkeypatch.setenv("PALACE_CONTEXT_KEY", placeholder)
        with pytest.raises(RuntimeError, match="PALACE_CONTEXT_KEY"):
            trust.sign({}, "gateway")


def test_an_event_is_signed_and_a_changed_or_unsigned_one_is_refused():
    event = envelope("welfare", "payout_made", {"amount": "300.00", "member_id": "m"})
    assert read_envelope(event)["payload"]["amount"] == "300.00"
    with pytest.raises(Invalid, match="does not match"):
        read_envelope({**event, "payload": {**event["payload"], "amount": "30000.00"}})
    with pytest.raises(Invalid, match="not signed"):
        read_envelope({k: v for k, v in event.items() if k != "signature"})


def test_a_reset_code_is_sealed_for_the_key_holder_alone():
    sealed = trust.seal_code("12345678")
    assert "12345678" not in sealed and trust.open_code(sealed) == "12345678"
    with pytest.raises(Invalid):
        trust.open_code(sealed, secret=Fernet.generate_key().decode())


def test_every_call_a_service_makes_to_another_is_on_the_callees_allow_list():
    """A call missing from ALLOWED would be refused (403) at run time: the code's calls, read from it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services"
    calls = {(caller.name, f"{callee}.{method}")
             for caller in root.iterdir() if caller.is_dir() and caller.name != "common"
             for path in caller.glob("*.py")
             for callee in re.findall(r'RpcProxy\("(\w+)"\)', (caller / "service.py").read_text())
             for method in re.findall(rf"\b{callee}\.(\w+)\(", path.read_text())}
    assert {("enrolment", "venues.reserve_series"), ("welfare", "venues.release_series")} <= calls
    missing = sorted((caller, rpc) for caller, rpc in calls if caller not in trust.ALLOWED.get(rpc, ()))
    assert not missing, missing
