"""Every process serves Prometheus metrics: the services on a port of their own, the gateway at
/metrics (added up over its worker processes)."""
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from ops import processes
from tests.e2e.conftest import Client, new_member, sign_in
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, ROOT, eventually, free_port
from tests.providers import sms_env

# notify's SMS provider is away (nothing listens there): a delivery is retried, fails, and goes by email
NOTIFY = {**sms_env(f"http://127.0.0.1:{free_port()}/sms"), "PALACE_NOTIFY_MAX_ATTEMPTS": "2",
          "PALACE_NOTIFY_BACKOFF": "0.05,0.1", "PALACE_NOTIFY_POLL": "0.1"}


REFRESH = {"PALACE_METRICS_REFRESH": "0.5"}


@pytest.fixture(scope="module")
def ports(stack):
    ports = {}
    for name in processes.commands():
        ports[name] = free_port()
        stack.start(name, extra_env={"PALACE_METRICS_PORT": str(ports[name]), **REFRESH,
                                     **(NOTIFY if name == "notify" else {})})
    return ports


@pytest.fixture(scope="module")
def admin(stack, ports):
    return sign_in(stack.url, ADMIN_PHONE, ADMIN_PASSWORD)


def samples(url, token=None):
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=10)
    answer.raise_for_status()
    text = answer.text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_each_service_reports_its_workers_outbox_and_queues(stack, ports):
    member = new_member(stack.url)
    member.get("/v1/me/enrolments")  # one RPC worker at least, in enrolment
    for name in processes.commands():
        if name == "gateway":
            continue
        found = samples(f"http://127.0.0.1:{ports[name]}/metrics")
        names = {s.name for s in found}
        assert {"palace_outbox_unsent", "palace_outbox_lag_seconds"} <= names, (name, sorted(names)[:20])
    enrolment = samples(f"http://127.0.0.1:{ports['enrolment']}/metrics")
    assert any(s.name == "palace_worker_seconds_count" and s.labels["entrypoint"] == "my_enrolments"
               and s.labels["outcome"] == "ok" and s.value >= 1 for s in enrolment)


def test_the_outbox_figures_come_from_a_timer_and_a_scrape_opens_no_connection(stack, ports):
    url = f"http://127.0.0.1:{ports['notify']}/metrics"

    def checked_at():
        found = [s.value for s in samples(url) if s.name == "palace_outbox_checked_timestamp_seconds"]
        return found and found[0]

    first = eventually(checked_at)
    assert eventually(lambda: (checked_at() or 0) > first, timeout=5), "refreshed on the timer"

    def sessions():
        with stack.db("notify") as conn:
            return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                                ).fetchone()["sessions"]

    before = sessions()
    for _ in range(20):
        requests.get(url, timeout=10).raise_for_status()
    time.sleep(1.5)  # a session is counted as it ends; the statistics are flushed within a second
    assert sessions() - before <= 3, "twenty scrapes opened no database session each (the test's own count)"


def test_the_gateway_reports_requests_by_route_and_its_rpc_calls(stack, ports):
    member = new_member(stack.url)
    for _ in range(3):
        member.get("/v1/me/enrolments")

    def counted():
        found = samples(f"{stack.url}/metrics", stack.metrics_token)
        routes = [s for s in found if s.name == "palace_http_request_seconds_count"
                  and s.labels["route"] == "/v1/me/enrolments" and s.labels["status"] == "200"]
        calls = [s for s in found if s.name == "palace_rpc_seconds_count" and s.labels["method"] == "my_enrolments"]
        return routes and calls and (sum(s.value for s in routes), sum(s.value for s in calls))

    assert eventually(counted) >= (3, 3)
    assert Client(stack.url, stack.metrics_token).get("/metrics").headers["Content-Type"].startswith("text/plain")


