"""A service killed mid-rush: two enrolment instances, one SIGKILLed while 200 clients enrol
1,000 members with idempotency keys, retrying on failure. Nothing may be lost or doubled."""
import signal
import time

import requests

from ops import processes
from tests.crowd import enrol_crowd
from tests.faults import outages
from tests.faults.conftest import figures
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, bulk_members

MEMBERS, SEATS, CLIENTS = 1000, 300, 200


def test_killing_an_enrolment_instance_mid_rush_loses_and_doubles_nothing(stack):
    for name in processes.commands():
        stack.start(name)
    stack.start("enrolment#2")
    token = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                          timeout=30).json()["access_token"]
    course = requests.post(f"{stack.url}/v1/courses", json={"title": "Choir 合唱", "capacity": SEATS},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    people = bulk_members(stack, MEMBERS)
    killed_at = []

    def kill_midway(done):
        if done == MEMBERS // 3 and not killed_at:
            stack.stop("enrolment#2", signal.SIGKILL)
            killed_at.append(done)

    started = time.monotonic()
    answers = enrol_crowd(stack.url, course["id"], people, CLIENTS, tries=8, progress=kill_midway)
    took = time.monotonic() - started

    counts = outages.seats(stack, course["id"])

    def told():
        return outages.told(stack, [m for m, _ in people])

    deadline = time.monotonic() + 60
    while told()["members"] < MEMBERS and time.monotonic() < deadline:
        time.sleep(0.2)
    inbox = told()
    figures("service-killed", killed_after=killed_at, seconds=round(took, 1),
            retried=sum(a["tries"] > 1 for a in answers), failed=sum(a["status"] not in (200, 201) for a in answers),
            **counts, inbox_entries=inbox["entries"], members_told=inbox["members"])

    assert killed_at, "the instance was killed during the rush"
    assert all(a["status"] in (200, 201) for a in answers), {a["status"] for a in answers}
    assert counts["live"] == counts["members"] == MEMBERS, "every member exactly one enrolment"
    assert counts["confirmed"] == SEATS and counts["waitlisted"] == MEMBERS - SEATS
    assert inbox["entries"] == inbox["members"] == MEMBERS, "every member told exactly once"
