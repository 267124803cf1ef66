"""The gateway's per-service circuit breaker, on a clock the test moves."""
import pytest

from gateway import rpc


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(rpc.time, "monotonic", lambda: now[0])
    return now


def tripped(clock):
    breaker = rpc.Breaker()
    for _ in range(rpc.Breaker.TRIPS):
        assert breaker.allow()
        breaker.record(timed_out=True)
    return breaker


def test_a_service_that_keeps_timing_out_is_not_called_until_it_has_cooled(clock):
    breaker = tripped(clock)
    assert not breaker.allow()
    clock[0] += rpc.Breaker.COOL - 0.1
    assert not breaker.allow()
    clock[0] += 0.2
    assert breaker.allow()  # one call tries it again
    assert not breaker.allow()  # the others wait for that call


def test_once_the_trial_call_gets_through_everyone_may_call_at_once(clock):
    breaker = tripped(clock)
    clock[0] += rpc.Breaker.COOL + 0.1
    assert breaker.allow()
    breaker.record(timed_out=False)
    assert breaker.allow() and breaker.allow()


def test_a_trial_call_that_times_out_opens_the_breaker_again(clock):
    breaker = tripped(clock)
    clock[0] += rpc.Breaker.COOL + 0.1
    assert breaker.allow()
    breaker.record(timed_out=True)
    clock[0] += rpc.Breaker.COOL - 0.1
    assert not breaker.allow()


def test_timeouts_that_are_not_in_a_row_do_not_trip_it(clock):
    breaker = rpc.Breaker()
    for _ in range(5):
        breaker.record(timed_out=True)
        breaker.record(timed_out=False)
    assert breaker.allow()
