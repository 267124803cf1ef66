"""crowd: the rush at three sizes of crowd, to show that an enrolment costs the same whether 300
or 18,000 members wait in line (issue 23): no step may grow with the waitlist or with the
enrolments of the course, such as a waitlist position counted row by row under the course lock.

Full: 2,000 -> 300, 5,000 -> 800 and 20,000 -> 2,000 (members -> seats), 200 clients.
Quick (--quick): 400 -> 60, 1,000 -> 160 and 4,000 -> 400, 50 clients.
Bars: CPU per enrolment of the three within 15% of each other (the largest at most 1.15 times the
smallest), over all processes, and over the palace's own (rush.SHARED: PostgreSQL's backends for
other stacks and RabbitMQ's work for them are not this palace's, on a machine others share); at
every size exact seats, a gap-free waitlist, no member twice, no 5xx, every member told exactly once.
The rush's speed bars are reported, not required here.

`--explain`: no rush; the query plans (EXPLAIN ANALYZE) of the statements an enrolment runs, with
one course at the largest crowd's end (2,000 seats taken, 18,000 in line), written straight into a
migrated enrolment database, of a member reading their place in line, and of the count of the line
that an enrolment used to make."""
import argparse
import re
import tempfile
import uuid

from bench import rush
from bench._palace import SIZING, report
from services.enrolment import store
from tests.harness import Stack

CROWDS = {"full": [(2000, 300), (5000, 800), (20000, 2000)],
          "quick": [(400, 60), (1000, 160), (4000, 400)]}
CLIENTS = {"full": 200, "quick": 50}
FLAT = 0.15
KEPT = ("exact_seats", "waitlist_gap_free", "no_member_twice", "no_5xx")


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench crowd")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--explain", action="store_true", help="the plans at 20,000 -> 2,000, no rush")
    args = parser.parse_args(argv)
    if args.explain:
        return explain(*CROWDS["full"][-1])
    label = "quick" if args.quick else "full"
    runs, bars = [], {}
    for members, seats in CROWDS[label]:
        figures, held = rush.measure({"members": members, "seats": seats, "clients": CLIENTS[label]}, label=label)
        told_once = figures["inbox_entries"] == members == figures["members_told"]
        runs.append({name: figures[name] for name in (
            "members", "seats", "clients", "confirmed", "waitlisted", "enrolments_per_s", "p50_ms", "p99_ms",
            "all_told_after_s", "cpu_ms_per_enrolment")} | {"held": {name: held[name] for name in KEPT}})
        for name in KEPT:
            bars[f"{name}_at_{members}"] = held[name]
        bars[f"told_once_at_{members}"] = told_once
    figures = {"size": label, "runs": runs}
    for part in ("all", "own"):  # own: without the shared servers' work for other stacks (rush.SHARED)
        cpu = [run["cpu_ms_per_enrolment"][part] for run in runs]
        spread = max(cpu) / min(cpu) - 1
        figures[f"cpu_ms_per_enrolment_{part}"], figures[f"cpu_spread_{part}"] = cpu, round(spread, 3)
        bars[f"cpu_{part}_flat_within_{round(FLAT * 100)}%"] = spread <= FLAT
    return report("crowd", figures, bars)


class Recorder:
    """A connection that keeps the statement a store function runs instead of running it."""

    def execute(self, sql, args=None):
        self.sql, self.args = sql, args
        raise LookupError("recorded")


def recorded(function, *args):
    spy = Recorder()
    try:
        function(spy, *args)
    except LookupError:
        pass
    return spy.sql, spy.args


def explain(members, seats):
    stack = Stack(tempfile.mkdtemp(prefix="palace-bench-"), sizing=SIZING)
    stack.create()
    try:
        with stack.db("enrolment") as conn:
            plans = seeded_plans(conn, members, seats)
    finally:
        stack.destroy()
    # pages touched, not milliseconds: on a shared machine a 0.3 ms statement can take 3 ms
    most = max(plan["buffers"] for name, plan in plans.items() if name in ENROLMENT_STATEMENTS)
    figures = {"members": members, "seats": seats, "waitlisted": members - seats, "plans": plans}
    return report("crowd_explain", figures, {f"enrolment_statements_touch_under_{FEW_PAGES}_pages": most < FEW_PAGES})


# what one enrolment runs, and a member reading their place in line (not: the count no longer made)
ENROLMENT_STATEMENTS = ("standing", "lock_course", "add_enrolment (waitlisted, last in line)",
                        "the position of the last in line, read back")
FEW_PAGES = 50


def seeded_plans(conn, members, seats):
    waiting = members - seats
    course = conn.execute("INSERT INTO courses (title, capacity, confirmed_count, waitlist_seq, waitlist_length)"
                          " VALUES ('Crowd', %s, %s, %s, %s) RETURNING id", (seats, seats, waiting, waiting)).fetchone()["id"]
    conn.execute("INSERT INTO enrolments (course_id, member_id, status, waitlist_seq, idempotency_key)"
                 " SELECT %(c)s, gen_random_uuid(), CASE WHEN n <= %(s)s THEN 'confirmed' ELSE 'waitlisted' END,"
                 " CASE WHEN n > %(s)s THEN n - %(s)s END, gen_random_uuid()::text FROM generate_series(1, %(m)s) n",
                 {"c": course, "s": seats, "m": members})
    conn.commit()
    last = conn.execute("SELECT id FROM enrolments WHERE course_id = %s AND status = 'waitlisted'"
                        " ORDER BY waitlist_seq DESC LIMIT 1", (course,)).fetchone()["id"]
    member = str(uuid.uuid4())
    statements = {
        "the line counted (before issue 23)": (
            "SELECT (SELECT count(*) FROM enrolments w WHERE w.course_id = c.id AND w.status = 'waitlisted')"
            " FROM courses c WHERE c.id = %s", (course,)),
        "standing": recorded(store.standing, member, course, "key"),
        "lock_course": recorded(store.lock_course, course),
        "add_enrolment (waitlisted, last in line)": recorded(
            store.add_enrolment, {"id": course}, member, "waitlisted", "key"),
        "counts": recorded(store.counts, course),
        "fill's head of the line": recorded(store.waitlist, course, 1),
        "the position of the last in line, read back": recorded(store.get_enrolment, last),
    }
    plans = {}
    for name, (sql, args) in statements.items():
        lines = [row["QUERY PLAN"] for row in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, args)]
        conn.rollback()  # add_enrolment's row and lock go
        text = "\n".join(lines)
        ms = float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1))
        pages = sum(int(n) for n in re.findall(r"=(\d+)", re.search(r"Buffers: ([^\n]*)", text).group(1)))
        plans[name] = {"ms": ms, "buffers": pages, "plan": lines}
    return plans
