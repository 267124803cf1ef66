"""Welfare's key ring: a value names the key that sealed it, reads pick that key, a value under a key
the ring does not hold fails naming it, and a missing or placeholder ring stops welfare."""
import os

import pytest
from cryptography.exceptions import InvalidTag

from services.common.errors import Unavailable
from services.welfare import crypto

OLD, NEW = crypto.new_key(), crypto.new_key()
FINGERPRINT = os.urandom(32)


def ring(text):
    return crypto.KeyRing(crypto.parse_ring(text), FINGERPRINT)


def test_a_value_names_its_key_and_the_next_ring_still_reads_it():
    sealed = ring(f"2026a:{OLD}").seal_json({"household_income": "1200.00", "health": "diabetes"})
    assert crypto.key_id(sealed) == "2026a" and b"diabetes" not in sealed and b"1200" not in sealed
    rotated = ring(f"2026b:{NEW},2026a:{OLD}")
    assert rotated.open_json(sealed) == {"household_income": "1200.00", "health": "diabetes"}
    assert crypto.key_id(rotated.seal_text("x")) == "2026b", "new writes use the first key"


def test_a_value_under_a_key_the_ring_does_not_hold_fails_naming_it():
    sealed = ring(f"2026a:{OLD}").seal_text("11010519491231002X")
    with pytest.raises(Unavailable, match="'2026a'") as refused:
        ring(f"2026b:{NEW}").open(sealed)
    assert refused.value.status == 503 and refused.value.problem == "welfare-key-missing"
    with pytest.raises(Unavailable, match="not sealed"):
        ring(f"2026b:{NEW}").open(b"%PDF-1.4 plain")


def test_a_changed_value_does_not_open():
    sealed = bytearray(ring(f"a:{OLD}").seal_text("secret"))
    sealed[-1] ^= 1
    with pytest.raises(InvalidTag):
        ring(f"a:{OLD}").open(bytes(sealed))


@pytest.mark.parametrize("text, says", [
    ("", "is not set"), ("1:change-me", "32 random bytes"), (f"1:{OLD[:20]}", "32 random bytes"),
    (f"bad id:{OLD}", "id:key"), (OLD, "id:key"), (f"a:{OLD},a:{NEW}", "twice")])
def test_a_missing_or_bad_ring_is_refused_with_the_reason(text, says):
    with pytest.raises(RuntimeError, match=says):
        crypto.parse_ring(text)


def test_the_fingerprint_is_keyed_and_survives_rotation():
    one, other = ring(f"a:{OLD}"), crypto.KeyRing(crypto.parse_ring(f"a:{OLD}"), os.urandom(32))
    assert one.fingerprint("11010519491231002X") == ring(f"b:{NEW},a:{OLD}").fingerprint("11010519491231002X")
    assert one.fingerprint("11010519491231002X") != other.fingerprint("11010519491231002X")
    assert one.fingerprint("11010519491231002X").startswith(crypto.FINGERPRINT_PREFIX)


def test_welfare_without_a_fingerprint_key_does_not_start(monkeypatch):
    monkeypatch.setenv("PALACE_WELFARE_KEYS", f"a:{OLD}")
    monkeypatch.delenv("PALACE_WELFARE_FINGERPRINT_KEY", raising=False)
    monkeypatch.delenv("PALACE_WELFARE_FINGERPRINT_KEY_FILE", raising=False)
    with pytest.raises(RuntimeError, match="PALACE_WELFARE_FINGERPRINT_KEY"):
        crypto.ring()
