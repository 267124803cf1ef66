"""The broker restarted mid-run: RabbitMQ is stopped for 10 s during a rush. Requests meanwhile
get a prompt 503 with Retry-After, services and the gateway reconnect by themselves, and
afterwards the outboxes drain with no event lost or delivered twice."""
import collections
import threading
import time

import requests

from ops import processes
from tests.crowd import enrol_crowd
from tests.faults import outages
from tests.faults.conftest import figures
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, bulk_members

MEMBERS, SEATS, CLIENTS, OUTAGE = 600, 200, 60, 10


def test_a_broker_outage_is_ridden_out(stack):
    stack.env["PALACE_RPC_TIMEOUT"] = "3"
    for name in processes.commands():
        stack.start(name)
    token = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                          timeout=30).json()["access_token"]
    course = requests.post(f"{stack.url}/v1/courses", json={"title": "Yoga 瑜伽", "capacity": SEATS},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    people = bulk_members(stack, MEMBERS)
    outage = {}

    def cut_midway(done):
        if done == MEMBERS // 4 and not outage:
            outage["at"] = done
            threading.Thread(target=cut, daemon=True).start()

    def cut():
        outage["down"] = time.monotonic()
        try:
            outages.broker_down()
            time.sleep(OUTAGE)
        finally:
            outages.broker_up()
            outage["up"] = time.monotonic()

    started = time.monotonic()
    answers = enrol_crowd(stack.url, course["id"], people, CLIENTS, tries=60, progress=cut_midway)
    took = time.monotonic() - started
    deadline = time.monotonic() + 120
    while "up" not in outage:
        assert time.monotonic() < deadline, "the broker came back"
        time.sleep(0.2)

    deadline = time.monotonic() + 90
    while outages.outbox_backlog(stack) and time.monotonic() < deadline:
        time.sleep(0.5)
    backlog = outages.outbox_backlog(stack)

    def told():
        return outages.told(stack, [m for m, _ in people])

    while told()["members"] < MEMBERS and time.monotonic() < deadline:
        time.sleep(0.5)
    inbox = told()
    counts = outages.seats(stack, course["id"])
    retried = [a for a in answers if a["tries"] > 1]
    statuses = collections.Counter(a["status"] for a in answers)
    figures("broker-restart", outage_s=OUTAGE, statuses=dict(statuses), seconds=round(took, 1), retried=len(retried),
            max_tries=max(a["tries"] for a in answers), failed=sum(a["status"] not in (200, 201) for a in answers),
            outbox_left=backlog, **counts, inbox_entries=inbox["entries"], members_told=inbox["members"])

    assert retried, "some requests met the outage"
    assert all(a["status"] in (200, 201) for a in answers), "every member got in once the broker was back"
    assert counts["live"] == counts["members"] == MEMBERS and counts["confirmed"] == SEATS
    assert backlog == 0, "the outboxes drained"
    assert inbox["entries"] == inbox["members"] == MEMBERS, "every member told exactly once"
    ready = requests.get(f"{stack.url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text


def test_during_the_outage_requests_get_a_prompt_503(stack):
    token = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                          timeout=30).json()["access_token"]
    outages.broker_down()
    try:
        started = time.monotonic()
        answer = requests.get(f"{stack.url}/v1/me/enrolments", headers={"Authorization": f"Bearer {token}"},
                              timeout=30)
        took = time.monotonic() - started
    finally:
        outages.broker_up()
    figures("broker-down-answer", status=answer.status_code, seconds=round(took, 2))
    assert answer.status_code == 503 and answer.headers.get("Retry-After")
    assert took < 5, "no hanging request"
