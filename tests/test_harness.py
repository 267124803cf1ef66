"""The test kit's waits are bounded: a broken race fails with a message, it never hangs the suite."""
import time

import pytest

from tests.harness import at_once


def test_contenders_start_together_and_their_results_come_back_in_order():
    def contender(n):
        def attempt(go):
            go()
            return n, time.monotonic()
        return attempt

    results = at_once([contender(n) for n in range(20)], timeout=10)
    assert [n for n, _ in results] == list(range(20))
    assert max(t for _, t in results) - min(t for _, t in results) < 1.0


def test_a_contender_failing_before_the_start_fails_the_race_with_its_own_error():
    def broken(go):
        raise ConnectionError("sorry, too many clients already")

    def waiting(go):
        go()

    started = time.monotonic()
    with pytest.raises(ConnectionError, match="too many clients"):
        at_once([waiting] * 5 + [broken], timeout=30)
    assert time.monotonic() - started < 5, "the others were released, not left at the start"


def test_a_contender_that_never_returns_fails_the_race_after_its_timeout():
    def stuck(go):
        go()
        time.sleep(60)

    started = time.monotonic()
    with pytest.raises(AssertionError, match="1 of 2 contenders still running after 1 s"):
        at_once([stuck, lambda go: go()], timeout=1)
    assert time.monotonic() - started < 3
