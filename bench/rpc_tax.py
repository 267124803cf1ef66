"""rpc-tax: one member reading one enrolment through gateway -> RPC -> enrolment database, beside
the gateway reading the same row straight from that database, in one run, 64 connections.

Bar (DESIGN.md): the RPC path does at least half the direct path's requests/s.
Full: 10 s per side; quick (--quick): 4 s."""
import argparse

from bench._palace import admin, cpu_per, cpu_seconds, palace, report, wrk
from tests.harness import bulk_members

BAR_RATIO = 0.5


def measured(stack, path, seconds, token):
    """wrk's figures for one path, and the CPU milliseconds each process spent per request."""
    before = cpu_seconds(stack)
    figures = wrk(stack.url, [path], seconds=seconds, token=token)
    spent = cpu_per(before, cpu_seconds(stack), max(1.0, figures["requests_per_s"] * seconds))
    return figures, {name: ms for name, ms in spent.items() if name != "client"}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench rpc_tax")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    seconds = 4 if args.quick else 10
    stack = palace(extra_env={"PALACE_BENCH_ROUTES": "1"}, names=("enrolment", "gateway-feed", "gateway"))
    try:
        staff = admin(stack)
        course = staff.post(f"{stack.url}/v1/courses", json={"title": "Erhu 二胡", "capacity": 10}, timeout=30).json()
        [(member_id, token)] = bulk_members(stack, 1)
        staff.headers["Authorization"] = f"Bearer {token}"
        enrolment = staff.post(f"{stack.url}/v1/courses/{course['id']}/enrolments", timeout=30).json()
        via_rpc, direct = f"/v1/enrolments/{enrolment['id']}", f"/bench/direct/enrolments/{enrolment['id']}"
        wrk(stack.url, [via_rpc], seconds=2, token=token)
        wrk(stack.url, [direct], seconds=2, token=token)
        rpc, rpc_cpu = measured(stack, via_rpc, seconds, token)
        db, db_cpu = measured(stack, direct, seconds, token)
    finally:
        stack.destroy()
    ratio = rpc["requests_per_s"] / db["requests_per_s"]
    figures = {"size": "quick" if args.quick else "full", "connections": 64, "seconds": seconds,
               "through_rpc": rpc, "direct_db": db, "ratio": round(ratio, 2),
               "cpu_ms_per_read": {"through_rpc": rpc_cpu, "direct_db": db_cpu}}
    bars = {f"ratio>={BAR_RATIO}": ratio >= BAR_RATIO, "all_ok": rpc["not_ok"] == db["not_ok"] == 0}
    return report("rpc_tax", figures, bars)
