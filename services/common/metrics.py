"""Prometheus metrics of a nameko service, served over HTTP on PALACE_METRICS_PORT (unset: none).

Counted as they happen: every RPC and event worker (by entrypoint and outcome, with its time),
and notify's deliveries (by channel: sent, retried, failed).
Read when scraped: the outbox backlog and its age, and the depth of the service's handler and
dead-letter queues."""
import logging
import time

import psycopg
from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from services.common import config
from services.common.errors import EXPECTED
from services.common.handlers import ReliableEventHandler, dead_queue_name

log = logging.getLogger(__name__)

WORKERS = Histogram("palace_worker_seconds", "Time an RPC or event worker took, by outcome",
                    ["service", "entrypoint", "outcome"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

DELIVERIES = Counter("palace_notify_deliveries", "Notification deliveries by channel and outcome: sent, retried"
                     " (failed, another attempt after backoff) or failed (for good; the next channel takes over)",
                     ["channel", "outcome"])


def port():
    return int(config.env("PALACE_METRICS_PORT", "0"))


class Metrics(DependencyProvider):
    def setup(self):
        self.service = self.container.service_name
        self._started = {}

    def start(self):
        if not port():
            return
        REGISTRY.register(Backlog(self.service, self._queue_names()))
        start_http_server(port(), addr=config.env("PALACE_METRICS_HOST", "127.0.0.1"))
        log.info("metrics on :%s/metrics", port())

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        if exc_info is None:
            outcome = "ok"
        else:
            outcome = "refused" if isinstance(exc_info[1], EXPECTED) else "failed"
        WORKERS.labels(self.service, worker_ctx.entrypoint.method_name, outcome).observe(
            time.perf_counter() - started)

    def _queue_names(self):
        queues = []
        for ext in self.container.entrypoints:
            if isinstance(ext, ReliableEventHandler):
                queues += [ext.queue.name, dead_queue_name(ext.queue.name)]
        return queues


class Backlog:
    """Gauges read at scrape time from the service's database and the broker."""

    def __init__(self, service, queues):
        self.service, self.queues = service, queues

    def collect(self):
        unsent = GaugeMetricFamily("palace_outbox_unsent", "Events written but not yet published", labels=["service"])
        lag = GaugeMetricFamily("palace_outbox_lag_seconds", "Age of the oldest unpublished event",
                                labels=["service"])
        depth = GaugeMetricFamily("palace_queue_messages", "Messages waiting in a handler or dead-letter queue",
                                  labels=["service", "queue"])
        try:
            with psycopg.connect(config.db_url(self.service), connect_timeout=2) as conn:
                count, age = conn.execute("SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                                          " FROM outbox WHERE sent_at IS NULL").fetchone()
            unsent.add_metric([self.service], count)
            lag.add_metric([self.service], float(age))
        except psycopg.Error as exc:
            log.warning("metrics: outbox not readable: %s", exc)
        try:
            with Connection(config.amqp_uri(), connect_timeout=2) as amqp:
                channel = amqp.default_channel
                for queue in self.queues:
                    depth.add_metric([self.service, queue], channel.queue_declare(queue, passive=True).message_count)
        except Exception as exc:  # a queue not declared yet, or the broker away: report what we have
            log.warning("metrics: queue depth not readable: %s", exc)
        yield from (unsent, lag, depth)

