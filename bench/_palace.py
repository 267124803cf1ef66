"""What the scenarios share: an isolated palace of real processes (as the tests start it), and
the one JSON line each scenario prints."""
import json
import os
import platform
import re
import resource
import secrets
import subprocess
import tempfile

import requests

from ops import processes
from ops.preflight import palace_connections
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, Stack

# Production's pool sizes (10 per service, 16 per gateway worker) with two enrolment instances
# would need 107 connections; a new machine's PostgreSQL allows 100.
POOL, GATEWAY_POOL, GATEWAY_WORKERS = 6, 12, 2
SIZING = {"PALACE_DB_POOL_SIZE": str(POOL), "PALACE_GATEWAY_DB_POOL": str(GATEWAY_POOL),
          "PALACE_GATEWAY_WORKERS": os.environ.get("PALACE_GATEWAY_WORKERS", str(GATEWAY_WORKERS))}
PEAK = palace_connections(POOL, GATEWAY_POOL, GATEWAY_WORKERS, extra_instances=1) + 4  # and the bench's own


def palace(extra_env=None, instances=None, names=None, commands=None):
    """A started palace; `instances` maps a service to how many copies of it run, `commands` a
    process to the command it runs instead of the process table's (e.g. bench._direct.GATEWAY)."""
    stack = Stack(tempfile.mkdtemp(prefix="palace-bench-"), sizing=SIZING)
    stack.env.update({"PALACE_TOKEN_SECRET": secrets.token_urlsafe(32), "PALACE_LOG_LEVEL": "WARNING",
                      **(extra_env or {})})
    stack.create()
    try:
        for name in names or processes.commands():
            for copy in range((instances or {}).get(name, 1)):
                stack.start(name if copy == 0 else f"{name}#{copy}", argv=(commands or {}).get(name))
    except BaseException:
        stack.destroy()
        raise
    return stack


def cpu_seconds(stack):
    """CPU seconds (user + system) spent so far by each process of the palace, its children (the
    gateway's workers) included, by this client, and by PostgreSQL and RabbitMQ (the machine's
    whole servers: run benchmarks on a quiet machine); read from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    name, rest = f.read().rsplit(")", 1)
            except OSError:
                continue
            fields = rest.split()
            stats[int(entry)] = (name.split("(", 1)[1], int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    children = {}
    for pid, (_, parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid):
        return stats.get(pid, ("", 0, 0.0))[2] + sum(tree(child) for child in children.get(pid, ()))

    spent = {name: tree(proc.pid) for name, proc in stack.procs.items()}
    spent["postgres"] = sum(seconds for name, _, seconds in stats.values() if name.startswith("postgres"))
    # the backends serving this palace's own databases (their process title names the database):
    # on a shared machine, the part of PostgreSQL's CPU that other suites' stacks do not add to
    spent["postgres_backends"] = sum(seconds for pid, (name, _, seconds) in stats.items()
                                     if name.startswith("postgres") and stack.tag in _title(pid))
    spent["rabbitmq"] = sum(seconds for name, _, seconds in stats.values() if name.startswith("beam"))
    own = resource.getrusage(resource.RUSAGE_SELF)
    spent["client"] = own.ru_utime + own.ru_stime
    return spent


def _title(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def cpu_per(before, after, count):
    """Milliseconds of CPU per unit of work, per process, between two `cpu_seconds` readings."""
    return {name: round(1000 * (after[name] - before.get(name, 0.0)) / count, 2) for name in after}


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
                                            f" {platform.python_version()}",
            # the machine is shared: its load beside the figures says how much to trust them
            "load_1_5_15_min": [round(load, 2) for load in os.getloadavg()]}
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


WINDOW = 2  # seconds


def alternating(stack, sides, seconds, token=None):
    """wrk's figures for each side (a list of paths, taken in turn) over `seconds`, and the CPU
    milliseconds each process spent per request. The sides take turns in windows of WINDOW
    seconds: this machine's CPU speed drifts by up to half from one second to the next (a fixed
    loop took 126-201 ms), and two back-to-back 10 s runs of rpc_tax, one per side, gave ratios of
    0.40 and 0.56 for the same code. p50/p99 are the worst window's."""
    totals = [{"requests": 0.0, "not_ok": 0, "socket_errors": 0, "p50_ms": 0.0, "p99_ms": 0.0, "cpu": {}}
              for _ in sides]
    for _ in range(seconds // WINDOW):
        for paths, total in zip(sides, totals):
            before = cpu_seconds(stack)
            window = wrk(stack.url, paths, seconds=WINDOW, token=token)
            spent = cpu_per(before, cpu_seconds(stack), 1)
            total["requests"] += window["requests_per_s"] * WINDOW
            for name in ("not_ok", "socket_errors"):
                total[name] += window[name]
            for name in ("p50_ms", "p99_ms"):
                total[name] = max(total[name], window[name])
            for name, ms in spent.items():
                total["cpu"][name] = total["cpu"].get(name, 0.0) + ms
    return [_figures(total, seconds) for total in totals]


def _figures(total, seconds):
    requests = max(1.0, total.pop("requests"))
    cpu = {name: round(ms / requests, 2) for name, ms in total.pop("cpu").items() if name != "client"}
    return {"requests_per_s": round(requests / seconds, 2), **total}, cpu


def parse_wrk(text):
    figures = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
               "not_ok": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0,
               "socket_errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        figures[f"p{pct}_ms"] = round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)
    return figures
