"""The broker users of a compose palace (ops/rabbitmq/definitions.json), on the real RabbitMQ: the
definitions are imported into the test's own vhost, as the broker imports them at boot, with users of
the test's own names; services run as their own users, and what a part may not do is refused by the
broker (ACCESS_REFUSED) before any palace code sees it."""
import json
import secrets
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests
from amqp import Message
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from ops import broker_users
from ops.preflight import management_url
from tests.harness import management_auth

RPC = Exchange("nameko-rpc", type="topic", durable=True)


@pytest.fixture(scope="module")
def users(stack):
    """part -> the AMQP URI of its user in the stack's vhost; the users are deleted at the end."""
    definitions = json.loads(broker_users.DEFINITIONS.read_text())
    passwords, names = {}, {}
    for entry in definitions["users"]:
        names[entry["name"]] = f"{stack.tag}-{entry['name']}"
        passwords[entry["name"]] = secrets.token_urlsafe(24)
        entry["password"] = passwords[entry["name"]]
        entry["name"] = names[entry["name"]]
    for entry in definitions["permissions"] + definitions["topic_permissions"]:
        entry["user"], entry["vhost"] = names[entry["user"]], stack.tag
    definitions["vhosts"] = [{"name": stack.tag}]
    api = management_url()
    requests.post(f"{api}/definitions", json=definitions, auth=management_auth(), timeout=30).raise_for_status()
    broker = urlsplit(stack.env["AMQP_URI"])
    try:
        uris = {name.removeprefix("palace-"): urlunsplit(broker._replace(
            netloc=f"{quote(names[name], safe='')}:{passwords[name]}@{broker.hostname}:{broker.port or 5672}"))
            for name in names}
        with channel(uris["ops"]) as chan:  # as migrate would, before the services start
            RPC(chan).declare()
        yield uris
    finally:
        for name in names.values():
            requests.delete(f"{api}/users/{quote(name, safe='')}", auth=management_auth(), timeout=10)


@contextmanager
def channel(uri):
    with Connection(uri, connect_timeout=5, transport_options={"confirm_publish": True}) as conn:
        yield conn.channel()


def publish(uri, exchange, routing_key):
    """Publish with a publisher confirm, so a refusal comes back as the channel's AccessRefused."""
    with channel(uri) as chan:
        chan.basic_publish_confirm(Message(b"{}", content_type="application/json"), exchange=exchange,
                                   routing_key=routing_key)


def refused(action, *args):
    with pytest.raises(AccessRefused) as caught:
        action(*args)
    return str(caught.value)


def test_services_serve_and_call_as_their_own_users(stack, users):
    """venues and enrolment declare their queues and answer as palace-venues and palace-enrolment; the
    gateway's user calls both and gets the answers (a reply is published on nameko-rpc by the service)."""
    for name in ("venues", "enrolment"):
        stack.start(name, extra_env={"AMQP_URI": users[name]}, wait=False)
    try:
        for name in ("venues", "enrolment"):
            stack.wait_until_up(name)
        with ClusterRpcProxy({"AMQP_URI": users["gateway"], "serializer": "json"}, timeout=10,
                             context_data=stack.signed()) as rpc:
            assert rpc.venues.ping()["database"] == "ok"
            assert rpc.enrolment.ping()["database"] == "ok"
    finally:
        for name in ("venues", "enrolment"):
            stack.stop(name)
    for name in ("venues", "enrolment"):
        assert "ACCESS_REFUSED" not in stack.log(name), stack.log(name)


def test_only_the_calls_trust_allows_can_be_published_to_the_rpc_exchange(users):
    publish(users["enrolment"], "nameko-rpc", "venues.get_room")  # trust.ALLOWED: enrolment may
    publish(users["welfare"], "nameko-rpc", "venues.reserve_series")
    publish(users["gateway"], "nameko-rpc", "welfare.decide")  # the gateway, on its signed-in officer's behalf
    assert "nameko-rpc" in refused(publish, users["enrolment"], "nameko-rpc", "welfare.decide")
    assert "nameko-rpc" in refused(publish, users["enrolment"], "nameko-rpc", "welfare.pay")
    assert "nameko-rpc" in refused(publish, users["notify"], "nameko-rpc", "venues.release_series")
    assert "nameko-rpc" in refused(publish, users["gateway-feed"], "nameko-rpc", "welfare.decide")
    # release_series is the services' (ALLOWED), never the gateway's; release_no_shows is ops tooling's
    assert "nameko-rpc" in refused(publish, users["gateway"], "nameko-rpc", "venues.release_series")
    assert "nameko-rpc" in refused(publish, users["gateway"], "nameko-rpc", "venues.release_no_shows")
    publish(users["ops"], "nameko-rpc", "venues.release_no_shows")


def test_a_part_cannot_forge_another_part_s_events_or_read_its_queues(users):
    publish(users["welfare"], "welfare.events", "payout_made")
    assert "welfare.events" in refused(publish, users["enrolment"], "welfare.events", "payout_made")
    assert "enrolment.events" in refused(publish, users["gateway"], "enrolment.events", "course_published")

    def get(uri, queue):
        with channel(uri) as chan:
            chan.basic_get(queue)

    assert "rpc-welfare" in refused(get, users["enrolment"], "rpc-welfare")
    assert "rpc-venues" in refused(get, users["gateway"], "rpc-venues")

    def listen_to(uri, queue, routing_key):  # a queue of one's own bound to catch another's calls
        with channel(uri) as chan:
            Queue(queue, exchange=RPC, routing_key=routing_key, durable=True)(chan).declare()

    assert "rpc-welfare" in refused(listen_to, users["enrolment"], "rpc-welfare", "welfare.*")
    assert "nameko-rpc" in refused(listen_to, users["enrolment"], "rpc-enrolment", "welfare.*")
