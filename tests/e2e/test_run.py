"""`make run`'s runner: migrates, starts every part, and stops them all on SIGTERM."""
import os
import signal
import subprocess
import sys

import requests

from tests.harness import ROOT, eventually


def descendants(pid):
    """Process ids below `pid`, read from /proc (no extra dependency for one test)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_runner_starts_a_ready_palace_and_sigterm_stops_every_process(stack):
    runner = subprocess.Popen([sys.executable, "-m", "ops.run"], cwd=ROOT, env=stack.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def ready():
            try:
                return requests.get(f"{stack.url}/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        eventually(ready, timeout=60, interval=0.5)
        started = descendants(runner.pid)
        assert len(started) >= 5  # four services and gunicorn (with its workers)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0
        eventually(lambda: not any(alive(pid) for pid in started), timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
        output = runner.stdout.read()
    assert "stopping services: enrolment" in output and "Shutting down: Master" in output
