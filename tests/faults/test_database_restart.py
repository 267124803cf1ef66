"""The database restarted during traffic: the pools recover without restarting any service,
and no half-written change remains (seats counted match the enrolments that exist)."""
import threading
import time

import requests

from ops import processes
from tests.crowd import enrol_crowd
from tests.faults import outages
from tests.faults.conftest import figures
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, bulk_members

MEMBERS, SEATS, CLIENTS = 600, 150, 60


def test_a_database_restart_heals_without_restarting_anything(stack):
    for name in processes.commands():
        stack.start(name)
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    token = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                          timeout=30).json()["access_token"]
    course = requests.post(f"{stack.url}/v1/courses", json={"title": "Tea art 茶艺", "capacity": SEATS},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    people = bulk_members(stack, MEMBERS)
    restarted = []

    def restart_midway(done):
        if done == MEMBERS // 3 and not restarted:
            restarted.append(done)
            threading.Thread(target=outages.database_restart, daemon=True).start()

    started = time.monotonic()
    answers = enrol_crowd(stack.url, course["id"], people, CLIENTS, tries=40, progress=restart_midway)
    took = time.monotonic() - started

    counts = outages.seats(stack, course["id"])
    shown = requests.get(f"{stack.url}/v1/courses/{course['id']}", timeout=30).json()
    figures("database-restart", seconds=round(took, 1), retried=sum(a["tries"] > 1 for a in answers),
            failed=sum(a["status"] not in (200, 201) for a in answers), **counts,
            seats_left_shown=shown.get("seats_left"))

    assert restarted
    assert {name: proc.pid for name, proc in stack.procs.items()} == pids, "no process was restarted"
    assert all(proc.poll() is None for proc in stack.procs.values())
    assert all(a["status"] in (200, 201) for a in answers)
    assert counts["live"] == counts["members"] == MEMBERS and counts["confirmed"] == SEATS
    deadline = time.monotonic() + 30
    while requests.get(f"{stack.url}/v1/courses/{course['id']}", timeout=30).json().get("seats_left") != 0:
        assert time.monotonic() < deadline, "the seats shown agree with the enrolments"
        time.sleep(0.5)
    assert requests.get(f"{stack.url}/readyz", timeout=30).status_code == 200
