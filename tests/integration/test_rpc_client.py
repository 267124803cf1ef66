"""The gateway's RPC client (gateway/rpc_client.py) on the real RabbitMQ, calling a real nameko
service (tests/integration/echo_service.py) that checks the signed context as every palace service
does: answers, the service's errors as nameko raised them, bounded waits, many threads on one
connection, and a connection the broker closes."""
import os
import threading
import time
from urllib.parse import quote

import pytest
import requests
from nameko.exceptions import RemoteError, UnknownService

from gateway import rpc
from gateway.problems import Problem
from gateway.rpc_client import CONNECTION_NAME, RETRY_SECONDS, BrokerLost, NoAnswer, RpcClient
from ops import processes
from ops.preflight import management_url
from services.common.errors import Conflict, Unauthorized
from tests.harness import eventually, management_auth

ECHO = processes.nameko_command("tests.integration.echo_service")


@pytest.fixture(scope="module")
def echo(stack):
    stack.start("echo", ECHO, processes.SERVICE_ENV, wait=False)
    client = RpcClient(stack.env["AMQP_URI"], timeout=10)
    eventually(lambda: _answers(client, stack), timeout=60, interval=0.2)
    yield stack
    stack.stop("echo")


def _answers(client, stack):
    try:
        return client.call("echo", "echo", ["up"], {}, stack.signed())["value"] == "up"
    except (NoAnswer, UnknownService, BrokerLost):
        return False


def client_for(stack, timeout=5):
    return RpcClient(stack.env["AMQP_URI"], timeout=timeout)


def test_a_call_carries_its_arguments_and_the_signed_caller(echo):
    client = client_for(echo)
    answer = client.call("echo", "echo", [["二胡 erhu", {"seats": 3}]], {"tag": "t1"},
                         echo.signed({"caller_id": "m-42", "caller_roles": "member"}))
    assert answer == {"value": ["二胡 erhu", {"seats": 3}], "tag": "t1", "caller": "m-42", "signed_by": "gateway"}


def test_a_call_without_a_signed_context_is_refused_by_the_service(echo):
    with pytest.raises(Unauthorized) as refused:
        client_for(echo).call("echo", "echo", ["x"], {}, {"caller_id": "m-42"})
    assert refused.value.problem == "context-unsigned"


def test_a_palace_error_crosses_typed_and_any_other_as_nameko_s_remote_error(echo):
    client = client_for(echo)
    with pytest.raises(Conflict) as refused:
        client.call("echo", "refuse", ["the course is full"], {}, echo.signed())
    assert (refused.value.detail, refused.value.problem, refused.value.errors) == (
        "the course is full", "seat-taken", {"course_id": ["full"]})
    with pytest.raises(RemoteError) as failed:
        client.call("echo", "fail", [], {}, echo.signed())
    assert failed.value.exc_type == "ValueError"


