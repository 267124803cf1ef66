"""events: 1,000 events/s from a service's outbox to the members' inboxes.

An isolated palace (own databases and RabbitMQ vhost, as the tests make) runs the enrolment
service (whose outbox relay publishes) and notify. Producer threads commit `enrolment_confirmed`
events into enrolment's outbox table at the target rate, one event per transaction as a service
would, noting each commit time. Latency is the inbox row's time (notify's transaction) minus that
commit time; bar: p99 < 200 ms at 1,000 events/s, every event in an inbox exactly once.

`python -m bench events [--quick] [--rate N] [--seconds S]`"""
import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid

import psycopg

from services.common import config
from services.common.outbox import record

BAR_P99_MS = 200.0
PRODUCERS = 4


def produce(url, rate, seconds, commits, errors):
    """Commit `rate * seconds` events at `rate`/s, one per transaction; commit times into `commits`."""
    try:
        with psycopg.connect(url) as conn:
            start = time.perf_counter()
            total = int(rate * seconds)
            for i in range(total):
                wait = start + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                member = str(uuid.uuid4())
                with conn.transaction():
                    event = record(conn, "enrolment", "enrolment_confirmed", {
                        "enrolment_id": str(uuid.uuid4()), "course_id": str(uuid.uuid4()),
                        "course_title": "Bench choir", "member_id": member, "status": "confirmed",
                        "position": None})
                commits[event["event_id"]] = time.time()
    except Exception as exc:  # reported in the result line
        errors.append(repr(exc))


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench events")
    parser.add_argument("--quick", action="store_true", help="5 s instead of 20 s")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 20.0)

    from tests.harness import Stack, eventually  # the tests' isolated palace

    import os
    stack = Stack(tempfile.mkdtemp(prefix="bench-events-"))
    stack.create()
    os.environ.update(AMQP_URI=stack.env["AMQP_URI"], PALACE_DB_PREFIX=stack.tag)
    try:
        stack.start("enrolment")
        stack.start("notify")
        url = config.db_url("enrolment")
        commits, errors = {}, []
        threads = [threading.Thread(target=produce, args=(url, args.rate / PRODUCERS, seconds, commits, errors))
                   for _ in range(PRODUCERS)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        produced_in = time.perf_counter() - began
        total = len(commits)

        with stack.db("notify") as conn:
            def arrived():
                n = conn.execute("SELECT count(*) AS n FROM inbox").fetchone()["n"]
                return n >= total and n
            try:
                eventually(arrived, timeout=60, interval=0.2)
            except AssertionError:
                pass
            rows = conn.execute("SELECT event_id::text AS event_id, extract(epoch FROM created_at) AS at,"
                                " count(*) OVER (PARTITION BY event_id) AS copies FROM inbox").fetchall()
        latencies = [(float(r["at"]) - commits[r["event_id"]]) * 1000 for r in rows if r["event_id"] in commits]
        duplicates = sum(1 for r in rows if r["copies"] > 1)
        with stack.db("enrolment") as conn:
            sent = {r["event_id"]: float(r["sent"]) for r in conn.execute(
                "SELECT event_id::text AS event_id, extract(epoch FROM sent_at) AS sent FROM outbox").fetchall()}
        relayed = [(sent[e] - t) * 1000 for e, t in commits.items() if sent.get(e)]
        consumed = [(float(r["at"]) - sent[r["event_id"]]) * 1000 for r in rows if sent.get(r["event_id"])]
        with stack.rpc() as rpc:
            figures = rpc.notify.stats()
        result = {
            "scenario": "events", "quick": args.quick, "target_rate": args.rate, "seconds": seconds,
            "committed": total, "commit_rate": round(total / produced_in, 1),
            "in_inbox": len(rows), "duplicates": duplicates,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "bar_p99_ms": BAR_P99_MS, 
            "relay_p99_ms": round(percentile(relayed, 0.99), 1) if relayed else None,
            "consume_p99_ms": round(percentile(consumed, 0.99), 1) if consumed else None, "notify_inbox_p99_ms": figures.get("inbox_latency_p99_ms"),
            "errors": errors[:3],
        }
        result["ok"] = bool(
            not errors and latencies and len(rows) == total and duplicates == 0
            and result["commit_rate"] >= 0.95 * args.rate and result["p99_ms"] < BAR_P99_MS)
        print(json.dumps(result))
        return 0 if result["ok"] else 1
    finally:
        stack.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
