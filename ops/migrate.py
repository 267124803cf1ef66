"""One command sets up everything the parts need: `python -m ops.migrate`.

Creates each part's database if missing, applies its yoyo migrations, and declares the broker
topology. Safe to run again; several runners at once are serialised by yoyo's lock."""
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from ops import topology
from services.common import config

ROOT = Path(__file__).resolve().parent.parent
COMMON = ROOT / "services" / "common" / "migrations"

log = logging.getLogger("palace.migrate")


def migration_dirs(part):
    if part == "gateway":
        return [COMMON, ROOT / "gateway" / "migrations"]
    own = ROOT / "services" / part / "migrations"
    return [COMMON, own] if own.is_dir() else [COMMON]


def create_databases(parts=config.DATABASES):
    if config.own_roles():  # each part's database was made with its role, by its owner's grant alone
        return
    with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        for part in parts:
            name = config.db_name(part)
            if name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log.info("created database %s", name)


def apply_migrations(part):
    url = config.db_url(part).replace("postgresql://", "postgresql+psycopg://", 1)
    backend = get_backend(url)
    migrations = read_migrations(*map(str, migration_dirs(part)))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:  # closed now, not when collected: a database is copied (CREATE ... TEMPLATE) only unused
        backend.connection.close()
    return len(pending)


def main(progress=None):
    """`progress(total)`: a context giving a step per part (the bar of `palace migrate`)."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    with (progress or _quiet)(len(config.DATABASES) + 1) as step:
        create_databases()
        for part in config.DATABASES:
            applied = apply_migrations(part)
            log.info("%s: %d migration(s) applied", config.db_name(part), applied)
            step()
        queues = topology.declare_all()
        log.info("broker: %d queue(s) declared", len(queues))
        for name, moved in topology.retire_all().items():
            log.info("broker: retired %s (%d message(s) handed on)", name, moved)
        step()
    return 0


@contextmanager
def _quiet(_total):
    yield lambda n=1: None


if __name__ == "__main__":
    sys.exit(main())
