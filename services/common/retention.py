"""Retention: rows kept only so that delivery and retries are safe are deleted once they are old.
Each part runs the sweep on its own database (the owner of the rows), every
PALACE_RETENTION_SWEEP seconds, a bounded batch (PALACE_RETENTION_BATCH rows, one short
transaction) at a time, so a backlog of months never holds a long lock.

Every service database: outbox rows sent, and processed events (the consumers' dedup records),
after PALACE_RETAIN_EVENTS_DAYS. A part adds its own rules (notify its finished deliveries, the
gateway its idempotency keys)."""
import logging
import time
from dataclasses import dataclass

import psycopg
from nameko.extensions import DependencyProvider

from services.common import config

log = logging.getLogger(__name__)

DAY = 86400
MOST_BATCHES = 100  # per rule and sweep: a larger backlog waits for the next sweep


@dataclass(frozen=True)
class Rule:
    """Rows of `table` whose `column` is older than the setting `days` (days, a float) and that
    match `where` go. `days` names a registered setting."""
    table: str
    column: str
    days: str
    where: str = "TRUE"

    def delete(self, conn, seconds, batch):
        # ctid: a batch of any table, with or without a one-column key
        return conn.execute(
            f"DELETE FROM {self.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {self.table}"
            f" WHERE {self.column} < now() - make_interval(secs => %s) AND ({self.where}) LIMIT %s))",
            (seconds, batch)).rowcount


EVENTS = (Rule("outbox", "sent_at", "PALACE_RETAIN_EVENTS_DAYS", "sent_at IS NOT NULL"),
          Rule("processed_events", "processed_at", "PALACE_RETAIN_EVENTS_DAYS"))


def sweep(conn, rules, batch, most_batches=MOST_BATCHES):
    """Delete what `rules` retire, `batch` rows per transaction (`conn` in autocommit); returns
    {table: rows deleted}."""
    gone = {}
    for rule in rules:
        seconds = float(config.env(rule.days)) * DAY
        for _ in range(most_batches):
            deleted = rule.delete(conn, seconds, batch)
            gone[rule.table] = gone.get(rule.table, 0) + deleted
            if deleted < batch:
                break
    return gone


class Retention(DependencyProvider):
    """Runs the sweep beside the service's workers: `Retention(*more_rules)` on the service class."""

    _thread = None

    def __init__(self, *rules):
        self.rules = (*EVENTS, *rules)

    def setup(self):
        self.url = config.db_url(self.container.service_name)
        self.every = float(config.env("PALACE_RETENTION_SWEEP"))
        self.batch = int(config.env("PALACE_RETENTION_BATCH"))
        for rule in self.rules:  # a bad age stops the start, with its name, not a sweep an hour later
            float(config.env(rule.days))
        self.running = False

    def start(self):
        self.running = True
        self._thread = self.container.spawn_managed_thread(self._loop, identifier="retention")

    def stop(self):
        self.running = False
        if self._thread is not None:
            self._thread.kill()

    kill = stop

    def _loop(self):
        while self.running:
            time.sleep(self.every)  # green: nameko's runner patched time
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                    gone = sweep(conn, self.rules, self.batch)
            except Exception as exc:  # the database is away: the next sweep tries; the service goes on
                log.warning("retention sweep of %s failed: %s", self.container.service_name, exc)
                continue
            if any(gone.values()):
                log.info("retention: deleted %s", gone, extra={"deleted": gone})
