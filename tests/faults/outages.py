"""Taking this machine's RabbitMQ and PostgreSQL away and back, for the fault tests."""
import subprocess
import time
from pathlib import Path

import psycopg

from services.common import config


def broker_down():
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)


def broker_up(tries=10):
    """Start the broker's app again; right after a stop, start_app sometimes fails once."""
    for attempt in range(tries):
        started = subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, timeout=120)
        if started.returncode == 0 and subprocess.run(["rabbitmqctl", "await_startup"], capture_output=True,
                                                      timeout=120).returncode == 0:
            return
        time.sleep(1 + attempt)
    raise RuntimeError(f"RabbitMQ did not start again: {started.stderr.decode()[-300:]}")


def database_restart():
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    while True:  # bounded: gives up after a minute
        try:
            psycopg.connect(f"{config.pg_server()}/postgres", connect_timeout=2).close()
            return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def outbox_backlog(stack):
    """Unsent events in every part's outbox."""
    total = 0
    for part in config.DATABASES:
        with stack.db(part) as conn:
            total += conn.execute("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL").fetchone()["n"]
    return total


def seats(stack, course_id):
    """The course's live enrolments: confirmed, waitlisted, in all, and of how many members."""
    with stack.db("enrolment") as conn:
        return conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
            " count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,"
            " count(DISTINCT member_id) AS members, count(*) AS live"
            " FROM enrolments WHERE course_id = %s AND status <> 'cancelled'", (course_id,)).fetchone()


def told(stack, member_ids):
    """The inbox entries these members have, and how many of them have one."""
    with stack.db("notify") as conn:
        return conn.execute("SELECT count(*) AS entries, count(DISTINCT member_id) AS members FROM inbox"
                            " WHERE member_id = ANY(%s::uuid[])", (list(member_ids),)).fetchone()
