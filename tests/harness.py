"""A palace of real processes for the tests: own databases (a unique prefix), own RabbitMQ vhost,
processes started from ops.processes exactly as `make run` starts them."""
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import requests
from cryptography.fernet import Fernet
from nameko.standalone.rpc import ClusterRpcProxy

from ops import migrate, processes, topology
from ops.preflight import management_url, palace_connections
from ops.run import argv_here
from services.common import config, trust

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PHONE, ADMIN_PASSWORD = "13800000000", "admin-password-1"

# The suite's stacks are sized to fit a new machine's PostgreSQL (max_connections = 100) with room
# to spare; production sizes (pools of 10 and 16, two gateway workers) need 95 for one stack alone.
POOL, GATEWAY_POOL = 5, 8
TEST_SIZING = {"PALACE_DB_POOL_SIZE": str(POOL), "PALACE_GATEWAY_DB_POOL": str(GATEWAY_POOL),
               "PALACE_GATEWAY_WORKERS": "1"}
RACE_CONNECTIONS = 60  # the test racing straight at the bookings table: one connection per contender
OWN_CONNECTIONS = 10  # what a test opens itself beside a stack (stack.db, a watch, a relay)
# the peak: a whole stack with a second enrolment instance (the fault suite), or venues alone (its
# pool, relay and one more, its calendar sweep's two) beside the race, whichever is more
SUITE_PEAK = OWN_CONNECTIONS + max(palace_connections(POOL, GATEWAY_POOL, 1, extra_instances=1),
                                   POOL + 2 + 2 + RACE_CONNECTIONS)
TAG = re.compile(r"^palace_t(\d+)x[0-9a-f]+$")  # palace_t<pid of the test process>x<random>


