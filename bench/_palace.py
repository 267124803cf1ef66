"""What the scenarios share: an isolated palace of real processes (as the tests start it), and
the one JSON line each scenario prints."""
import json
import os
import platform
import re
import secrets
import subprocess
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


def wrk(base, paths, connections=64, seconds=10, token=None, threads=2):
    """Load `paths` (taken in turn) with wrk; returns requests/s, latency percentiles in ms and
    the count of answers that were not 2xx/3xx."""
    headers = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    script = headers + "local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n" + (
        "local i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                           "-s", f.name, base], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def parse_wrk(text):
    figures = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
               "not_ok": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0,
               "socket_errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        figures[f"p{pct}_ms"] = round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)
    return figures
