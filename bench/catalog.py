"""catalog: course list and detail reads at 64 connections, served from the gateway's read model,
beside the same reads done by the gateway straight from the enrolment database, in one run.

Bars (DESIGN.md): >= 3,000 requests/s from the read model, and at least twice the direct reads.
Full: 10 s per side; quick (--quick): 4 s, the two sides taking turns (`alternating`)."""
import argparse
import time

from bench._direct import GATEWAY as DIRECT_GATEWAY
from bench._palace import WINDOW, admin, alternating, palace, report, wrk

TOOLS = ("wrk",)
COURSES = 40
BAR_RATE, BAR_RATIO = 3000, 2.0
NAMES = ("Phone photography", "Tea art", "Paper cutting", "Yoga", "Choir", "Calligraphy", "Erhu", "Square dance")


def setup(stack):
    staff = admin(stack)
    ids = []
    for n in range(COURSES):
        answer = staff.post(f"{stack.url}/v1/courses", json={"title": f"{NAMES[n % len(NAMES)]} {n + 1}",
                                                             "category": "culture", "capacity": 30}, timeout=30)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    deadline = time.monotonic() + 30
    while len(staff.get(f"{stack.url}/v1/courses", params={"limit": 100}, timeout=30).json()) < COURSES:
        assert time.monotonic() < deadline, "the read model did not fill from the course events"
        time.sleep(0.2)
    return ids


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench catalog")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    seconds = 4 if args.quick else 10
    stack = palace(names=("enrolment", "gateway-feed", "gateway"), commands={"gateway": DIRECT_GATEWAY})
    try:
        ids = setup(stack)
        paths = lambda prefix: [f"{prefix}?limit=20"] + [f"{prefix}/{i}" for i in ids[:10]]  # noqa: E731
        wrk(stack.url, paths("/v1/courses"), seconds=2)  # warm both paths' pools and caches
        wrk(stack.url, paths("/bench/direct/courses"), seconds=2)
        (model, model_cpu), (direct, direct_cpu) = alternating(
            stack, [paths("/v1/courses"), paths("/bench/direct/courses")], seconds)
    finally:
        stack.destroy()
    ratio = model["requests_per_s"] / direct["requests_per_s"]
    figures = {"size": "quick" if args.quick else "full", "connections": 64, "seconds": seconds, "window_s": WINDOW,
               "read_model": model, "direct_db": direct, "ratio": round(ratio, 2),
               "cpu_ms_per_read": {"read_model": model_cpu, "direct_db": direct_cpu}}
    bars = {f"read_model>={BAR_RATE}/s": model["requests_per_s"] >= BAR_RATE,
            f"ratio>={BAR_RATIO}": ratio >= BAR_RATIO,
            "all_ok": model["not_ok"] == direct["not_ok"] == 0}
    return report("catalog", figures, bars)
