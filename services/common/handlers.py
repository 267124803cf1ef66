"""The reliable event handler.

nameko acks an event whose handler raised, and the event is lost. This handler instead:
- records `(consumer, event_id)` in the same transaction as its effect, and skips an event it
  has already handled, so a redelivery has no second effect;
- on error, republishes the message to a delay queue that dead-letters it back after a pause
  (one queue per delay, so a long pause never holds up a short one), and after the last retry,
  or at once for a malformed event, to the handler's dead-letter queue with the reason;
- acks the original only after that republish was confirmed, so a crash loses nothing.

Known limit: RabbitMQ dead-letters an expired message from a classic delay queue at most once,
so a broker crash at that very moment can drop that retry. With PALACE_QUORUM_QUEUES (a cluster)
every one of these queues is a quorum queue, and the delay queues dead-letter at least once.
"""
import functools
import logging

import eventlet
from kombu import Connection, Queue, binding
from marshmallow import ValidationError
from nameko.events import EventHandler
from nameko.messaging import Consumer

from services.common import config
from services.common.errors import Invalid
from services.common.events import exchange, read_envelope

log = logging.getLogger(__name__)

ATTEMPT = "x-palace-attempt"
REASON = "x-palace-reason"
ORIGIN = "x-palace-queue"
POISON = (ValidationError, Invalid, KeyError, TypeError)  # retrying cannot fix these
REQUEUE_PAUSE = 1.0


def retry_queue_name(queue_name, delay):
    return f"{queue_name}.retry.{int(delay * 1000)}ms"


def dead_queue_name(queue_name):
    return f"{queue_name}.dead"


def kept(arguments=None):
    """A durable queue's arguments: with PALACE_QUORUM_QUEUES, those of a quorum queue, which lives
    on every node of the cluster and survives the loss of one."""
    arguments = dict(arguments or {})
    if config.quorum_queues():
        arguments["x-queue-type"] = "quorum"
    return arguments


def delay_arguments(queue_name, delay):
    """A delay queue: its messages expire after `delay` and go back to the handler's queue. On a
    quorum queue they go back at least once (a classic queue's dead-lettering is at most once),
    which needs the queue to refuse new messages when full rather than drop its oldest."""
    arguments = {"x-message-ttl": int(delay * 1000), "x-dead-letter-exchange": "",
                 "x-dead-letter-routing-key": queue_name}
    if config.quorum_queues():
        arguments.update({"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
    return kept(arguments)


def side_queues(queue_name, delays):
    """The delay queues and the dead-letter queue that belong to one handler queue."""
    retries = [Queue(retry_queue_name(queue_name, d), durable=True, queue_arguments=delay_arguments(queue_name, d))
               for d in delays]
    return retries + [Queue(dead_queue_name(queue_name), durable=True, queue_arguments=kept())]


def event_types_of(event_type):
    """The event types a handler takes: one name, or a tuple/list/set of names."""
    if isinstance(event_type, str):
        return (event_type,)
    return tuple(sorted(set(event_type)))


def handler_queue(source_service, event_type, service, method_name):
    """The durable queue of one handler, named as nameko names a service-pool handler's queue.

    A handler of several event types of one source gets one queue bound once per type,
    named `evt-<source>--<service>.<method>` (a single type keeps nameko's name)."""
    if isinstance(event_type, str):
        return Queue(f"evt-{source_service}-{event_type}--{service}.{method_name}",
                     exchange=exchange(source_service), routing_key=event_type, durable=True, auto_delete=False,
                     queue_arguments=kept())
    source = exchange(source_service)
    return Queue(f"evt-{source_service}--{service}.{method_name}", durable=True, auto_delete=False,
                 bindings=[binding(source, routing_key=t) for t in event_types_of(event_type)],
                 queue_arguments=kept())


class ReliableEventHandler(EventHandler):
    def setup(self):
        # not EventHandler.setup: it would declare the exchange without its alternate exchange
        self.queue = handler_queue(self.source_service, self.event_type, self.container.service_name,
                                   self.method_name)
        Consumer.setup(self)
        self.delays = config.retry_delays()
        self.side_queues = side_queues(self.queue.name, self.delays)
        self.amqp = Connection(config.amqp_uri(), transport_options={"confirm_publish": True})

    def start(self):
        with self.amqp.clone() as conn:
            for queue in self.side_queues:
                queue(conn.default_channel).declare()
        super().start()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        try:
            self._divert(message, exc_info[1])
        except Exception:
            log.exception("could not divert failed event from %s; requeueing it", self.queue.name)
            eventlet.sleep(REQUEUE_PAUSE)  # not a hot loop while the broker is in trouble
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, exc_info

    def _divert(self, message, error):
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT, 0))
        if isinstance(error, POISON) or attempt >= len(self.delays):
            target = dead_queue_name(self.queue.name)
            headers[REASON] = f"{type(error).__name__}: {error}"[:1000]
            headers[ORIGIN] = self.queue.name
            log.error("event dead-lettered to %s after %d attempts: %s", target, attempt + 1, error)
        else:
            target = retry_queue_name(self.queue.name, self.delays[attempt])
            log.warning("event failed (attempt %d), retrying via %s: %s", attempt + 1, target, error)
        headers[ATTEMPT] = attempt + 1
        # failures are rare: a connection of its own each time, so no pool can run dry or go stale;
        # mandatory, so a missing delay or dead-letter queue is an error here, not a silent drop
        with self.amqp.clone() as conn:
            conn.Producer().publish(
                message.body, exchange="", routing_key=target, headers=headers,
                content_type=message.content_type, content_encoding=message.content_encoding,
                delivery_mode=2, mandatory=True, retry=False, confirm_timeout=10,
            )


def reliable_handler(source_service, event_type):
    """Decorate `method(self, conn, event)`: it runs once per event, inside a transaction of
    `self.db` that also records the event as handled. `event` is the validated envelope.

    `event_type` is one event type, or several of the same source (a tuple or list): then one
    queue (with its retry and dead-letter queues) takes them all, and an event of another type
    arriving there (say, after a binding was removed) is dead-lettered, not handled."""
    if not isinstance(event_type, str):
        event_type = event_types_of(event_type)
        if not event_type:
            raise ValueError("reliable_handler needs at least one event type")
    # only a multi-type queue checks the envelope's type: a single-type handler behaves as before
    accepted = None if isinstance(event_type, str) else {f"{source_service}.{t}" for t in event_type}

    def decorate(method):
        consumer = method.__qualname__

        @functools.wraps(method)
        def handle(self, body):
            event = read_envelope(body, accepted)
            with self.db.transaction() as conn:
                first = conn.execute(
                    "INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING", (consumer, event["event_id"]),
                ).rowcount
                if not first:
                    return None
                return method(self, conn, event)

        return ReliableEventHandler.decorator(source_service, event_type)(handle)

    return decorate
