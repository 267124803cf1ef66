"""/readyz for a stranger reuses the last checks for a couple of seconds, so calling it in a loop does
not have the gateway open a broker connection, take a database connection and ping every service
each time; ops (the metrics token) get fresh checks, which the strangers' answer then follows."""
import threading

import falcon
import falcon.testing
import pytest

from gateway.routes import ops

TOKEN = "t" * 43


class Db:
    def __init__(self):
        self.pings = 0
        self.answer = "ok"

    def ping(self):
        self.pings += 1
        return self.answer


class Gateway:
    def __init__(self):
        self.metrics_token = TOKEN
        self.db = Db()


@pytest.fixture
def gateway(monkeypatch):
    gateway = Gateway()
    monkeypatch.setattr(ops, "ping_all", lambda services: {s: "ok" for s in services})
    monkeypatch.setattr(ops.Ready, "_broker", lambda self: "ok")
    return gateway


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(ops.time, "monotonic", lambda: now[0])
    return now


def client(gateway):
    app = falcon.App()
    app.add_route("/readyz", ops.Ready(gateway))
    return falcon.testing.TestClient(app)


def test_a_stranger_calling_in_a_loop_checks_the_parts_once_per_couple_of_seconds(gateway, clock):
    ready = client(gateway)
    for _ in range(50):
        answer = ready.simulate_get("/readyz")
        assert (answer.status_code, answer.json) == (200, {"status": "ready"})
    assert gateway.db.pings == 1

    clock[0] += ops.Ready.FRESH + 0.1
    gateway.db.answer = "unreachable: gone"
    answer = ready.simulate_get("/readyz")
    assert (answer.status_code, answer.json) == (503, {"status": "not ready"})
    assert gateway.db.pings == 2


def test_ops_get_fresh_checks_every_time_and_strangers_then_read_them(gateway, clock):
    ready = client(gateway)
    ops_headers = {"Authorization": f"Bearer {TOKEN}"}
    assert ready.simulate_get("/readyz").status_code == 200
    gateway.db.answer = "unreachable: gone"
    for pings in (2, 3):
        answer = ready.simulate_get("/readyz", headers=ops_headers)
        assert answer.status_code == 503 and answer.json["checks"]["database"] == "unreachable: gone"
        assert gateway.db.pings == pings
    stranger = ready.simulate_get("/readyz")
    assert (stranger.status_code, stranger.json) == (503, {"status": "not ready"})
    assert gateway.db.pings == 3


def test_strangers_arriving_together_share_one_set_of_checks(gateway, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_ping(services):
        started.set()
        release.wait(5)
        return {s: "ok" for s in services}

    monkeypatch.setattr(ops, "ping_all", slow_ping)
    ready = client(gateway)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(ready.simulate_get("/readyz").status_code))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    assert started.wait(5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert answers == [200] * 8
    assert gateway.db.pings == 1
