"""rush: a class launch. Members enrol at once into one class through the gateway, many clients
in parallel, each request with an Idempotency-Key and retried like a phone app would on a 503.

Full: 2,000 members, 300 seats, 200 clients. Quick (--quick): 400 members, 60 seats, 50 clients.
`--members`, `--seats` and `--clients` size the crowd otherwise (bench/crowd.py runs three sizes).
Bars (DESIGN.md): exactly `seats` confirmed and the rest waitlisted 1..N without gaps, no member
twice, 0 HTTP 5xx, >= 500 enrolments/s, p99 <= 300 ms, every member's notification in the inbox
exactly once within 10 s of the last answer. `--instances 2` runs two enrolment services."""
import argparse
import time

from bench._palace import admin, cpu_per, cpu_seconds, palace, percentile, report
from tests.crowd import enrol_crowd
from tests.harness import bulk_members

SIZES = {"full": {"members": 2000, "seats": 300, "clients": 200},
         "quick": {"members": 400, "seats": 60, "clients": 50}}
BARS = {"rate": 500, "p99_ms": 300, "notify_s": 10}
TOLD = ("enrolment.enrolment_confirmed", "enrolment.enrolment_waitlisted")
# CPU per enrolment: "all" the processes (PostgreSQL and RabbitMQ as whole servers, whoever else
# uses them), and "own": the palace's processes, its own PostgreSQL backends and the bench's client,
# without the servers' shared work (RabbitMQ's cannot be told apart by vhost)
OWN_PART, SHARED = ("postgres_backends",), ("postgres", "rabbitmq")


def inbox_counts(stack, member_ids):
    with stack.db("notify") as conn:
        row = conn.execute("SELECT count(*) AS entries, count(DISTINCT member_id) AS members FROM inbox"
                           " WHERE event_type = ANY(%s) AND member_id = ANY(%s::uuid[])",
                           (list(TOLD), member_ids)).fetchone()
    return row["entries"], row["members"]


def run(size, instances):
    stack = palace(instances={"enrolment": instances}, extra_env={"PALACE_ENROL_LIMIT": "1000/60"})
    try:
        staff = admin(stack)
        course = staff.post(f"{stack.url}/v1/courses", json={"title": "Phone photography 手机摄影",
                                                              "capacity": size["seats"]}, timeout=30)
        course.raise_for_status()
        course_id = course.json()["id"]
        people = bulk_members(stack, size["members"])
        member_ids = [m for m, _ in people]

        cpu_before, started = cpu_seconds(stack), time.monotonic()
        answers = enrol_crowd(stack.url, course_id, people, size["clients"], tries=3)
        last = time.monotonic()
        took = last - started

        while inbox_counts(stack, member_ids)[1] < len(people) and time.monotonic() - last < 60:
            time.sleep(0.05)
        told_after = time.monotonic() - last
        entries, told = inbox_counts(stack, member_ids)
        # where the machine's two cores went: CPU milliseconds per enrolment, per process
        cpu = cpu_per(cpu_before, cpu_seconds(stack), len(people))

        with stack.db("enrolment") as conn:
            counts = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
                " count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,"
                " count(*) - count(DISTINCT member_id) AS duplicates"
                " FROM enrolments WHERE course_id = %s AND status <> 'cancelled'", (course_id,)).fetchone()
        return answers, took, told_after, entries, told, counts, cpu
    finally:
        stack.destroy()


def sized(args):
    """The crowd's size: full or quick, each figure given on the command line taking precedence."""
    size = dict(SIZES["quick" if args.quick else "full"])
    size.update({name: getattr(args, name) for name in size if getattr(args, name) is not None})
    if not 0 < size["seats"] <= size["members"] or size["clients"] < 1:
        raise SystemExit("rush: give 0 < seats <= members and clients >= 1")
    return size


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench rush")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--instances", type=int, default=1, help="copies of the enrolment service")
    for name in ("members", "seats", "clients"):
        parser.add_argument(f"--{name}", type=int, help=f"the crowd's {name} (default: full's or quick's)")
    args = parser.parse_args(argv)
    size = sized(args)
    label = next((name for name, preset in SIZES.items() if preset == size), "custom")
    return report("rush", *measure(size, args.instances, label))


def measure(size, instances=1, label="full"):
    """One rush of `size`: its figures and which of the bars held."""
    answers, took, told_after, entries, told, counts, cpu = run(size, instances)
    seconds = [a["seconds"] for a in answers]
    positions = sorted(a["body"]["position"] for a in answers
                       if a["status"] in (200, 201) and a["body"]["status"] == "waitlisted")
    waiting = size["members"] - size["seats"]
    figures = {
        "size": label, "enrolment_instances": instances, **size,
        "confirmed": counts["confirmed"], "waitlisted": counts["waitlisted"],
        "oversold": max(0, counts["confirmed"] - size["seats"]), "duplicates": counts["duplicates"],
        "http_5xx": sum(a["status"] >= 500 for a in answers), "retried": sum(a["tries"] > 1 for a in answers),
        "other_4xx": sum(400 <= a["status"] < 500 for a in answers),
        "enrolments_per_s": round(len(answers) / took, 1),
        "p50_ms": round(percentile(seconds, 50) * 1000, 1), "p95_ms": round(percentile(seconds, 95) * 1000, 1),
        "p99_ms": round(percentile(seconds, 99) * 1000, 1),
        "inbox_entries": entries, "members_told": told, "all_told_after_s": round(told_after, 2),
        "cpu_ms_per_enrolment": {**cpu, "all": round(sum(ms for name, ms in cpu.items() if name not in OWN_PART), 2),
                                 "own": round(sum(ms for name, ms in cpu.items() if name not in SHARED), 2)},
    }
    bars = {
        "exact_seats": counts["confirmed"] == size["seats"] and counts["waitlisted"] == waiting,
        "waitlist_gap_free": positions == list(range(1, waiting + 1)),
        "no_member_twice": counts["duplicates"] == 0,
        "no_5xx": figures["http_5xx"] == 0 and figures["other_4xx"] == 0,
        f"rate>={BARS['rate']}/s": figures["enrolments_per_s"] >= BARS["rate"],
        f"p99<={BARS['p99_ms']}ms": figures["p99_ms"] <= BARS["p99_ms"],
        f"told_once_within_{BARS['notify_s']}s": entries == size["members"] == told
                                                  and told_after <= BARS["notify_s"],
    }
    return figures, bars
