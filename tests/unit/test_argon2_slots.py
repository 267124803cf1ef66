"""argon2 work is capped per gateway process: a request that finds every slot taken waits a bounded
time, then is told to come back (503 with Retry-After) instead of queueing threads and memory."""
import threading

import pytest

from gateway import auth
from gateway.problems import Problem


def test_a_hash_waits_for_a_free_slot_a_bounded_time_then_gets_a_503(monkeypatch):
    monkeypatch.setattr(auth, "_argon2_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(auth, "ARGON2_WAIT", 0.05)
    assert auth.matches(auth.hash_secret("a password"), "a password")
    auth._argon2_slots.acquire()  # another request is hashing
    try:
        with pytest.raises(Problem) as refused:
            auth.hash_secret("a password")
    finally:
        auth._argon2_slots.release()
    assert refused.value.status_code == 503 and refused.value.headers["Retry-After"]
    assert not auth.matches(auth.hash_secret("a password"), "another"), "the slot is free again"
