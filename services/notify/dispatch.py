"""The dispatcher: sends due deliveries while the service runs.

Each instance claims due rows with FOR UPDATE SKIP LOCKED (so instances share the work), marks
them `sending` with a lease, sends them concurrently, then records the outcome: sent; retried
after backoff; or failed, with the member's next channel taking over. A dispatcher that dies
mid-send leaves a lapsed lease, and the row is sent again (providers get `out_id` to drop it).
It also turns due reminders into messages. Polls, faster while there is work."""
import logging
import random

import eventlet
import psycopg
from eventlet.greenpool import GreenPool
from nameko.extensions import DependencyProvider
from psycopg.rows import dict_row

from services.common import config
from services.common.loops import ReconnectingLoop
from services.common.metrics import DELIVERIES
from services.notify import channels, domain, fanout, settings, store

log = logging.getLogger(__name__)

BATCH = 100
CONCURRENCY = 20


class Dispatcher(ReconnectingLoop, DependencyProvider):
    def setup(self):
        self.url = config.db_url(self.container.service_name)

    def start(self):
        self.adapters = channels.adapters()
        self.pool = GreenPool(CONCURRENCY)
        self.start_loop("notify-dispatcher")

    def loop_name(self):
        return "notify dispatcher"

    def get_dependency(self, worker_ctx):
        return self

    def session(self):
        """Dispatch until the database goes away; the due rows wait for the next session."""
        with psycopg.connect(self.url, row_factory=dict_row) as work:
            self.connected()
            idle = 0
            while self.running:
                idle = 0 if run_once(work, self.adapters, self.pool) else idle + 1
                if idle:  # polled, not woken by NOTIFY: see services/common/outbox.py
                    eventlet.sleep(min(0.005 * 2 ** idle, settings.poll_interval()))


def run_once(conn, adapters, pool):
    """One round: due reminders, then one batch of due deliveries. Returns how much it did."""
    with conn.transaction():
        reminded = fanout.send_due_reminders(conn)
    with conn.transaction():
        batch = store.claim_due(conn, BATCH, settings.lease_seconds())
    results = list(pool.imap(lambda d: (d, attempt(adapters, d)), batch))
    with conn.transaction():
        outcomes = [(d["channel"], record(conn, d, failure)) for d, failure in results]
    for channel, outcome in outcomes:  # counted once recorded: a rolled-back round is sent again
        DELIVERIES.labels(channel, outcome).inc()
    return reminded + len(batch)


def attempt(adapters, d):
    adapter = adapters.get(d["channel"]) or adapters["console"]
    try:
        adapter.send(d)
    except channels.SendFailed as exc:
        return exc
    except Exception as exc:  # an adapter bug must not stop the dispatcher
        log.exception("delivery %s on %s", d["id"], d["channel"])
        return channels.SendFailed(f"{type(exc).__name__}: {exc}", True)
    return None


def record(conn, d, failure):
    """Record a delivery's outcome: sent, retried or failed."""
    if failure is None:
        store.mark_sent(conn, d["id"])
        return "sent"
    base, ceiling = settings.backoff()
    outcome, pause = domain.after_failure(d["attempts"], settings.max_attempts(), failure.retryable,
                                          base, ceiling, random.random())
    if outcome == "retry":
        log.warning("delivery %s on %s failed (attempt %d), again in %.2fs: %s",
                    d["id"], d["channel"], d["attempts"], pause, failure.reason)
        store.mark_retry(conn, d["id"], pause, failure.reason)
        return "retried"
    log.error("delivery %s on %s failed for good after %d attempts: %s",
              d["id"], d["channel"], d["attempts"], failure.reason)
    store.mark_failed(conn, d["id"], failure.reason)
    fanout.failover(conn, d)
    return "failed"
