"""A PostgreSQL role per part (ops/postgres/10-palace-roles.sh, as compose's postgres runs it), on
the real server with databases and roles of the test's own: migrations run as each owner, a part's
role cannot even connect to another part's database, and a service runs as its role."""
import os
import secrets
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from ops import processes
from services.common import config

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "ops" / "postgres" / "10-palace-roles.sh"


@pytest.fixture(scope="module")
def roles(stack, tmp_path_factory):
    """The environment of a palace whose parts are their own roles (prefix of the test's own)."""
    prefix = f"{stack.tag}r"
    passwords = tmp_path_factory.mktemp("secrets")
    for part in config.DATABASES:
        (passwords / f"pg-{part}").write_text(secrets.token_urlsafe(24) + "\n")
    server = urlsplit(config.pg_server())
    env = {**stack.env, "PALACE_DB_PREFIX": prefix, "PALACE_PG_PASSWORDS": str(passwords),
           "PALACE_PG": f"postgresql://{server.hostname}:{server.port or 5432}"}
    admin = {"PATH": os.environ["PATH"], "PGHOST": server.hostname, "PGPORT": str(server.port or 5432),
             "POSTGRES_USER": server.username or "postgres", "PALACE_DB_PREFIX": prefix,
             "PALACE_PG_PASSWORDS": str(passwords)}
    if server.password:
        admin["PGPASSWORD"] = server.password
    try:
        done = subprocess.run(["sh", str(SCRIPT)], env=admin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        yield env
    finally:
        with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10) as conn:
            for part in config.DATABASES:
                name = sql.Identifier(f"{prefix}_{part}")
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))


def connect(env, part, database_of=None):
    """A connection as `part`'s role (with its env's password) to the database of `database_of`."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("PALACE_DB_PREFIX", "PALACE_PG_PASSWORDS", "PALACE_PG"):
            patch.setenv(name, env[name])
        url = config.db_url(part)
        if database_of:
            url = url.replace(f"/{config.db_name(part)}?", f"/{config.db_name(database_of)}?")
    return psycopg.connect(url, connect_timeout=10)


def test_migrations_run_as_each_owner_and_a_role_reaches_its_own_database_alone(roles):
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "ops.migrate"], cwd=ROOT, env=roles,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    prefix = roles["PALACE_DB_PREFIX"]
    for part in config.DATABASES:
        with connect(roles, part) as conn:
            owners = {r[0] for r in conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
            assert owners == {f"{prefix}_{part}"}, (part, owners)
            assert not conn.execute("SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles"
                                    " WHERE rolname = current_user").fetchone()[0]
    with pytest.raises(psycopg.OperationalError, match="CONNECT"):
        connect(roles, "enrolment", database_of="welfare")
    with pytest.raises(psycopg.OperationalError, match="CONNECT"):
        connect(roles, "gateway", database_of="notify")


def test_a_service_runs_as_its_own_role(stack, roles):
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "ops.migrate"], cwd=ROOT, env=roles,
                   capture_output=True, timeout=300, check=True)
    extra = {k: roles[k] for k in ("PALACE_DB_PREFIX", "PALACE_PG_PASSWORDS", "PALACE_PG")}
    argv, env = processes.commands()["venues"]
    stack.start("venues", argv, {**env, **extra})
    try:
        with stack.rpc(timeout=10) as rpc:
            assert rpc.venues.ping()["database"] == "ok"
        with connect(roles, "venues") as conn:
            users = {r[0] for r in conn.execute("SELECT usename FROM pg_stat_activity WHERE datname = %s",
                                                (f"{roles['PALACE_DB_PREFIX']}_venues",))}
        assert users == {f"{roles['PALACE_DB_PREFIX']}_venues"}
    finally:
        stack.stop("venues")
