"""What the scenarios share: an isolated palace of real processes (as the tests start it), and
the one JSON line each scenario prints."""
import json
import os
import platform
import secrets
import tempfile

import requests

from ops import processes
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, Stack


def palace(extra_env=None, instances=None, names=None):
    """A started palace; `instances` maps a service to how many copies of it run."""
    stack = Stack(tempfile.mkdtemp(prefix="palace-bench-"))
    stack.env.update({"PALACE_TOKEN_SECRET": secrets.token_urlsafe(32), "PALACE_LOG_LEVEL": "WARNING",
                      "PALACE_GATEWAY_WORKERS": os.environ.get("PALACE_GATEWAY_WORKERS", "2"),
                      **(extra_env or {})})
    stack.create()
    try:
        for name in names or processes.commands():
            for copy in range((instances or {}).get(name, 1)):
                stack.start(name if copy == 0 else f"{name}#{copy}")
    except BaseException:
        stack.destroy()
        raise
    return stack


def session(token=None):
    http = requests.Session()
    if token:
        http.headers["Authorization"] = f"Bearer {token}"
    return http


def admin(stack):
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                           timeout=30)
    answer.raise_for_status()
    return session(answer.json()["access_token"])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else None


def report(scenario, figures, bars):
    """Print the scenario's JSON line; the exit code says whether every bar held."""
    missed = [name for name, held in bars.items() if not held]
    line = {"scenario": scenario, **figures, "bars": {name: bool(held) for name, held in bars.items()},
            "passed": not missed, "machine": f"{os.cpu_count()} cores, {platform.python_implementation()}"
                                            f" {platform.python_version()}"}
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0 if not missed else 1
