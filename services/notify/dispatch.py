"""The dispatcher: sends due deliveries while the service runs.

Each instance claims due rows with FOR UPDATE SKIP LOCKED (so instances share the work), marks
them `sending` with a lease, sends them concurrently, then records the outcome: sent; retried
after backoff; or failed, with the member's next channel taking over. A dispatcher that dies
mid-send leaves a lapsed lease, and the row is sent again (providers get `out_id` to drop it).
It also turns due reminders into messages. Polls, faster while there is work."""
import json
import logging
import random
import threading
import time

import eventlet
import psycopg
from eventlet.greenpool import GreenPool
from nameko.extensions import DependencyProvider
from psycopg.rows import dict_row

from services.common import config, trust
from services.common.errors import Invalid
from services.common.loops import ReconnectingLoop
from services.common.metrics import DELIVERIES
from services.notify import channels, domain, fanout, settings, store

log = logging.getLogger(__name__)

BATCH = 100
CONCURRENCY = 20


class Pacer:
    """At most `rates[channel]` sends a second on each channel, so a broadcast does not flood a
    provider (Aliyun and WeChat refuse, or bill, a burst): each send takes the next free slot of
    its channel and waits for it. A channel without a rate goes as fast as it can."""

    def __init__(self, rates, clock=time.monotonic, sleep=eventlet.sleep):
        self.gaps = {channel: 1 / rate for channel, rate in rates.items() if rate > 0}
        self.clock, self.sleep = clock, sleep
        self.next_slot = {}
        self.lock = threading.Lock()

    def wait(self, channel):
        gap = self.gaps.get(channel)
        if gap is None:
            return
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_slot.get(channel, now))
            self.next_slot[channel] = slot + gap
        if slot > now:
            self.sleep(slot - now)

    def batch(self, lease_seconds, most=100):
        """How many deliveries to claim at once: no more than the slowest channel sends in half a
        lease, or a paced batch would outlive its claim and be sent twice."""
        if not self.gaps:
            return most
        return max(1, min(most, int(lease_seconds / 2 / max(self.gaps.values()))))


class Dispatcher(ReconnectingLoop, DependencyProvider):
    def setup(self):
        self.url = config.db_url(self.container.service_name)

    def start(self):
        self.adapters = channels.adapters()
        self.pacer = Pacer(settings.rates())
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
                idle = 0 if run_once(work, self.adapters, self.pool, self.pacer) else idle + 1
                if idle:  # polled, not woken by NOTIFY: see services/common/outbox.py
                    eventlet.sleep(min(0.005 * 2 ** idle, settings.poll_interval()))


def run_once(conn, adapters, pool, pacer=None):
    """One round: due reminders, a group of a broadcast's members, then one batch of due
    deliveries. Returns how much it did."""
    with conn.transaction():
        reminded = fanout.send_due_reminders(conn)
    with conn.transaction():
        reminded += fanout.send_broadcast_group(conn)
    pacer = pacer or Pacer({})
    with conn.transaction():
        batch = store.claim_due(conn, pacer.batch(settings.lease_seconds(), BATCH), settings.lease_seconds())
    results = list(pool.imap(lambda d: (d, attempt(adapters, d, pacer)), batch))
    with conn.transaction():
        outcomes = [(d["channel"], record(conn, d, failure)) for d, failure in results]
    for channel, outcome in outcomes:  # counted once recorded: a rolled-back round is sent again
        DELIVERIES.labels(channel, outcome).inc()
    return reminded + len(batch)


def opened(d):
    """The delivery as it goes out: a sealed reset code opened now, in memory only (its row keeps the
    code hidden); one that cannot be opened fails for good (another try would not open it)."""
    sealed = d["rendered"].get("code_sealed") if isinstance(d.get("rendered"), dict) else None
    if not sealed:
        return d
    try:
        code = trust.open_code(sealed)
    except Invalid as exc:
        raise channels.SendFailed(exc.detail, False) from None
    rendered = json.loads(json.dumps(d["rendered"]).replace(fanout.HIDDEN_CODE, code))
    return {**d, "rendered": rendered, "title": rendered["title"], "body": rendered["body"]}


def attempt(adapters, d, pacer):
    adapter = adapters.get(d["channel"]) or adapters["console"]
    pacer.wait(d["channel"])
    try:
        adapter.send(opened(d))
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