def management_auth():
    broker = urlsplit(config.amqp_uri())
    return broker.username or "guest", broker.password or "guest"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, logdir, sizing=None):
        self.tag = f"palace_t{os.getpid()}x{secrets.token_hex(3)}"
        self.logdir = Path(logdir)
        self.procs = {}
        base = urlsplit(config.amqp_uri())
        self.api_auth = management_auth()
        self.port = free_port()
        self.env = {
            **os.environ,
            "AMQP_URI": urlunsplit(base._replace(path="/" + self.tag)),
            "PALACE_DB_PREFIX": self.tag,
            "PALACE_HTTP_PORT": str(self.port),
            "PALACE_ADMIN_PHONE": ADMIN_PHONE,
            "PALACE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PALACE_RETRY_DELAYS": "0.2,0.5",
            # the suite opens hundreds of accounts: argon2's cheapest profile, not 0.3 s of a core each
            "PALACE_PASSWORD_HASHING": "cheapest",
            "PALACE_GATEWAY_WORKERS": "1",
            # what a test expects of a message must not depend on the hour it runs (tests of quiet
            # hours set the member's own)
            "PALACE_NOTIFY_QUIET_HOURS": "off",
            # nor on how fast its events came: a member's messages are not spaced (pacing is tested
            # with its own gap by tests/integration/test_notify_pacing.py)
            "PALACE_NOTIFY_MEMBER_GAP": "0",
            # every test registers its members from 127.0.0.1: the per-address limit of registrations
            # is tested with its production value by tests/e2e/test_account_defences.py
            "PALACE_REGISTER_ADDRESS_LIMIT": "100000/3600",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            # a developer's machine: the local broker's guest, welfare's key kept in its database
            "PALACE_DEVELOPMENT": "1",
            # each stack its own keys: a call or an event signed for another stack is a forgery here
            "PALACE_CONTEXT_KEY": secrets.token_urlsafe(32),
            "PALACE_RESET_CODE_KEY": Fernet.generate_key().decode(),
            "PALACE_WELFARE_KEYS": f"t1:{Fernet.generate_key().decode()}",
            "PALACE_WELFARE_FINGERPRINT_KEY": Fernet.generate_key().decode(),
            # what ops present to read /metrics and /readyz's checks (Client(stack.url, stack.metrics_token))
            "PALACE_METRICS_TOKEN": secrets.token_urlsafe(32),
            **(sizing or {}),
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_token = self.env["PALACE_METRICS_TOKEN"]

    # lifecycle

    def create(self):
        """What `python -m ops.migrate` makes, made faster: the databases are copies of the suite's
        migrated templates (TEMPLATES), and the queues are declared from this process."""
        vhost = f"{management_url()}/vhosts/{quote(self.tag, safe='')}"
        requests.put(vhost, auth=self.api_auth, timeout=10).raise_for_status()
        requests.put(f"{management_url()}/permissions/{quote(self.tag, safe='')}/{self.api_auth[0]}",
                     json={"configure": ".*", "write": ".*", "read": ".*"}, auth=self.api_auth,
                     timeout=10).raise_for_status()
        TEMPLATES.copy_to(self.tag)
        with environment(self.env, ("AMQP_URI", "PALACE_RETRY_DELAYS", "PALACE_QUORUM_QUEUES")):
            topology.declare_all()

    def destroy(self):
        for name in list(self.procs):
            self.stop(name, signal.SIGKILL)
        DROPS.put([f"{self.tag}_{part}" for part in config.DATABASES])
        requests.delete(f"{management_url()}/vhosts/{quote(self.tag, safe='')}", auth=self.api_auth, timeout=10)

    def run_once(self, argv, timeout=120, extra_env=None):
        done = subprocess.run(argv_here(argv), cwd=ROOT, env={**self.env, **(extra_env or {})},
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    # processes

    def start(self, name, argv=None, extra_env=None, wait=True):
        """Start a process of the table (or `argv` under `name`) and wait until it answers."""
        table = processes.commands()
        if argv is None:
            argv, table_env = table[name.split("#")[0]]
            extra_env = {**table_env, **(extra_env or {})}
        env = {k: v for k, v in {**self.env, **(extra_env or {})}.items() if v is not None}
        with open(self.logdir / f"{self.tag}-{name.replace('#', '-')}.log", "ab") as log:
            proc = subprocess.Popen(argv_here(argv), cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        if wait:
            self.wait_until_up(name)
        return proc

    def start_all(self, names=None):
        """Start the processes together, then wait until each answers: they only need PostgreSQL and
        RabbitMQ (the migrate step declared every queue), not each other, and most of a start is
        Python importing nameko; one after another a whole palace took 10-16 s of each e2e module's
        setup on two cores, together about 5."""
        names = list(names or processes.commands())
        for name in names:
            self.start(name, wait=False)
        for name in names:
            self.wait_until_up(name)

    def stop(self, name, sig=signal.SIGTERM):
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)

    def wait_until_up(self, name, timeout=60):
        service = name.split("#")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            if self._answers(service):
                return
            time.sleep(0.2)
        raise AssertionError(f"{name} did not come up:\n{self.log(name)}")

    def _answers(self, service):
        if service == "gateway":
            try:
                return requests.get(f"{self.url}/healthz", timeout=1).ok
            except requests.RequestException:
                return False
        # a fresh instance must answer itself, not another one: only used right after start
        return self._ping_db("gateway" if service == "gateway-feed" else service)

    def _ping_db(self, service):
        try:
            with self.rpc(timeout=1) as rpc:
                return getattr(rpc, service).ping()["database"] == "ok"
        except Exception:
            return False

    def log(self, name):
        path = self.logdir / f"{self.tag}-{name.replace('#', '-')}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # clients

    def rpc(self, timeout=10, context=None, part="gateway"):
        """A standalone proxy whose calls `part` signs (the gateway by default, on behalf of the caller
        fields in `context`); signed for an hour, since a test may hold its proxy that long."""
        return ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"], "serializer": "json"}, timeout=timeout,
                               context_data=self.signed(context, part))

    def signed(self, context=None, part="gateway"):
        """nameko context data signed with this stack's key, as `part` would sign it."""
        return trust.sign(context or {}, part, ttl=3600, secret=self.env["PALACE_CONTEXT_KEY"])

    def reset_code(self, sealed):
        """A reset code the gateway sealed for notify, opened with this stack's key."""
        return trust.open_code(sealed, secret=self.env["PALACE_RESET_CODE_KEY"])

    def request_fingerprint(self, method, path, body):
        """The hash the gateway keeps of a request under an Idempotency-Key, keyed as this stack's
        gateway keys it (its PALACE_TOKEN_SECRET, or the token key it made and kept)."""
        from gateway import idempotency

        secret = self.env.get("PALACE_TOKEN_SECRET")
        if not secret:
            with self.db("gateway") as conn:
                secret = conn.execute("SELECT value FROM settings WHERE name = 'token_secret'").fetchone()["value"]
        return idempotency.request_fingerprint(idempotency.request_key(secret), method, path, body)

    def db(self, part):
        return psycopg.connect(f"{config.pg_server()}/{self.tag}_{part}", autocommit=True, connect_timeout=10,
                               row_factory=psycopg.rows.dict_row)


def drop_databases(names):
    with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def environment(values, names):
    """os.environ with `names` taken from `values` (unset where `values` has none), for the code of
    palace this process runs on a stack's behalf; as it was afterwards."""
    before = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            _setenv(name, values.get(name))
        yield
    finally:
        for name, value in before.items():
            _setenv(name, value)


def _setenv(name, value):
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


class Templates:
    """Each part's database migrated once per test run, then copied for every stack: a copy is a
    fraction of a second, where creating and migrating five databases took 3-20 s of each module's
    setup. A copy commits asynchronously (synchronous_commit off, set on that database alone): a
    test stack's data need not outlive an operating-system crash, and not waiting for the disk on
    each commit is most of what a test costs PostgreSQL. A stopped server (the fault suite's
    restarts are fast shutdowns) still writes every commit out first."""

    def __init__(self):
        self.tag, self._made = f"palace_t{os.getpid()}x{secrets.token_hex(3)}", False
        self._lock = threading.Lock()

    def copy_to(self, tag):
        self._make()
        with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10) as conn:
            for part in config.DATABASES:
                copy, template = f"{tag}_{part}", f"{self.tag}_{part}"
                conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
                conn.execute(f'ALTER DATABASE "{copy}" SET synchronous_commit = off')

    def _make(self):
        with self._lock:
            if self._made:
                return
            with environment({"PALACE_DB_PREFIX": self.tag}, ("PALACE_DB_PREFIX", "PALACE_PG_PASSWORDS")):
                migrate.create_databases()
                for part in config.DATABASES:
                    migrate.apply_migrations(part)
            self._made = True

    def drop(self):
        if self._made:
            drop_databases([f"{self.tag}_{part}" for part in config.DATABASES])


