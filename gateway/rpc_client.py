"""The gateway's RPC client: nameko's wire format on one AMQP connection per gateway process.

nameko's standalone proxy cost every gateway thread a connection of its own for replies, and every
call a kombu Connection built to find its producer pool, a publisher confirm round trip and nameko's
worker-context machinery. The services do not care who asks: a request is a JSON message
{"args", "kwargs"} on the `nameko-rpc` exchange with routing key `<service>.<method>`, `reply_to`
(the routing key of the caller's reply queue), a `correlation_id`, and the context as `nameko.<name>`
headers (here the signed caller, services/common/trust.py); the answer is {"result", "error"} with
the same correlation id, an error being nameko's serialised exception (PalaceError crosses typed).

So each process keeps one connection, one reply queue and one thread that alone reads the socket:
it hands each reply to the thread waiting on its correlation id. Calling threads only write; py-amqp
writes each frame whole under its own lock. Every wait is bounded: a reply that does not come within
the timeout is NoAnswer (a late one is dropped), a lost connection fails the calls waiting on it at
once, and the next call connects afresh (all nodes of a cluster's URI list in turn, each within
SOCKET_SECONDS, and not again for RETRY_SECONDS after a failure, so that calls meanwhile fail fast).

Requests are transient and unconfirmed: a request waits seconds at most for its answer, and after a
broker restart the caller has had its 503 and retries with its Idempotency-Key. A request no queue
takes (a service that is not running) comes back to the reader (mandatory), and fails its call with
UnknownService at once."""
import logging
import os
import socket
import sys
import threading
import time
import uuid

import kombu.serialization
from amqp.exceptions import AMQPError
from kombu import Connection, Exchange, Queue
from kombu.exceptions import KombuError
from nameko.exceptions import UnknownService, deserialize

log = logging.getLogger("palace.gateway.rpc")

EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)  # nameko's, declared the same way
# the reply queue's name as nameko's standalone proxy names it: the broker users allow this one
# (ops/rabbitmq/definitions.json)
REPLY_QUEUE = "rpc.reply-standalone_rpc_proxy-{}"
HEADER = "nameko.{}"  # nameko's context headers
NON_PERSISTENT = 1
CONNECTION_NAME = "palace gateway rpc, pid {}, replies {}"  # how the broker's management lists it
# connecting, and any one read or write of the socket: a read that times out only wakes the idle
# reader to send its heartbeat, a write that does is a lost connection
SOCKET_SECONDS = 2.0
RETRY_SECONDS = 0.5
HEARTBEAT = 10  # a broker gone without closing the socket is noticed within two of these
CHUNK = 65536  # bytes the reader asks of the socket at once (py-amqp asks for each part of a frame)
BROKER_LOST = (OSError, AMQPError, KombuError)

# kombu tries to import the librabbitmq C client for every Connection it makes; the import fails and
# walks sys.path each time. A None entry fails it at once.
sys.modules.setdefault("librabbitmq", None)


class NoAnswer(Exception):
    """The service did not answer within the timeout."""


class BrokerLost(Exception):
    """The broker could not be reached, or the connection went while the call waited."""


class Reply:
    """One call's answer, as the reader thread hands it over."""

    __slots__ = ("correlation_id", "service", "_link", "_done", "_body", "_error")

    def __init__(self, link, correlation_id, service):
        self.correlation_id, self.service, self._link = correlation_id, service, link
        self._done, self._body, self._error = threading.Event(), None, None

    def settle(self, body=None, error=None):
        self._body, self._error = body, error
        self._done.set()

    def result(self, deadline):
        """The result, the service's error raised as nameko raises it, NoAnswer by `deadline`
        (time.monotonic()), or BrokerLost."""
        if not self._done.wait(max(0.0, deadline - time.monotonic())):
            self._link.pending.pop(self.correlation_id, None)  # its late answer is dropped
            raise NoAnswer(self.service)
        if self._error is not None:
            raise self._error
        error = self._body.get("error")
        if error:
            raise deserialize(error)
        return self._body["result"]

    def forget(self):
        """A reply no one will wait for (its batch failed): its answer is dropped when it comes."""
        self._link.pending.pop(self.correlation_id, None)


