"""A service that is down makes /readyz say so and its routes answer 503 promptly, never hang; which
part is down, and why, only ops read (the metrics token)."""
import time

from tests.e2e.conftest import Client, new_member

TIMEOUT = 2


def test_a_stopped_service_is_reported_and_its_routes_answer_503_within_the_timeout(stack):
    stack.env["PALACE_RPC_TIMEOUT"] = str(TIMEOUT)
    stack.start_all()
    member = new_member(stack.url)
    assert Client(stack.url).get("/readyz").status_code == 200

    stack.stop("notify")
    ready = Client(stack.url, stack.metrics_token).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["notify"] != "ok" and ready.json()["checks"]["enrolment"] == "ok"
    for stranger in (Client(stack.url), member, Client(stack.url, "x" * 43)):
        answer = stranger.get("/readyz")
        assert (answer.status_code, answer.json()) == (503, {"status": "not ready"}), answer.text

    started = time.monotonic()
    answer = member.get("/v1/me/notifications")
    took = time.monotonic() - started
    assert answer.status_code == 503 and answer.json()["type"].endswith("/problems/service-unavailable")
    assert answer.headers["Retry-After"]
    assert took < TIMEOUT + 1.5, f"took {took:.1f}s"
    assert member.get("/v1/courses").status_code == 200, "other routes keep answering"

    stack.start("notify")
    assert member.get("/v1/me/notifications").status_code == 200
