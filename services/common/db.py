"""The database of one part: a psycopg pool, and its nameko dependency.

Services run under eventlet: start them with PSYCOPG_WAIT_FUNC=wait_selector in the
environment, or every query blocks the whole hub (DESIGN.md measured 4 s instead of 1 s)."""
import logging
import os
import time
from contextlib import contextmanager

import psycopg
from nameko.extensions import DependencyProvider
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from services.common import config
from services.common.errors import Unavailable

log = logging.getLogger(__name__)


def like_literal(text):
    """`text` for a LIKE pattern, its %, _ and \\ meaning themselves: a search for "100%" or "a_b"
    finds those, not everything."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Db:
    """A pool of connections to one database; every block is one transaction."""

    def __init__(self, url, max_size=None, name=None):
        self.pool = ConnectionPool(
            url, min_size=2, max_size=max_size or config.pool_size(), open=False, name=name,
            kwargs={"row_factory": dict_row}, check=_check_if_idle, reset=_mark_returned,
        )

    def open(self, timeout=30.0):
        self.pool.open(wait=True, timeout=timeout)

    def close(self, timeout=5.0):
        self.pool.close(timeout=timeout)

    @contextmanager
    def transaction(self):
        """Commits when the block ends, rolls back when it raises. A database that cannot be
        reached (restarting, pool exhausted) is `Unavailable`, a 503 the caller may retry."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            log.warning("database %s: %s", self.pool.name, exc)
            raise Unavailable("the database is not reachable right now; try again shortly") from exc

    @contextmanager
    def autocommit(self):
        """A connection on which each statement commits on its own: one round trip for a single
        read or write, where a transaction takes three (BEGIN, the statement, COMMIT). Measured
        under eventlet: 85 us of CPU per read instead of 260."""
        with self.transaction() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:
                    conn.autocommit = False

    def ping(self):
        with self.autocommit() as conn:
            conn.execute("SELECT 1").fetchone()
        return "ok"


IDLE_CHECK = 2.0  # seconds


def _mark_returned(conn):
    conn.palace_returned_at = time.monotonic()


def _check_if_idle(conn):
    """Check a connection that sat idle (a database restart may have broken it) before handing it
    out; one returned a moment ago is used as it is: a check on every checkout cost the gateway
    13% of its time in the rush profile (one more round trip per transaction)."""
    if time.monotonic() - getattr(conn, "palace_returned_at", 0.0) > IDLE_CHECK:
        ConnectionPool.check_connection(conn)


class Database(DependencyProvider):
    """Injects the service's `Db` (pool shared by all of the service's workers)."""

    def __init__(self, part=None):
        self.part = part

    def setup(self):
        if os.environ.get("PSYCOPG_WAIT_FUNC") != "wait_selector":
            log.warning("PSYCOPG_WAIT_FUNC is not wait_selector: queries will block the eventlet hub")
        part = self.part or self.container.service_name
        self.db = Db(config.db_url(part), name=part)

    def start(self):
        self.db.open()

    def stop(self):
        self.db.close()

    def kill(self):
        self.db.close(timeout=0)

    def get_dependency(self, worker_ctx):
        return self.db