class _Link:
    """One connection with its reply queue, request channel and reader thread; once lost, it is
    replaced, never repaired."""

    def __init__(self, uri):
        self.pending = {}  # correlation id -> Reply
        self.alive, self.blocked = True, None
        self.reply_to = str(uuid.uuid4())
        # a broker short of memory or disk stops reading what we publish (`connection.blocked`): calls
        # are refused at once meanwhile, never left to fill the socket and hang the threads writing it
        # the socket's own timeouts (SO_RCVTIMEO, SO_SNDTIMEO), not Python's: py-amqp's read with a
        # timeout sets and resets Python's on every frame, two syscalls a frame and six a reply
        self.connection = Connection(uri, connect_timeout=SOCKET_SECONDS, heartbeat=HEARTBEAT, transport_options={
            "client_properties": {"connection_name": CONNECTION_NAME.format(os.getpid(), self.reply_to)},
            "on_blocked": self._on_blocked, "on_unblocked": self._on_unblocked,
            "read_timeout": SOCKET_SECONDS, "write_timeout": SOCKET_SECONDS})
        try:
            self._open()
        except BaseException:
            self.connection.collect()
            raise
        self.pid = os.getpid()
        threading.Thread(target=self._read, name="rpc-replies", daemon=True).start()

    def _open(self):
        # every node of a cluster's list once (kombu moves to the next on each failure), no sleeping
        self.connection.ensure_connection(max_retries=max(1, len(self.connection.alt)), interval_start=0,
                                          interval_step=0, interval_max=0, timeout=SOCKET_SECONDS * 4)
        transport = self.connection.connection.transport
        if hasattr(transport, "_quick_recv"):  # plain TCP: one recv takes what has come, often whole replies
            recv = transport.sock.recv
            transport._quick_recv = lambda size: recv(max(size, CHUNK))
        # py-amqp reads the socket before each publish on a connection that accepts `connection.blocked`
        # notices; here only the reader may read it. The notices still come, to the reader.
        self.connection.connection.client_properties.get("capabilities", {})["connection.blocked"] = False
        # transient and exclusive: it goes with this connection (or with its node, on a cluster)
        queue = Queue(REPLY_QUEUE.format(self.reply_to), exchange=EXCHANGE, routing_key=self.reply_to,
                      durable=False, exclusive=True, auto_delete=True)
        self.consumer = self.connection.Consumer(queue, callbacks=[self._on_reply], no_ack=True, accept=["json"])
        self.consumer.consume()
        self.requests = self.connection.channel()
        self.requests.events["basic_return"].add(self._on_return)

    def publish(self, service, method, args, kwargs, headers, correlation_id):
        content_type, encoding, body = kombu.serialization.dumps({"args": args, "kwargs": kwargs}, "json")
        message = self.requests.prepare_message(body, 0, content_type, encoding, headers, {
            "delivery_mode": NON_PERSISTENT, "reply_to": self.reply_to, "correlation_id": correlation_id})
        self.requests.basic_publish(message, exchange=EXCHANGE.name, routing_key=f"{service}.{method}",
                                    mandatory=True)

    def _on_blocked(self, reason):
        log.warning("the broker blocks publishing: %s", reason)
        self.blocked = reason or "blocked"

    def _on_unblocked(self):
        self.blocked = None

    def _on_reply(self, body, message):
        reply = self.pending.pop(message.properties.get("correlation_id"), None)
        if reply is not None:  # else it came after its caller stopped waiting
            reply.settle(body=body)

    def _on_return(self, exc, exchange, routing_key, message):
        reply = self.pending.pop(message.properties.get("correlation_id"), None)
        if reply is not None:
            reply.settle(error=UnknownService(reply.service))

    def _read(self):
        checked = time.monotonic()
        try:
            while self.alive:
                try:
                    self.connection.drain_events()  # wakes after SOCKET_SECONDS with nothing to read
                except socket.timeout:
                    pass
                if time.monotonic() - checked >= 1:  # not after every reply: it costs a little
                    checked = time.monotonic()
                    self.connection.heartbeat_check()
        except BROKER_LOST as exc:  # also a channel the broker closed: start afresh all the same
            log.warning("the RPC connection to the broker is lost: %s", exc)
            self.lose(BrokerLost(str(exc)))
        except BaseException:
            log.exception("the RPC reply reader stopped")
            self.lose(BrokerLost("the reply reader stopped"))
            raise
        finally:
            self.connection.collect()  # the socket, without a closing handshake nobody would read

    def lose(self, error):
        """Fail every call waiting on this link now: none of their answers can come any more."""
        self.alive = False
        for correlation_id in list(self.pending):  # the reader and a writer may both be here
            reply = self.pending.pop(correlation_id, None)
            if reply is not None:
                reply.settle(error=error)


class RpcClient:
    """Thread-safe: one per process, shared by every gateway thread."""

    def __init__(self, uri, timeout):
        self.uri, self.timeout = uri, timeout
        self._link, self._lock, self._retry_at = None, threading.Lock(), 0.0

    def call(self, service, method, args=(), kwargs=None, context=None):
        reply = self.send(service, method, args, kwargs, context)
        return reply.result(time.monotonic() + self.timeout)

    def send(self, service, method, args=(), kwargs=None, context=None):
        """Publish the request and return its Reply; `context` becomes its nameko context headers."""
        link = self._connected()
        if link.blocked:
            raise BrokerLost(f"the broker is not taking messages: {link.blocked}")
        correlation_id = str(uuid.uuid4())
        reply = Reply(link, correlation_id, service)
        link.pending[correlation_id] = reply  # before publishing: the answer may come before we return
        headers = {HEADER.format(name): value for name, value in (context or {}).items() if value is not None}
        try:
            link.publish(service, method, list(args), kwargs or {}, headers, correlation_id)
        except BROKER_LOST as exc:
            link.pending.pop(correlation_id, None)
            link.lose(BrokerLost(str(exc)))
            raise BrokerLost(str(exc)) from None
        if not link.alive and link.pending.pop(correlation_id, None):  # lost as we published it
            reply.settle(error=BrokerLost("the broker connection was lost"))
        return reply

    def _connected(self):
        link = self._link
        if link is not None and link.alive and link.pid == os.getpid():
            return link
        with self._lock:  # one thread connects; the others wait for it, then use its link
            link = self._link
            if link is not None and link.alive and link.pid == os.getpid():
                return link
            if time.monotonic() < self._retry_at:
                raise BrokerLost("the broker was not reachable a moment ago")
            try:
                self._link = _Link(self.uri)
            except BROKER_LOST as exc:
                self._retry_at = time.monotonic() + RETRY_SECONDS
                raise BrokerLost(str(exc)) from None
            return self._link
