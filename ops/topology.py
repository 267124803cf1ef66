"""The broker queues every reliable handler consumes from, declared before any service starts.

RabbitMQ drops an event published to an exchange with no queue bound, so the migrate step
declares every handler's queue (and its delay and dead-letter queues) up front: an event
emitted before its consumer ever ran still waits for it."""
import importlib
import inspect

from kombu import Connection
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common import config
from services.common.events import declare_exchange
from services.common.handlers import ReliableEventHandler, handler_queue, side_queues

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
