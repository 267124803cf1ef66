import threading

import psycopg
import pytest

from services.common import config

PEAK = {}


@pytest.fixture(scope="session")
def room_for_stacks():
    """Before the first stack starts: clear what a killed run left behind (its processes would hold
    connections this run needs), then check that the server allows the suite's peak."""
    from ops import preflight
    from tests import harness

    swept = harness.sweep_orphans()
    if swept:
        print(f"swept what killed test runs left: {', '.join(swept)}")
    problem = preflight.check_connections(harness.SUITE_PEAK)
    if problem:
        pytest.exit(f"the test suite: {problem}", returncode=1)
    watch = PeakConnections()
    PEAK.update(planned=harness.SUITE_PEAK, watch=watch)
    yield
    watch.stop()
    harness.DROPS.wait()
    harness.TEMPLATES.drop()


def pytest_terminal_summary(terminalreporter):
    if PEAK:
        terminalreporter.write_line(f"PostgreSQL connections at the suite's peak: {PEAK['watch'].peak}"
                                    f" (planned for at most {PEAK['planned']})")


class PeakConnections:
    """The most connections the server held while the suite ran, sampled four times a second:
    the figure behind the suite's sizing (tests/harness.py)."""

    def __init__(self):
        self.peak, self._stopped = 0, threading.Event()
        self._conn = psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=10)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        while not self._stopped.wait(0.25):
            try:
                count = self._conn.execute("SELECT count(*) FROM pg_stat_activity"
                                           " WHERE backend_type = 'client backend'").fetchone()[0]
            except psycopg.Error:  # the fault suite restarts the server: sample again once it is back
                self._reconnect()
                continue
            self.peak = max(self.peak, count)

    def _reconnect(self):
        try:
            self._conn = psycopg.connect(f"{config.pg_server()}/postgres", autocommit=True, connect_timeout=2)
        except psycopg.Error:
            pass

    def stop(self):
        self._stopped.set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, room_for_stacks):
    """An isolated palace (databases and vhost) for one test module; processes are started by the tests
    and killed at its end (a graceful stop costs each 2-3 s; tests/e2e/test_run.py proves SIGTERM's)."""
    from tests.harness import TEST_SIZING, Stack

    stack = Stack(tmp_path_factory.mktemp("logs"), sizing=TEST_SIZING)
    try:
        stack.create()
        with pytest.MonkeyPatch.context() as env:
            find_stack(env, stack)
            yield stack
    finally:
        stack.destroy()


def find_stack(env, stack):
    """The test process's own clients (a proxy, a store function, an event) find and trust `stack`."""
    env.setenv("AMQP_URI", stack.env["AMQP_URI"])
    env.setenv("PALACE_DB_PREFIX", stack.tag)
    env.setenv("PALACE_CONTEXT_KEY", stack.env["PALACE_CONTEXT_KEY"])  # its events are signed
    for name in ("PALACE_WELFARE_KEYS", "PALACE_WELFARE_FINGERPRINT_KEY"):  # tests that use welfare's store
        env.setenv(name, stack.env[name])
