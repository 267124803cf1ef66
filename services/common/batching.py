"""The reliable handler, taking the messages waiting on its queue in groups.

At 1,000 events/s, one nameko worker and one transaction per event (seven round trips to
PostgreSQL) is more than a consumer's share of a 2-core machine (notify's inbox, the gateway's
catalog). `BatchEventHandler` is a `ReliableEventHandler` (same queue, bindings, retry and dead-letter queues, so `ops/topology.py`
declares it and `palace dead-letters` replays it), but it consumes its queue itself: it takes every
message waiting (up to MAX_BATCH), runs one nameko worker for the group, which handles the events
in one transaction that also records each `(consumer, event_id)` in processed_events exactly as
`reliable_handler` does, so a redelivered event has no second effect. If that transaction fails,
each event is tried alone; then each message is acknowledged, or sent to its retry or dead-letter
queue with the reason, one by one, as the reliable handler does."""
import functools
import logging
import socket
import sys
import time

import eventlet
from eventlet.event import Event
from kombu import Connection
from kombu import Consumer as KombuConsumer

from services.common import config
from services.common.events import read_envelope
from services.common.handlers import (
    REQUEUE_PAUSE,
    ReliableEventHandler,
    event_types_of,
    handler_queue,
    side_queues,
)
from services.common.loops import ReconnectingLoop

log = logging.getLogger(__name__)

MAX_BATCH = 500
HEARTBEAT = 10


class BatchEventHandler(ReconnectingLoop, ReliableEventHandler):
    def __init__(self, source_service, event_type, linger=0.0, **kwargs):
        """`linger`: seconds to wait for more events after the first of a group; a group of twenty
        costs about what a group of one does, so a consumer that can wait a moment lingers."""
        super().__init__(source_service, event_type, **kwargs)
        self.linger = linger

    def setup(self):
        # not Consumer.setup: this entrypoint is not one of nameko's QueueConsumer's providers
        self.queue = handler_queue(self.source_service, self.event_type, self.container.service_name,
                                   self.method_name)
        self.delays = config.retry_delays()
        self.side_queues = side_queues(self.queue.name, self.delays)
        self.amqp = Connection(config.amqp_uri(), transport_options={"confirm_publish": True})

    def start(self):
        with self.amqp.clone() as conn:
            for queue in [self.queue, *self.side_queues]:
                queue(conn.default_channel).declare()
        self.start_loop(f"batch-{self.queue.name}")

    def loop_name(self):
        return f"batch consumer of {self.queue.name}"

    def session(self):
        """Consume until the broker goes away; the unacknowledged messages return to the queue."""
        with Connection(config.amqp_uri(), heartbeat=HEARTBEAT) as conn:
            channel = conn.channel()
            channel.basic_qos(0, MAX_BATCH * 2, False)
            waiting = []
            with KombuConsumer(channel, queues=[self.queue], on_message=waiting.append, no_ack=False):
                self.connected()
                while self.running:
                    try:
                        conn.drain_events(timeout=1)
                    except socket.timeout:
                        conn.heartbeat_check()
                        continue
                    until = time.monotonic() + self.linger
                    while len(waiting) < MAX_BATCH:  # whatever else arrives meanwhile
                        try:
                            conn.drain_events(timeout=max(0.0, until - time.monotonic()))
                        except socket.timeout:
                            break
                    batch, waiting[:] = list(waiting), []
                    self._handle_batch(batch)
                    conn.heartbeat_check()

    def _handle_batch(self, messages):
        done = Event()

        def finished(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, ([m.body for m in messages],), {}, context_data={},
                                    handle_result=finished)
        outcomes, exc_info = done.wait()
        if exc_info is not None:  # the worker itself failed: every message retries
            outcomes = [exc_info[1]] * len(messages)
        if not any(outcomes):
            # one frame for the group: everything before it on this channel is already settled
            messages[-1].ack(multiple=True)
            return
        for message, error in zip(messages, outcomes):
            if error is None:
                message.ack()
                continue
            try:
                self._divert(message, error)
            except Exception:
                log.exception("could not divert failed event from %s; requeueing it", self.queue.name)
                eventlet.sleep(REQUEUE_PAUSE)
                message.requeue()
            else:
                message.ack()


def reliable_batch_handler(source_service, event_type, check=None, linger=0.0):
    """Decorate `method(self, conn, events)` of a service with a `db` dependency: it runs for groups
    of new events inside a transaction that records them as handled. `check(event)` runs first for
    each event alone: raise there to dead-letter a malformed one without touching the others.
    `linger`: see BatchEventHandler."""
    accepted = {f"{source_service}.{t}" for t in event_types_of(event_type)}

    def decorate(method):
        consumer = method.__qualname__

        def parse(body):
            event = read_envelope(body, accepted)
            if check is not None:
                check(event)
            return event

        def run(self, items):
            """One transaction for (index, event) items; the events seen before are skipped."""
            keys = sorted({(consumer, str(e["event_id"])) for _, e in items})
            with self.db.transaction() as conn:
                new = {str(r["event_id"]) for r in conn.execute(
                    "INSERT INTO processed_events (consumer, event_id)"
                    " SELECT * FROM unnest(%s::text[], %s::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id",
                    ([k[0] for k in keys], [k[1] for k in keys])).fetchall()}
                fresh, seen = [], set()
                for _, event in items:
                    key = str(event["event_id"])
                    if key in new and key not in seen:
                        seen.add(key)
                        fresh.append(event)
                if fresh:
                    method(self, conn, fresh)

        @functools.wraps(method)
        def handle(self, bodies):
            outcomes, items = [None] * len(bodies), []
            for i, body in enumerate(bodies):
                try:
                    items.append((i, parse(body)))
                except Exception as exc:
                    outcomes[i] = exc
            if not items:
                return outcomes
            try:
                run(self, items)
            except Exception:
                if len(items) == 1:
                    outcomes[items[0][0]] = sys.exc_info()[1]
                    return outcomes
                log.warning("%d events failed together; handling each alone", len(items), exc_info=True)
                for i, event in items:
                    try:
                        run(self, [(i, event)])
                    except Exception as exc:
                        outcomes[i] = exc
            return outcomes

        return BatchEventHandler.decorator(source_service, event_type, linger=linger)(handle)

    return decorate
