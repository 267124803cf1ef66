"""`make run`: migrate, then start every service and the gateway in the foreground.

Ctrl-C or SIGTERM stops them all (SIGTERM, then SIGKILL after a grace period); if one of them
dies, the rest are stopped too, so a broken stack never looks alive."""
import os
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


def main(argv=()):
    demo = "--demo" in argv
    if demo:  # the demo's admin, unless one is configured
        os.environ.setdefault("PALACE_ADMIN_PHONE", "13800000000")
        os.environ.setdefault("PALACE_ADMIN_PASSWORD", "admin-pass-1")
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
