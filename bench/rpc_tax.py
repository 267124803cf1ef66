"""rpc-tax: one member reading one enrolment through gateway -> RPC -> enrolment database, beside
the gateway reading the same row straight from that database, in one run, 64 connections.

Bar (DESIGN.md): the RPC path does at least half the direct path's requests/s.
Full: 10 s per side; quick (--quick): 4 s, the two paths taking turns (`alternating`)."""
import argparse
import os
import resource
import threading

from bench._direct import GATEWAY as DIRECT_GATEWAY
from bench._palace import WINDOW, admin, alternating, cpu_per, cpu_seconds, palace, report, wrk
from tests.harness import bulk_members

TOOLS = ("wrk",)
BAR_RATIO = 0.5


def floor(stack, calls=2000, threads=4):
    """CPU milliseconds per call of the cheapest RPC there is, the enrolment service's ping (one
    SELECT 1), made from this process with the gateway's own RPC client and no HTTP: the part of
    every RPC that this code base does not choose."""
    os.environ["AMQP_URI"] = stack.env["AMQP_URI"]
    os.environ["PALACE_CONTEXT_KEY"] = stack.env["PALACE_CONTEXT_KEY"]  # the calls are signed as the gateway's
    from gateway import rpc

    def caller():
        for _ in range(calls // threads):
            rpc.call("enrolment", "ping")

    def run():
        workers = [threading.Thread(target=caller) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    run()  # warm: the client connects
    before, own = cpu_seconds(stack), resource.getrusage(resource.RUSAGE_SELF)
    run()
    spent = cpu_per(before, cpu_seconds(stack), calls)
    after = resource.getrusage(resource.RUSAGE_SELF)
    client = (after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime) * 1000 / calls
    return {"enrolment": spent["enrolment"], "rabbitmq": spent["rabbitmq"], "postgres": spent["postgres"],
            "caller": round(client, 2)}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench rpc_tax")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    seconds = 4 if args.quick else 10
    stack = palace(names=("enrolment", "gateway-feed", "gateway"), commands={"gateway": DIRECT_GATEWAY})
    try:
        staff = admin(stack)
        course = staff.post(f"{stack.url}/v1/courses", json={"title": "Erhu 二胡", "capacity": 10}, timeout=30).json()
        [(member_id, token)] = bulk_members(stack, 1)
        staff.headers["Authorization"] = f"Bearer {token}"
        enrolment = staff.post(f"{stack.url}/v1/courses/{course['id']}/enrolments", timeout=30).json()
        via_rpc, direct = f"/v1/enrolments/{enrolment['id']}", f"/bench/direct/enrolments/{enrolment['id']}"
        wrk(stack.url, [via_rpc], seconds=2, token=token)
        wrk(stack.url, [direct], seconds=2, token=token)
        (rpc, rpc_cpu), (db, db_cpu) = alternating(stack, [[via_rpc], [direct]], seconds, token)
        ping = floor(stack)
    finally:
        stack.destroy()
    ratio = rpc["requests_per_s"] / db["requests_per_s"]
    figures = {"size": "quick" if args.quick else "full", "connections": 64, "seconds": seconds, "window_s": WINDOW,
               "through_rpc": rpc, "direct_db": db, "ratio": round(ratio, 2),
               "cpu_ms_per_read": {"through_rpc": rpc_cpu, "direct_db": db_cpu, "rpc_floor_ping": ping}}
    bars = {f"ratio>={BAR_RATIO}": ratio >= BAR_RATIO, "all_ok": rpc["not_ok"] == db["not_ok"] == 0}
    return report("rpc_tax", figures, bars)
