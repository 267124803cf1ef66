"""Every process serves Prometheus metrics: the services on a port of their own, the gateway at
/metrics (added up over its worker processes)."""
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ops import processes
from tests.e2e.conftest import Client, new_member
from tests.harness import eventually, free_port


@pytest.fixture(scope="module")
def ports(stack):
    ports = {}
    for name in processes.commands():
        ports[name] = free_port()
        stack.start(name, extra_env={"PALACE_METRICS_PORT": str(ports[name])})
    return ports


def samples(url):
    text = requests.get(url, timeout=10).text
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
    notify = samples(f"http://127.0.0.1:{ports['notify']}/metrics")
    assert any(s.name == "palace_queue_messages" for s in notify), "the depth of notify's handler queues"


def test_the_gateway_reports_requests_by_route_and_its_rpc_calls(stack, ports):
    member = new_member(stack.url)
    for _ in range(3):
        member.get("/v1/me/enrolments")

    def counted():
        found = samples(f"{stack.url}/metrics")
        routes = [s for s in found if s.name == "palace_http_request_seconds_count"
                  and s.labels["route"] == "/v1/me/enrolments" and s.labels["status"] == "200"]
        calls = [s for s in found if s.name == "palace_rpc_seconds_count" and s.labels["method"] == "my_enrolments"]
        return routes and calls and (sum(s.value for s in routes), sum(s.value for s in calls))

    assert eventually(counted) >= (3, 3)
    assert Client(stack.url).get("/metrics").headers["Content-Type"].startswith("text/plain")
