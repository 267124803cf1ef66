"""events: 1,000 events/s from a service's outbox to the members' inboxes.

An isolated palace (own databases and RabbitMQ vhost, as the tests make) runs the enrolment
service (whose outbox relay publishes) and notify. Producer processes commit `enrolment_confirmed`
events into enrolment's outbox table at the target rate, one event per transaction as a service
would, noting each commit time. Latency is the inbox row's time (notify's transaction) minus that
commit time; bar: p99 < 200 ms at 1,000 events/s, every event in an inbox exactly once.

`python -m bench events [--quick] [--rate N] [--seconds S]`"""
import argparse
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor

import psycopg

from bench._palace import palace, percentile, report
from services.common import config
from services.common.outbox import record
from tests.harness import eventually

BAR_P99_MS = 200.0
PRODUCERS = 4


def produce(url, rate, seconds, start_at):
    """One producer process: commit `rate * seconds` events at `rate`/s from `start_at` (wall clock),
    one per transaction, each sent as one pipeline (insert, notify, commit) the way a service's
    transaction ends. Returns ({event_id: commit time}, errors)."""
    commits, errors = {}, []
    try:
        with psycopg.connect(url) as conn:
            total = int(rate * seconds)
            for i in range(total):
                wait = start_at + i / rate - time.time()
                if wait > 0:
                    time.sleep(wait)
                with conn.pipeline(), conn.transaction():
                    event = record(conn, "enrolment", "enrolment_confirmed", {
                        "enrolment_id": str(uuid.uuid4()), "course_id": str(uuid.uuid4()),
                        "course_title": "Bench choir", "member_id": str(uuid.uuid4()), "status": "confirmed",
                        "position": None})
                commits[event["event_id"]] = time.time()
    except Exception as exc:  # reported in the result line
        errors.append(repr(exc))
    return commits, errors


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench events")
    parser.add_argument("--quick", action="store_true", help="5 s instead of 20 s")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 20.0)

    stack = palace(names=["enrolment", "notify"])
    try:
        url = f"{config.pg_server()}/{stack.tag}_enrolment"
        commits, errors = {}, []
        start_at = time.time() + 1.0
        with ProcessPoolExecutor(PRODUCERS) as pool:
            runs = [pool.submit(produce, url, args.rate / PRODUCERS, seconds, start_at) for _ in range(PRODUCERS)]
            for run in runs:
                done, failed = run.result()
                commits.update(done)
                errors.extend(failed)
        produced_in = max(commits.values(), default=start_at) - start_at
        total = len(commits)

        with stack.db("notify") as conn:
            try:
                eventually(lambda: conn.execute("SELECT count(*) AS n FROM inbox").fetchone()["n"] >= total,
                           timeout=60, interval=0.2)
            except AssertionError:
                pass
            rows = conn.execute("SELECT event_id::text AS event_id, extract(epoch FROM created_at) AS at,"
                                " count(*) OVER (PARTITION BY event_id) AS copies FROM inbox").fetchall()
        with stack.db("enrolment") as conn:
            sent = {r["event_id"]: float(r["sent"]) for r in conn.execute(
                "SELECT event_id::text AS event_id, extract(epoch FROM sent_at) AS sent FROM outbox").fetchall()}
        with stack.rpc() as rpc:
            figures = rpc.notify.stats()
    finally:
        stack.destroy()

    latencies = [(float(r["at"]) - commits[r["event_id"]]) * 1000 for r in rows if r["event_id"] in commits]
    relayed = [(sent[e] - t) * 1000 for e, t in commits.items() if sent.get(e)]
    consumed = [(float(r["at"]) - sent[r["event_id"]]) * 1000 for r in rows if sent.get(r["event_id"])]
    duplicates = sum(1 for r in rows if r["copies"] > 1)
    commit_rate = total / produced_in

    def ms(values, p):
        value = percentile(values, p)
        return None if value is None else round(value, 1)

    result = {
        "quick": args.quick, "target_rate": args.rate, "seconds": seconds, "committed": total,
        "commit_rate": round(commit_rate, 1), "in_inbox": len(rows), "duplicates": duplicates,
        "p50_ms": ms(latencies, 50), "p95_ms": ms(latencies, 95), "p99_ms": ms(latencies, 99),
        "max_ms": ms(latencies, 100), "relay_p99_ms": ms(relayed, 99), "consume_p99_ms": ms(consumed, 99),
        "notify_stats_inbox_p99_ms": figures.get("inbox_latency_p99_ms"), "errors": errors[:3],
    }
    p99 = result["p99_ms"]
    return report("events", result, {
        "every_event_once": not errors and len(rows) == total and duplicates == 0 and total > 0,
        "rate": commit_rate >= 0.95 * args.rate,
        "p99_ms": p99 is not None and p99 < BAR_P99_MS,
    })


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
