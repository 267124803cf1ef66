"""Concurrent queries in one service overlap in time: psycopg waits through eventlet's hub."""
import time

import pytest

from ops import processes
from tests.harness import at_once

PROBE = processes.nameko_command("tests.integration.probe_service")
QUERIES, SECONDS = 8, 0.5
POOL_FOR_ALL = {"PALACE_DB_POOL_SIZE": str(QUERIES)}  # a connection for each query: only the wait is measured


def run_concurrently(stack):
    """Fire QUERIES slow queries at once (one RPC proxy per thread); the seconds from the first
    start to the last answer."""
    def one(go):
        with stack.rpc(timeout=30) as rpc:
            go()
            started = time.monotonic()
            rpc.probe.slow_query(SECONDS)
            return started, time.monotonic()

    spans = at_once([one] * QUERIES)
    return max(end for _, end in spans) - min(start for start, _ in spans)


@pytest.mark.slow
def test_concurrent_queries_overlap_with_the_service_environment(stack):
    stack.start("probe", PROBE, {**processes.SERVICE_ENV, **POOL_FOR_ALL})
    try:
        elapsed = run_concurrently(stack)
    finally:
        stack.stop("probe")
    print(f"{QUERIES} x {SECONDS}s queries with wait_selector: {elapsed:.2f}s")
    assert elapsed < QUERIES * SECONDS / 2.5, f"queries did not overlap: {elapsed:.2f}s"


@pytest.mark.slow
def test_without_wait_selector_queries_queue_up(stack):
    """The control: the same service without the setting serialises its queries."""
    stack.start("probe#blocking", PROBE, {"PSYCOPG_WAIT_FUNC": None, **POOL_FOR_ALL})
    try:
        elapsed = run_concurrently(stack)
    finally:
        stack.stop("probe#blocking")
    print(f"{QUERIES} x {SECONDS}s queries with psycopg's default wait: {elapsed:.2f}s")
    assert elapsed >= QUERIES * SECONDS * 0.8