class Drops:
    """Stacks' databases dropped by a thread of their own: PostgreSQL checkpoints at each DROP
    DATABASE (about a second on this machine, five per stack), which no test needs to wait for."""

    def __init__(self):
        self._queue, self._thread = queue.Queue(), None

    def put(self, names):
        if self._thread is None:
            self._thread = threading.Thread(target=self._drop, daemon=True)
            self._thread.start()
        self._queue.put(names)

    def _drop(self):
        while True:
            names = self._queue.get()
            try:
                drop_databases(names)
            except psycopg.Error:  # left for the next run's sweep (its name carries this run's pid)
                pass
            finally:
                self._queue.task_done()

    def wait(self, timeout=120):
        """Until every stack's databases are gone, or `timeout` (the next run sweeps what is left)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.1)


TEMPLATES, DROPS = Templates(), Drops()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _orphaned(tag):
    """A stack whose test process is gone (killed, or timed out in CI) left it behind."""
    owner = TAG.match(tag)
    return owner is not None and not _alive(int(owner.group(1)))


def sweep_orphans():
    """Stop the processes and drop the databases and vhosts of stacks whose test run was killed:
    their pools would hold connections that the next run needs. Returns what was swept."""
    swept = []
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        tags = [v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"PALACE_DB_PREFIX=")]
        if tags and _orphaned(tags[0]):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                swept.append(f"process {entry.name}")
            except ProcessLookupError:
                pass
    with psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'palace\\_t%'")]
    dropped = [name for name in names if _orphaned(name.rsplit("_", 1)[0])]
    drop_databases(dropped)
    swept += dropped
    auth = management_auth()
    for vhost in requests.get(f"{management_url()}/vhosts", auth=auth, timeout=10).json():
        if _orphaned(vhost["name"]):
            requests.delete(f"{management_url()}/vhosts/{quote(vhost['name'], safe='')}", auth=auth, timeout=10)
            swept.append(f"vhost {vhost['name']}")
    return swept


def at_once(contenders, timeout=60):
    """Run each contender in a thread of its own and return their results in order. A contender is
    called with `go`, which it calls when ready (connected, signed in): every thread waits there
    until all are ready, so they act at the same instant. Every wait is bounded: a contender that
    fails before `go` breaks the start for the others, and a thread still running after `timeout`
    fails the test by count instead of hanging it. The first error a contender raised is raised."""
    start = threading.Barrier(len(contenders), timeout=timeout)
    results, errors = [None] * len(contenders), []

    def run(index):
        try:
            results[index] = contenders[index](start.wait)
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread below
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(contenders))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    running = sum(thread.is_alive() for thread in threads)
    assert not running, f"{running} of {len(threads)} contenders still running after {timeout} s"
    causes = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] or errors
    if causes:
        raise causes[0]
    return results


def bulk_members(stack, count):
    """`count` member accounts written straight into the gateway's database, each with an access
    token signed with the stack's key (PALACE_TOKEN_SECRET must be in its env): 2,000 argon2
    hashes would take the gateway minutes. Returns [(member id, token)]."""
    from gateway import auth

    with stack.db("gateway") as conn:
        rows = conn.execute(
            "INSERT INTO accounts (phone, name, password_hash, roles)"
            " SELECT '1' || lpad((5000000000 + n + o)::text, 10, '0'), 'Member ' || n, 'not-for-signing-in',"
            " '{member}' FROM generate_series(1, %s) n, (SELECT count(*) AS o FROM accounts) c"
            " RETURNING id, roles, unit_id", (count,)).fetchall()
    secret = stack.env["PALACE_TOKEN_SECRET"]
    return [(str(row["id"]), auth.access_token(secret, row)) for row in rows]


def eventually(check, timeout=10.0, interval=0.05):
    """Poll `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"still not true after {timeout}s: {value!r}")