def test_a_reply_that_does_not_come_in_time_is_no_answer_and_is_dropped_when_it_comes(echo):
    client = client_for(echo, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(NoAnswer):
        client.call("echo", "slow", [1.5, "late"], {}, echo.signed())
    assert time.monotonic() - started < 1.0
    time.sleep(1.5)  # the late answer arrives meanwhile and is dropped
    assert client.call("echo", "slow", [0, "next"], {}, echo.signed()) == "next"


def test_a_service_that_is_not_running_is_unknown_at_once(echo):
    started = time.monotonic()
    with pytest.raises(UnknownService):
        client_for(echo).call("nosuchservice", "ping", [], {}, echo.signed())
    assert time.monotonic() - started < 1.0


def test_threads_share_one_connection_and_each_gets_its_own_answers(echo):
    client, threads, calls = client_for(echo, timeout=15), 16, 40
    wrong, errors = [], []
    client.call("echo", "echo", ["warm"], {}, echo.signed())
    link = client._link

    def caller(n):
        try:
            for i in range(calls):
                value = f"{n}-{i}"
                seconds = 0.05 if i % 10 == 0 else 0  # some answers overtake others
                if client.call("echo", "slow", [seconds, value], {}, echo.signed()) != value:
                    wrong.append(value)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    workers = [threading.Thread(target=caller, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors and not wrong
    assert not any(worker.is_alive() for worker in workers)
    assert client._link is link, "one connection for every thread, never replaced"


def _connection(stack, client):
    """The broker's name of `client`'s connection, once its management lists it (it lags)."""
    api = f"{management_url()}/vhosts/{quote(stack.tag, safe='')}/connections"
    wanted = CONNECTION_NAME.format(os.getpid(), client._link.reply_to)
    found = requests.get(api, auth=management_auth(), timeout=10).json()
    return next((c["name"] for c in found if c.get("client_properties", {}).get("connection_name") == wanted), None)


def test_a_connection_the_broker_closes_fails_the_waiting_calls_at_once_and_the_next_call_reconnects(echo):
    client = client_for(echo, timeout=30)
    assert client.call("echo", "echo", ["before"], {}, echo.signed())["value"] == "before"
    name = eventually(lambda: _connection(echo, client), timeout=30, interval=0.5)
    waiting = client.send("echo", "slow", [20, "never"], {}, echo.signed())
    started = time.monotonic()
    requests.delete(f"{management_url()}/connections/{quote(name, safe='')}", auth=management_auth(),
                    headers={"X-Reason": "the test closes it"}, timeout=10).raise_for_status()
    with pytest.raises(BrokerLost):
        waiting.result(time.monotonic() + 30)
    assert time.monotonic() - started < 3, "not a wait for the timeout"
    eventually(lambda: _answers(client, echo), timeout=10, interval=0.1)


def test_an_unreachable_broker_fails_within_the_connect_bound_then_fast_until_it_retries(echo):
    client = RpcClient("amqp://guest:guest@127.0.0.1:1/", timeout=5)
    started = time.monotonic()
    with pytest.raises(BrokerLost):
        client.call("echo", "echo", ["x"], {}, echo.signed())
    with pytest.raises(BrokerLost, match="a moment ago"):
        client.call("echo", "echo", ["x"], {}, echo.signed())
    assert time.monotonic() - started < RETRY_SECONDS


def test_a_cluster_list_moves_past_a_node_that_is_down(echo):
    client = RpcClient(f"amqp://guest:guest@127.0.0.1:1/;{echo.env['AMQP_URI']}", timeout=5)
    assert client.call("echo", "echo", ["via the second"], {}, echo.signed())["value"] == "via the second"


def test_the_gateway_s_call_maps_the_service_s_answers_as_the_routes_expect(echo, monkeypatch):
    monkeypatch.setenv("PALACE_RPC_TIMEOUT", "1")
    monkeypatch.setattr(rpc, "_client", None)  # one made with this test's timeout
    assert rpc.call("echo", "echo", "x", context={"caller_id": "m-7"})["caller"] == "m-7"
    with pytest.raises(Conflict):
        rpc.call("echo", "refuse", "full")
    with pytest.raises(Problem) as slow:
        rpc.call("echo", "slow", 2, "late")
    assert slow.value.status_code == 503 and "did not answer in time" in slow.value.description
    with pytest.raises(Problem) as unknown:
        rpc.call("nosuchservice", "ping")
    assert unknown.value.status_code == 503 and "not running" in unknown.value.description
    assert rpc.call_all([("echo", "echo", ["a"], {}), ("echo", "slow", [0.2, "b"], {})]) == [
        {"value": "a", "tag": None, "caller": None, "signed_by": "gateway"}, "b"]


def test_while_the_broker_blocks_publishing_calls_are_refused_at_once(echo):
    client = client_for(echo)
    assert client.call("echo", "echo", ["before"], {}, echo.signed())["value"] == "before"
    client._link._on_blocked("low on memory")  # as py-amqp calls it on the broker's connection.blocked
    with pytest.raises(BrokerLost, match="low on memory"):
        client.call("echo", "echo", ["x"], {}, echo.signed())
    client._link._on_unblocked()
    assert client.call("echo", "echo", ["after"], {}, echo.signed())["value"] == "after"
