"""`make run` and `make test` say in one line what is missing, never with a traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def preflight(**env):
    return subprocess.run([sys.executable, "-m", "ops.preflight"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


@pytest.mark.parametrize("setting, value, says", [
    ("PALACE_PG", "postgresql://postgres:secret@127.0.0.1:1", "PostgreSQL is not reachable at 127.0.0.1:1"),
    ("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/", "RabbitMQ is not reachable at 127.0.0.1:1"),
])
def test_an_unreachable_dependency_is_one_clear_line(setting, value, says):
    done = preflight(**{setting: value})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), done.stderr
    assert "start it with" in lines[0] and "Traceback" not in done.stderr and "secret" not in done.stderr


def test_a_machine_with_both_running_passes():
    done = preflight()
    assert done.returncode == 0, done.stderr


def test_a_server_allowing_too_few_connections_is_one_line_naming_the_number_needed():
    from ops.preflight import palace_connections

    needed = palace_connections(200, 16, 2)
    done = preflight(PALACE_DB_POOL_SIZE="200")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "max_connections" in lines[0] and f"this needs {needed}" in lines[0], done.stderr


def test_the_suite_and_the_benchmarks_fit_a_new_machines_postgresql_with_room_to_spare():
    """A new machine's PostgreSQL allows 100 connections; nothing may rely on a raised limit."""
    from bench._palace import PEAK as BENCH_PEAK
    from ops.preflight import palace_connections
    from tests.harness import SUITE_PEAK

    assert SUITE_PEAK <= 90 and BENCH_PEAK <= 90, (SUITE_PEAK, BENCH_PEAK)
    assert palace_connections(10, 16, 2) <= 100, "make run at production sizes on a developer's machine"
