"""Prometheus metrics of a nameko service, served over HTTP on PALACE_METRICS_PORT (unset: none).

Counted as they happen: every RPC and event worker (by entrypoint and outcome, with its time),
and notify's deliveries (by channel: sent, retried, failed).
Refreshed on a timer (PALACE_METRICS_REFRESH seconds, 5), not per scrape: the outbox backlog and
the age of its oldest unsent event, read through the service's own pool. A scrape
used to open a PostgreSQL and an AMQP connection of its own, so the more often (and the more
Prometheus servers) scraped, the more it cost. Queue depths are the broker's own metrics now
(RabbitMQ's rabbitmq_prometheus plugin, ops/monitoring/prometheus.yml)."""
import logging
import time

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from services.common import config
from services.common.db import Database
from services.common.errors import EXPECTED

log = logging.getLogger(__name__)

WORKERS = Histogram("palace_worker_seconds", "Time an RPC or event worker took, by outcome",
                    ["service", "entrypoint", "outcome"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

DELIVERIES = Counter("palace_notify_deliveries", "Notification deliveries by channel and outcome: sent, retried"
                     " (failed, another attempt after backoff) or failed (for good; the next channel takes over)",
                     ["channel", "outcome"])


OUTBOX_UNSENT = Gauge("palace_outbox_unsent", "Events written but not yet published", ["service"])
OUTBOX_LAG = Gauge("palace_outbox_lag_seconds", "Age of the oldest unpublished event (0: none waiting)", ["service"])
OUTBOX_CHECKED = Gauge("palace_outbox_checked_timestamp_seconds", "When the outbox figures were last read",
                       ["service"])


def port():
    return int(config.env("PALACE_METRICS_PORT"))


def refresh_interval():
    return float(config.env("PALACE_METRICS_REFRESH"))


class Metrics(DependencyProvider):
    def setup(self):
        self.service = self.container.service_name
        self._started = {}
        self._refresher = None

    def start(self):
        if not port():
            return
        self._refresher = OutboxGauges(self.service, self._database())
        self.container.spawn_managed_thread(self._refresher.run, identifier="metrics-refresh")
        start_http_server(port(), addr=config.env("PALACE_METRICS_HOST"))
        log.info("metrics on :%s/metrics", port())

    def stop(self):
        if self._refresher is not None:
            self._refresher.stop()

    kill = stop

    def _database(self):
        """The service's own pool (its Database dependency) for the outbox it relays."""
        found = [d.db for d in self.container.dependencies
                 if isinstance(d, Database) and (d.part or self.service) == self.service]
        if not found:
            raise RuntimeError(f"{self.service} has metrics but no Database of its own to read its outbox from")
        return found[0]

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



class OutboxGauges:
    """Reads the outbox backlog every refresh_interval() seconds through the service's own pool
    (one connection borrowed for one statement), so a scrape costs the database nothing."""

    QUERY = ("SELECT count(*) AS unsent, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS lag"
             " FROM outbox WHERE sent_at IS NULL")

    def __init__(self, service, db):
        self.service, self.db, self.running = service, db, True

    def run(self):
        while self.running:
            time.sleep(refresh_interval())  # green under nameko: the runner monkey-patches time
            self.refresh()

    def refresh(self):
        try:
            with self.db.autocommit() as conn:
                row = conn.execute(self.QUERY).fetchone()
        except Exception as exc:  # the pool not open yet, the database away: the timestamp ages
            log.warning("metrics: outbox not readable: %s", exc)
            return
        OUTBOX_UNSENT.labels(self.service).set(row["unsent"])
        OUTBOX_LAG.labels(self.service).set(float(row["lag"]))
        OUTBOX_CHECKED.labels(self.service).set_to_current_time()

    def stop(self):
        self.running = False
