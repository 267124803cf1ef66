"""What the scenarios share: an isolated palace of real processes (as the tests start it),
members made in bulk, and the one JSON line each scenario prints."""
import json
import os
import platform
import secrets
import tempfile

import requests

from gateway import auth
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


def members(stack, count):
    """`count` member accounts written straight into the gateway's database, each with an access
    token signed with the palace's key: 2,000 argon2 hashes would take the gateway minutes."""
    with stack.db("gateway") as conn:
        rows = conn.execute(
            "INSERT INTO accounts (phone, name, password_hash, roles)"
            " SELECT '1' || lpad((5000000000 + n)::text, 10, '0'), 'Member ' || n, 'not-for-signing-in', '{member}'"
            " FROM generate_series(1, %s) n RETURNING id, roles, unit_id", (count,)).fetchall()
    secret = stack.env["PALACE_TOKEN_SECRET"]
    return [(str(row["id"]), auth.access_token(secret, row)) for row in rows]


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
