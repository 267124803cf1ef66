"""Dead letters: the events a handler gave up on, with the reason, and their replay after a fix;
and the events no queue was bound for."""
import json
from contextlib import contextmanager

from kombu import Connection, Queue

from ops import topology
from services.common import config
from services.common.events import exchange, unrouted_queue
from services.common.handlers import ATTEMPT, ORIGIN, REASON, dead_queue_name


def dead_queues():
    for service in topology.SERVICE_CLASSES:
        for queue, _ in topology.handler_queues(topology.service_class(service)):
            yield queue.name, dead_queue_name(queue.name)


def counts():
    """{dead-letter queue: messages waiting} for every handler."""
    with Connection(config.amqp_uri()) as conn:
        channel = conn.default_channel
        found = {dead: Queue(dead, durable=True)(channel).queue_declare(passive=True).message_count
                 for _, dead in dead_queues()}
        unrouted = unrouted_queue()
        found[unrouted.name] = unrouted(channel).queue_declare(passive=True).message_count
        return found


def peek(dead, limit=20):
    """The first messages of one dead-letter queue, left in place."""
    found = []
    with Connection(config.amqp_uri()) as conn:
        queue = Queue(dead, durable=True)(conn.default_channel)
        messages = []
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                break
            messages.append(message)
            found.append({"reason": message.headers.get(REASON), "attempts": message.headers.get(ATTEMPT),
                          "body": _text(message.body)})
        for message in messages:
            message.requeue()
    return found


def _text(body):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def replay(only=None, progress=None):
    """Send every dead letter back to the queue it came from, with its attempts reset.
    `progress(total)` is a context giving a step per message (see ops/progress.py)."""
    replayed = {}
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        channel = conn.default_channel
        producer = conn.Producer(channel)
        chosen = [(origin, Queue(dead, durable=True)(channel)) for origin, dead in dead_queues()
                  if not only or only in (origin, dead)]
        # only what was there: a replay that fails again waits for the next run
        waiting = [(origin, queue, queue.queue_declare(passive=True).message_count) for origin, queue in chosen]
        with (progress or _quiet)(sum(n for _, _, n in waiting)) as step:
            for origin, queue, count in waiting:
                for _ in range(count):
                    message = queue.get(no_ack=False)
                    if message is None:
                        break
                    headers = {k: v for k, v in (message.headers or {}).items()
                               if k not in (ATTEMPT, REASON, ORIGIN)}
                    producer.publish(message.body, exchange="", routing_key=origin, headers=headers,
                                     content_type=message.content_type,
                                     content_encoding=message.content_encoding, delivery_mode=2, mandatory=True)
                    message.ack()
                    replayed[queue.name] = replayed.get(queue.name, 0) + 1
                    step()
    return replayed


@contextmanager
def _quiet(_total):
    yield lambda n=1: None


def replay_unrouted():
    """Publish again the events no queue was bound for (say, before a new consumer existed)."""
    replayed = 0
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        channel = conn.default_channel
        producer = conn.Producer(channel)
        queue = unrouted_queue()(channel)
        for _ in range(queue.queue_declare(passive=True).message_count):
            message = queue.get(no_ack=False)
            if message is None:
                break
            service, _, event_type = json.loads(message.body)["event_type"].partition(".")
            producer.publish(message.body, exchange=exchange(service), routing_key=event_type,
                             headers=message.headers, content_type=message.content_type,
                             content_encoding=message.content_encoding, delivery_mode=2)
            message.ack()
            replayed += 1
    return replayed


def purge(dead):
    """Drop every letter of one dead-letter queue (after ops decided they are garbage)."""
    with Connection(config.amqp_uri()) as conn:
        return Queue(dead, durable=True)(conn.default_channel).purge() or 0
