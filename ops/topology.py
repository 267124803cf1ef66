"""The broker queues every reliable handler consumes from, declared before any service starts.

RabbitMQ drops an event published to an exchange with no queue bound, so the migrate step
declares every handler's queue (and its delay and dead-letter queues) up front: an event
emitted before its consumer ever ran still waits for it. It also retires the queues of handlers
that are gone (RETIRED), handing what waits in them to the handler that took their events over."""
import importlib
import inspect

from amqp.exceptions import NotFound
from kombu import Connection, Queue
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common import config
from services.common.events import declare_exchange
from services.common.handlers import ORIGIN, ReliableEventHandler, dead_queue_name, handler_queue, side_queues

SERVICE_CLASSES = {
    "enrolment": "services.enrolment.service:EnrolmentService",
    "venues": "services.venues.service:VenuesService",
    "welfare": "services.welfare.service:WelfareService",
    "notify": "services.notify.service:NotifyService",
    "gateway": "gateway.feed:GatewayFeed",
}


def service_class(service):
    module, _, name = SERVICE_CLASSES[service].partition(":")
    return getattr(importlib.import_module(module), name)


def handler_queues(cls):
    """(queue, side queues) for each reliable handler of a service class."""
    for method_name, method in inspect.getmembers(cls, inspect.isfunction):
        for ep in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(ep, ReliableEventHandler):
                queue = handler_queue(ep.source_service, ep.event_type, cls.name, method_name)
                yield queue, side_queues(queue.name, config.retry_delays())


def declare_all():
    declared = []
    with Connection(config.amqp_uri()) as conn:
        channel = conn.default_channel
        for service in SERVICE_CLASSES:
            declare_exchange(channel, service)
        for service in SERVICE_CLASSES:
            for queue, sides in handler_queues(service_class(service)):
                for q in [queue, *sides]:
                    q(channel).declare()
                    declared.append(q.name)
    return declared


# Handler queues of handlers that were merged into another (old queue, the queue that takes its
# events now). Left alone, an upgraded broker would keep the old queue bound and filling for ever.
RETIRED = [
    # notify's first two handlers, each on a queue of its own until every enrolment event shared one
    (handler_queue("enrolment", "enrolment_confirmed", "notify", "on_enrolment_confirmed"),
     "evt-enrolment--notify.on_enrolment"),
    (handler_queue("enrolment", "enrolment_waitlisted", "notify", "on_enrolment_waitlisted"),
     "evt-enrolment--notify.on_enrolment"),
]


def retire_all():
    """Unbind each retired queue, move what waits in it and its side queues to its successor's
    (the retries straight to the successor, the dead letters to its dead-letter queue) and delete
    them. Run after declare_all, so the successor is bound before the old queue lets go."""
    moved = {}
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        for old, successor in RETIRED:
            if _exists(conn, old.name):
                moved[old.name] = _retire(conn, old, successor)
    return moved


def _exists(conn, name):
    with conn.channel() as channel:  # a failed passive declare closes its channel
        try:
            channel.queue_declare(name, passive=True)
        except NotFound:
            return False
    return True


def _retire(conn, old, successor):
    channel = conn.default_channel
    old(channel).unbind_from(old.exchange, old.routing_key)
    producer, moved = conn.Producer(channel), 0
    # the delay queues first: until they are gone they dead-letter into the old queue
    steps = [(q, successor) for q in side_queues(old.name, config.retry_delays())[:-1]]
    steps += [(old, successor), (Queue(dead_queue_name(old.name), durable=True), dead_queue_name(successor))]
    for queue, target in steps:
        if not _exists(conn, queue.name):
            continue
        bound = queue(channel)
        while (message := bound.get(no_ack=False)) is not None:
            headers = dict(message.headers or {})
            if ORIGIN in headers:
                headers[ORIGIN] = successor
            producer.publish(message.body, exchange="", routing_key=target, headers=headers,
                             content_type=message.content_type, content_encoding=message.content_encoding,
                             delivery_mode=2, mandatory=True)
            message.ack()
            moved += 1
        bound.delete(if_empty=True)
    return moved
