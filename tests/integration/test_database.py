"""Concurrent queries in one service overlap in time: psycopg waits through eventlet's hub."""
import threading
import time

import pytest

from ops import processes

PROBE = ["nameko", "run", "--config", "config.yaml", "tests.integration.probe_service"]
QUERIES, SECONDS = 8, 0.5


def run_concurrently(stack):
    """Fire QUERIES slow queries at once (one RPC proxy per thread) and time them all."""
    ready, errors = threading.Barrier(QUERIES + 1), []

    def one():
        with stack.rpc(timeout=30) as rpc:
            ready.wait()
            try:
                rpc.probe.slow_query(SECONDS)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(QUERIES)]
    for t in threads:
        t.start()
    ready.wait()
    started = time.monotonic()
    for t in threads:
        t.join()
    assert not errors, errors
    return time.monotonic() - started


@pytest.mark.slow
def test_concurrent_queries_overlap_with_the_service_environment(stack):
    stack.start("probe", PROBE, processes.SERVICE_ENV)
    try:
        elapsed = run_concurrently(stack)
    finally:
        stack.stop("probe")
    print(f"{QUERIES} x {SECONDS}s queries with wait_selector: {elapsed:.2f}s")
    assert elapsed < QUERIES * SECONDS / 2.5, f"queries did not overlap: {elapsed:.2f}s"


@pytest.mark.slow
def test_without_wait_selector_queries_queue_up(stack):
    """The control: the same service without the setting serialises its queries."""
    stack.start("probe#blocking", PROBE, {"PSYCOPG_WAIT_FUNC": None})
    try:
        elapsed = run_concurrently(stack)
    finally:
        stack.stop("probe#blocking")
    print(f"{QUERIES} x {SECONDS}s queries with psycopg's default wait: {elapsed:.2f}s")
    assert elapsed >= QUERIES * SECONDS * 0.8
