"""Slow downstream: a service that stops answering (SIGSTOP: alive, connected, silent) makes its
routes answer 503 within the RPC timeout, and the gateway keeps answering its other routes."""
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from ops import processes
from tests.e2e.conftest import Client, new_member
from tests.faults.conftest import figures

TIMEOUT = 2.0


def test_a_frozen_service_costs_its_callers_a_timeout_at_most_and_nobody_else_anything(stack):
    stack.env["PALACE_RPC_TIMEOUT"] = str(TIMEOUT)
    for name in processes.commands():
        stack.start(name)
    member = new_member(stack.url)
    assert member.get("/v1/me/notifications").status_code == 200

    os.killpg(stack.procs["notify"].pid, signal.SIGSTOP)
    try:
        def ask(_):
            started = time.monotonic()
            answer = Client(stack.url, member.http.headers["Authorization"].split()[1]).get("/v1/me/notifications")
            return answer.status_code, time.monotonic() - started, answer.headers.get("Retry-After")

        with ThreadPoolExecutor(48) as pool:  # three times the gateway's threads
            slow = pool.map(ask, range(96))
            time.sleep(TIMEOUT / 2)
            others = []
            for _ in range(10):  # meanwhile, a member browses the catalog and their enrolments
                started = time.monotonic()
                statuses = (Client(stack.url).get("/v1/courses").status_code,
                            member.get("/v1/me/enrolments").status_code)
                others.append((statuses, time.monotonic() - started))
                time.sleep(0.2)
            slow = list(slow)
    finally:
        os.killpg(stack.procs["notify"].pid, signal.SIGCONT)

    worst = max(seconds for _, seconds, _ in slow)
    worst_other = max(seconds for _, seconds in others)
    figures("slow-downstream", frozen_requests=len(slow), all_503=all(s == 503 for s, _, _ in slow),
            worst_frozen_s=round(worst, 2), worst_other_route_s=round(worst_other, 2),
            rpc_timeout_s=TIMEOUT)
    assert all(status == 503 and retry for status, _, retry in slow)
    assert worst < TIMEOUT * 2 + 1, "answered within the timeout, never hanging"
    assert all(statuses == (200, 200) for statuses, _ in others)
    assert worst_other < TIMEOUT + 1, "other routes are not stuck behind the frozen service"
    # once it answers again, its routes recover by themselves
    deadline = time.monotonic() + 15
    while member.get("/v1/me/notifications").status_code != 200:
        assert time.monotonic() < deadline, "the route recovered after the service came back"
        time.sleep(0.5)
