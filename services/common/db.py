"""The database of one part: a psycopg pool, and its nameko dependency.

Services run under eventlet: start them with PSYCOPG_WAIT_FUNC=wait_selector in the
environment, or every query blocks the whole hub (DESIGN.md measured 4 s instead of 1 s)."""
import logging
import os
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from services.common import config

log = logging.getLogger(__name__)


class Db:
    """A pool of connections to one database; every block is one transaction."""

    def __init__(self, url, max_size=None, name=None):
        self.pool = ConnectionPool(
            url, min_size=2, max_size=max_size or config.pool_size(), open=False, name=name,
            kwargs={"row_factory": dict_row},
            # a connection broken by a database restart is replaced instead of handed out
            check=ConnectionPool.check_connection,
        )

    def open(self, timeout=30.0):
        self.pool.open(wait=True, timeout=timeout)

    def close(self, timeout=5.0):
        self.pool.close(timeout=timeout)

    @contextmanager
    def transaction(self):
        """Commits when the block ends, rolls back when it raises."""
        with self.pool.connection() as conn:
            yield conn

    def ping(self):
        with self.transaction() as conn:
            conn.execute("SELECT 1").fetchone()
        return "ok"


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