def test_the_gateway_metrics_are_for_the_metrics_token_alone(stack, ports):
    """A stranger, or a member with their own token, finds nothing at /metrics: the 404 of a path that is
    not there. (The services' ports answer on 127.0.0.1 alone: PALACE_METRICS_HOST.)"""
    def problem(answer):
        return answer.status_code, {k: v for k, v in answer.json().items() if k != "request_id"}

    absent = problem(Client(stack.url).get("/v1/nothing-here"))
    member = new_member(stack.url)
    for answer in (Client(stack.url).get("/metrics"), Client(stack.url, "x" * 43).get("/metrics"),
                   member.get("/metrics")):
        assert problem(answer) == absent and absent[0] == 404, answer.text


def test_notify_counts_deliveries_sent_retried_and_failed_by_channel(stack, ports, admin):
    member = new_member(stack.url)
    assert member.put("/v1/me/contacts", {"phone": "13900002222", "email": "li@example.org"}).status_code == 200
    assert member.put("/v1/me/notification-preferences", {"categories": {"classes": ["sms", "email"]},
                                                          "quiet_hours": {"start": "00:00", "end": "00:00"}}
                      ).status_code == 200
    course = admin.post("/v1/courses", {"title": "Choir 合唱", "capacity": 5}).json()["id"]
    assert member.post(f"/v1/courses/{course}/enrolments").status_code == 201

    def counted():
        found = {(s.labels["channel"], s.labels["outcome"]): s.value
                 for s in samples(f"http://127.0.0.1:{ports['notify']}/metrics")
                 if s.name == "palace_notify_deliveries_total"}
        return found.get(("email", "sent")) and found

    found = eventually(counted, timeout=30)
    assert found[("sms", "retried")] >= 1 and found[("sms", "failed")] >= 1 and found[("email", "sent")] >= 1, found


def test_a_stopped_service_fires_its_alert_in_prometheus_against_the_live_metrics(stack, ports, tmp_path):
    """A real Prometheus (Debian's) scrapes this palace every second with the rules of the compose
    monitoring profile; venues is stopped and its PalaceProcessDown alert turns pending (it fires
    after its minute) while every other part stays quiet. Last in this module: venues stays down."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: run scripts/monitoring-tools (make test does)")
    rules = yaml.safe_load((ROOT / "monitoring" / "rules" / "palace.yml").read_text())
    [down] = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "PalaceProcessDown"]
    targets = {name: f"127.0.0.1:{stack.port if name == 'gateway' else ports[name]}" for name in processes.commands()}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "monitoring" / "rules" / "palace.yml")],
        "scrape_configs": [{"job_name": name, "static_configs": [{"targets": [target]}],
                            **({"authorization": {"credentials": stack.metrics_token}} if name == "gateway" else {})}
                           for name, target in targets.items()]}))
    api = f"http://127.0.0.1:{free_port()}"
    with open(tmp_path / "prometheus.log", "wb") as log:
        server = subprocess.Popen([binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address={api.removeprefix('http://')}"],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def query(expr):
            try:
                answer = requests.get(f"{api}/api/v1/query", params={"query": expr}, timeout=5).json()
            except requests.RequestException:
                return None
            return {r["metric"].get("job"): float(r["value"][1]) for r in answer["data"]["result"]}

        assert eventually(lambda: (query("up") or {}) == {name: 1.0 for name in targets}, timeout=30), \
            (tmp_path / "prometheus.log").read_text()[-2000:]
        assert query(down["expr"]) == {}, "every part answers: no alert"
        stack.stop("venues")
        assert eventually(lambda: query(down["expr"]), timeout=20) == {"venues": 0.0}

        def pending():
            found = requests.get(f"{api}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            return [(a["labels"]["alertname"], a["labels"].get("job"), a["state"]) for a in found]

        assert ("PalaceProcessDown", "venues", "pending") in eventually(pending, timeout=10)
        assert all(job == "venues" for name, job, _ in pending() if name == "PalaceProcessDown")
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)
