"""Transactional outbox: events are rows written in the same transaction as the change they
describe; a relay in each service instance publishes them with publisher confirms.

Several instances cooperate: each claims unsent rows with FOR UPDATE SKIP LOCKED, so a row is
published by one of them, and a row is marked sent only after the broker confirmed it. A crash
between the publish and the mark means the event goes out again: consumers are idempotent."""
import json
import logging
import socket
import threading
import time

import amqp
import psycopg
from kombu import Connection
from nameko.extensions import DependencyProvider

from services.common import config, trust
from services.common.events import declare_exchange, envelope, exchange
from services.common.loops import ReconnectingLoop

log = logging.getLogger(__name__)

BATCH = 200
HEARTBEAT = 10  # seconds; the relay loop checks it between polls
CONFIRM_TIMEOUT = 10  # seconds to wait for the broker's confirm before giving the batch up


def record(conn, service, event_type, payload, request_id=None):
    """Write an event in the caller's transaction; the relay finds it once it is committed.

    No NOTIFY: PostgreSQL serialises the commits of every transaction that notified, cluster
    wide, each holding a global lock across its WAL flush (measured here: 4,073 commits/s
    without, 932-2,100 with), which a class launch cannot afford. The relay polls instead."""
    event = envelope(service, event_type, payload)
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, body, request_id) VALUES (%s, %s, %s, %s)",
        (event["event_id"], event_type, json.dumps(event), request_id),
    )
    return event


def wait_reading(amqp, seconds):
    """Wait between polls reading the broker's frames: an idle relay that never read its socket
    took the broker's heartbeats for missed ones and reconnected every 20 s."""
    try:
        amqp.drain_events(timeout=seconds)
    except socket.timeout:
        pass


QUIET_POLLS = 24  # about a second of empty polls at 50 ms


def poll_delay(idle_polls):
    """How long the relay waits after `idle_polls` empty polls in a row: 5 ms, doubling to 50 ms,
    then 250 ms once the outbox has been quiet for about a second. A worker of its own process
    that wrote an event wakes it at once; the polls find the rest (rows written by processes
    without a relay, such as the gateway's, or left by another instance's crashed relay)."""
    if idle_polls > QUIET_POLLS:
        return 0.25
    return min(0.005 * 2 ** idle_polls, 0.05)


class Outbox(ReconnectingLoop, DependencyProvider):
    """Gives workers `record(conn, event_type, payload)` and runs the relay while the service runs."""

    def setup(self):
        self.service = self.container.service_name
        self.url = config.db_url(self.service)
        self.exchange = exchange(self.service)
        self._wake = threading.Event()  # green under nameko's eventlet
        self._writers = set()

    def start(self):
        self.start_loop("outbox-relay")

    def loop_name(self):
        return f"outbox relay of {self.service}"

    def get_dependency(self, worker_ctx):
        request_id = worker_ctx.data.get("request_id") or None

        def add(conn, event_type, payload):
            self._writers.add(id(worker_ctx))
            return record(conn, self.service, event_type, payload, request_id)

        return add

    def worker_teardown(self, worker_ctx):
        """The worker's transactions are over: what it wrote is committed (or rolled back)."""
        if id(worker_ctx) in self._writers:
            self._writers.discard(id(worker_ctx))
            self._wake.set()

    # the relay

    def session(self):
        """Relay until the broker or the database goes away; the unsent rows wait for the next session."""
        with psycopg.connect(self.url) as work, \
                Connection(config.amqp_uri(), heartbeat=HEARTBEAT, transport_options={"confirm_publish": True}) as amqp:
            producer = amqp.Producer()
            declare_exchange(producer.channel, self.service)
            self.connected()
            idle = 0
            while self.running:
                amqp.heartbeat_check()  # a dead broker link fails here instead of hanging
                self._wake.clear()
                sent = relay_batch(work, producer, self.exchange)
                if sent < BATCH:
                    idle = 0 if sent else idle + 1
                    self._wake.wait(poll_delay(idle))
                    wait_reading(amqp, 0)


def relay_batch(conn, producer, exchange):
    """Publish one batch of unsent events, confirmed by the broker, then mark them sent.
    The batch is published at once and its confirms awaited together (one round trip per batch,
    not per event); a nack or a missing confirm fails the batch, which stays unsent for the next try."""
    publisher = _confirmed_publisher(producer)
    with conn.transaction():
        rows = conn.execute(
            "SELECT id, event_id, event_type, body::text, request_id FROM outbox"
            " WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            (BATCH,),
        ).fetchall()
        try:
            for _id, event_id, event_type, body, request_id in rows:
                headers = {"nameko.request_id": request_id} if request_id else {}
                publisher.publish(signed(body), exchange.name, event_type, headers, str(event_id))
            publisher.wait(CONFIRM_TIMEOUT)
        except BaseException:
            producer.__dict__.pop("_palace_confirmed", None)  # its channel's confirms are in doubt
            raise
        if rows:
            conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", ([r[0] for r in rows],))
    return len(rows)


def signed(body):
    """An outbox row's body as it goes out: signed. record() signs what it writes; a row written
    another way (a SQL migration's, or one left from before events were signed) is signed here, by
    the service whose own database holds it."""
    event = json.loads(body)
    return body if event.get(trust.SIGNATURE) else json.dumps(trust.sign_event(event))


class ConfirmedPublisher:
    """A channel of its own in confirm mode: publishes without waiting, then waits once until the
    broker has confirmed everything published."""

    def __init__(self, connection):
        self.channel = connection.channel()
        self.channel.confirm_select()
        self.tag = 0
        self.unconfirmed = set()
        self.nacked = 0
        self.channel.events["basic_ack"].add(self._ack)
        self.channel.events["basic_nack"].add(self._nack)

    def _ack(self, delivery_tag, multiple):
        if multiple:
            self.unconfirmed = {t for t in self.unconfirmed if t > delivery_tag}
        else:
            self.unconfirmed.discard(delivery_tag)

    def _nack(self, delivery_tag, multiple):
        self.nacked += 1
        self._ack(delivery_tag, multiple)

    def publish(self, body, exchange_name, routing_key, headers, message_id):
        self.tag += 1
        self.unconfirmed.add(self.tag)
        self.channel._basic_publish(
            amqp.Message(body.encode("utf-8"), content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2, message_id=message_id, application_headers=headers),
            exchange=exchange_name, routing_key=routing_key)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the broker did not confirm {len(self.unconfirmed)} events in {timeout}s")
            self.channel.connection.drain_events(timeout=remaining)
        if self.nacked:
            self.nacked = 0
            raise RuntimeError("the broker refused (nacked) events of the batch")


def _confirmed_publisher(producer):
    publisher = producer.__dict__.get("_palace_confirmed")
    if publisher is None:
        publisher = producer.__dict__["_palace_confirmed"] = ConfirmedPublisher(producer.connection)
    return publisher
