"""Watching and feeding the broker from a test."""
import json
import time

from kombu import Connection, Queue

from services.common import config
from services.common.events import envelope, exchange


class Watch:
    """A queue of the test's own, bound to a service's events exchange."""

    def __init__(self, service, routing_key="#"):
        self.conn = Connection(config.amqp_uri())
        self.queue = Queue(f"test-watch-{service}-{time.monotonic_ns()}", exchange=exchange(service),
                           routing_key=routing_key, exclusive=True)(self.conn.default_channel)
        self.queue.declare()

    def drain(self, wait=0.5, at_most=60):
        """Every message that arrives until none has come for `wait` seconds (or `at_most` seconds
        have gone by: a stream that never stops is returned as it is, for the test to judge)."""
        bodies, quiet_since = [], time.monotonic()
        deadline = quiet_since + at_most
        while time.monotonic() - quiet_since < wait and time.monotonic() < deadline:
            message = self.queue.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            bodies.append(json.loads(message.body))
            quiet_since = time.monotonic()
        return bodies

    def close(self):
        self.conn.release()


def publish(service, event_type, payload, event=None, times=1, raw=None):
    """Publish an event as a relay would (or `raw` bytes), `times` times; returns the envelope."""
    event = event or envelope(service, event_type, payload)
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for _ in range(times):
            producer.publish(raw if raw is not None else json.dumps(event), exchange=exchange(service),
                             routing_key=event_type, content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2)
    return event


def message_count(queue_name):
    with Connection(config.amqp_uri()) as conn:
        return Queue(queue_name, durable=True)(conn.default_channel).queue_declare(passive=True).message_count
