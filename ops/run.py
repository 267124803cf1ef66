"""`make run`: migrate, then start every service and the gateway in the foreground.

Ctrl-C or SIGTERM stops them all (SIGTERM, then SIGKILL after a grace period); if one of them
dies, the rest are stopped too, so a broken stack never looks alive."""
import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ops import processes
from services.common import config

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GRACE = 15


def argv_here(argv):
    """A table command with its program taken from this virtual environment."""
    program = BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def spawn(name, argv, extra_env, env=None):
    env = {**(env or os.environ), **extra_env}
    proc = subprocess.Popen(argv_here(argv), cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    threading.Thread(target=_prefix, args=(name, proc.stdout), daemon=True).start()
    return proc


def _prefix(name, stream):
    for line in stream:
        sys.stdout.write(f"{name:<9} | {line}")
        sys.stdout.flush()


def stop_all(procs):
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for proc in procs.values():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=GRACE)


def metrics_port(index):
    """Each service process on this machine serves its metrics on its own port (the gateway on its
    HTTP port, at /metrics): 9101, 9102... from PALACE_METRICS_BASE (default 9100)."""
    base = int(config.env("PALACE_METRICS_BASE"))
    return {"PALACE_METRICS_PORT": str(base + 1 + index)}


def development_keys():
    """The keys every part of this run shares, made for the run unless set (events left unsent by an
    earlier run carry its signature, and are dead-lettered: `palace dead-letters` shows them)."""
    os.environ.setdefault("PALACE_DEVELOPMENT", "1")  # the local guest and postgres, welfare's kept key
    os.environ.setdefault("PALACE_CONTEXT_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("PALACE_RESET_CODE_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    if not config.env("PALACE_METRICS_TOKEN"):  # nor its _FILE: ops read /metrics with it (printed at the start)
        os.environ["PALACE_METRICS_TOKEN"] = secrets.token_urlsafe(32)
    development_welfare_keys()


def development_welfare_keys():
    """welfare's sealed data outlives a run (its database does), so its development keys do too: made
    once, kept in var/ (never in the database beside the data), unless the environment gives them."""
    path = ROOT / "var" / "development-welfare-keys.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"PALACE_WELFARE_KEYS": f"dev1:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
                       "PALACE_WELFARE_FINGERPRINT_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()},
                      out)
    for name, value in json.loads(path.read_text()).items():
        if not os.environ.get(name) and not os.environ.get(f"{name}_FILE"):
            os.environ[name] = value


def main(argv=()):
    demo = "--demo" in argv
    if demo:  # the demo's admin, unless one is configured
        os.environ.setdefault("PALACE_ADMIN_PHONE", "13800000000")
        os.environ.setdefault("PALACE_ADMIN_PASSWORD", "admin-pass-1")
    development_keys()
    if subprocess.run(argv_here(processes.MIGRATE), cwd=ROOT).returncode != 0:
        print("migrate failed; nothing started", file=sys.stderr)
        return 1
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    procs = {name: spawn(name, argv, {**env, **metrics_port(i)})
             for i, (name, (argv, env)) in enumerate(processes.commands().items())}
    port = config.env("PALACE_HTTP_PORT")
    print(f"palace is starting: gateway on http://127.0.0.1:{port} (Ctrl-C stops everything)", flush=True)
    print(f"its metrics: curl -H 'Authorization: Bearer {config.env('PALACE_METRICS_TOKEN')}'"
          f" http://127.0.0.1:{port}/metrics", flush=True)
    if demo:
        from ops import demo as loader

        threading.Thread(target=loader.main, args=(f"http://127.0.0.1:{port}",), daemon=True).start()
    code = 0
    while not stopping.wait(0.5):
        dead = [name for name, proc in procs.items() if proc.poll() is not None]
        if dead:
            print(f"{', '.join(dead)} exited; stopping the rest", file=sys.stderr)
            code = 1
            break
    stop_all(procs)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
