"""reports: the yearly report (GET /v1/reports/summary) over a city-sized year, per breakdown.

Full: last year of a city, written straight into the databases with generate_series (not through the
API): 400 sites x 8 rooms, 300,000 bookings and two days' closure a site; 300 course runs, 4,800 sessions, 50,000 enrolments
and 100,000 attendance marks; 10,000 welfare cases with their approvals and payouts, 892 units'
66,073 mutual-aid enrolments, contributions and 2,000 claims paid; 300,000 messages and 200,000
inbox entries. Quick (--quick): a tenth of each. Each breakdown (none, month, site, district, unit,
category, programme) is asked RUNS times after a warm-up, for the whole year and for one month.
Bar (issue 19): the year's report answers in under a second (the median of its runs) for every `by`."""
import argparse
import os
import statistics
import time
from datetime import date

from bench._palace import admin, palace, report
from services.common.reports import BREAKDOWNS
from services.common.zone import HOME_ZONE_NAME

SIZES = {"full": {"sites": 400, "rooms_per_site": 8, "bookings": 300_000, "courses": 300, "sessions_per_course": 16,
                  "enrolments": 50_000, "marks": 100_000, "cases": 10_000, "units": 892, "plan_enrolments": 66_073,
                  "claims": 2_000, "deliveries": 300_000, "inbox": 200_000},
         "quick": {"sites": 40, "rooms_per_site": 8, "bookings": 30_000, "courses": 30, "sessions_per_course": 16,
                   "enrolments": 5_000, "marks": 10_000, "cases": 1_000, "units": 89, "plan_enrolments": 6_607,
                   "claims": 200, "deliveries": 30_000, "inbox": 20_000}}
RUNS = 5
BAR_MS = 1000
DISTRICTS = 16


def _year_start(conn, year):
    return conn.execute("SELECT make_timestamptz(%s, 1, 1, 0, 0, 0, %s) AS t", (year, HOME_ZONE_NAME)).fetchone()["t"]


def seed_venues(conn, size, year):
    start = _year_start(conn, year)
    conn.execute("SELECT setseed(0.19)")
    conn.execute("INSERT INTO sites (name, kind, district) SELECT 'Workers'' Home ' || g,"
                 " (ARRAY['palace','own_unit','shared','mobile'])[1 + g %% 4], 'District ' || (g %% %s)"
                 " FROM generate_series(1, %s) g", (DISTRICTS, size["sites"]))
    conn.execute(
        """INSERT INTO rooms (site_id, name, capacity, opening_hours)
           SELECT s.id, 'Room ' || k, 10 * k, CASE WHEN k %% 2 = 0 THEN
               '{"mon": ["08:00", "22:00"], "tue": ["08:00", "22:00"], "wed": ["08:00", "22:00"],
                 "thu": ["08:00", "22:00"], "fri": ["08:00", "22:00"], "sat": ["09:00", "17:00"]}'::jsonb END
           FROM sites s, generate_series(1, %s) k""", (size["rooms_per_site"],))
    rooms = size["sites"] * size["rooms_per_site"]
    # one 2-hour evening slot a room and day, taken with the share that gives the count wanted
    conn.execute(
        """INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,
                                 holder_reference)
           SELECT r.id, r.site_id, 'Rehearsal', (ARRAY['confirmed','confirmed','confirmed','checked_in','cancelled'])
                  [1 + floor(random() * 5)::int], t, t + interval '2 hours', tstzrange(t, t + interval '2 hours'),
                  'members', 'bench'
           FROM rooms r, generate_series(0, 364) d, LATERAL (SELECT %s + d * interval '1 day' + interval '19 hours' AS t) x
           WHERE random() < %s""", (start, size["bookings"] / (rooms * 365)))
    # every site closed for two days of the year (repairs, a holiday event): utilisation takes them off
    conn.execute(
        """INSERT INTO closures (site_id, during, reason)
           SELECT s.id, tstzrange(t, t + interval '2 days'), 'repairs'
           FROM sites s, LATERAL (SELECT %s + (abs(hashtext(s.id::text)) %% 360) * interval '1 day' AS t) x""",
        (start,))


def seed_enrolment(conn, size, year):
    start = _year_start(conn, year)
    conn.execute("SELECT setseed(0.19)")
    per_course = size["enrolments"] // size["courses"] + 1
    conn.execute(
        """INSERT INTO courses (title, capacity, category, district, site_id)
           SELECT 'Course ' || g, %s, (ARRAY['书法','摄影','瑜伽','合唱','茶艺','剪纸'])[1 + g %% 6],
                  'District ' || (g %% %s), md5('site' || (g %% 400))::uuid
           FROM generate_series(1, %s) g""", (per_course, DISTRICTS, size["courses"]))
    conn.execute(
        """INSERT INTO sessions (course_id, starts_at, ends_at, checkin_code)
           SELECT c.id, t, t + interval '2 hours', '1234' FROM courses c, generate_series(0, %s - 1) w,
                  LATERAL (SELECT %s + ((abs(hashtext(c.id::text)) %% 200) + w * 7) * interval '1 day'
                                  + interval '19 hours' AS t) x""", (size["sessions_per_course"], start))
    conn.execute(
        """INSERT INTO enrolments (course_id, member_id, status, waitlist_seq, created_at)
           SELECT c.id, md5('member' || n)::uuid, CASE WHEN n %% 20 = 0 THEN 'waitlisted' ELSE 'confirmed' END,
                  CASE WHEN n %% 20 = 0 THEN n END, %s + (random() * 364) * interval '1 day'
           FROM generate_series(1, %s) n
           JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM courses) c ON c.i = n %% %s""",
        (start, size["enrolments"], size["courses"]))
    pairs = size["enrolments"] * size["sessions_per_course"] * 0.95
    conn.execute(
        """INSERT INTO attendance (session_id, member_id, enrolment_id, present, source)
           SELECT s.id, e.member_id, e.id, random() < 0.85, 'teacher'
           FROM enrolments e JOIN sessions s ON s.course_id = e.course_id
           WHERE e.status = 'confirmed' AND random() < %s""", (size["marks"] / pairs,))


def seed_welfare(conn, size, year):
    start = _year_start(conn, year)
    conn.execute("SELECT setseed(0.19)")
    conn.execute(
        """INSERT INTO applications (reference, programme, member_id, submitted_by, state, amount_requested,
                                     amount_approved, reason, member_unit, created_at)
           SELECT 'B' || n, (ARRAY['hardship_relief','merit_scholarship','education_subsidy','legal_aid'])[1 + n %% 4],
                  md5('member' || n)::uuid, md5('member' || n)::uuid,
                  (ARRAY['submitted','approved','paid','paid','rejected'])[1 + n %% 5], 100000, 100000, 'need',
                  md5('unit' || (n %% %s))::uuid, %s + (random() * 360) * interval '1 day'
           FROM generate_series(1, %s) n""", (size["units"], start, size["cases"]))
    conn.execute(
        """INSERT INTO decisions (application_id, round, action, from_state, to_state, actor_id, amount, facts, created_at)
           SELECT id, 1, 'approve', 'under_review', 'approved', md5('officer')::uuid, 100000, '{}',
                  created_at + interval '2 days' FROM applications WHERE state IN ('approved', 'paid')""")
    conn.execute(
        """INSERT INTO payouts (reference, application_id, member_id, amount, created_at)
           SELECT 'P' || reference, id, member_id, amount_approved, created_at + interval '3 days'
           FROM applications WHERE state = 'paid'""")
    plan = conn.execute("INSERT INTO plans (year, name, contribution, rules) VALUES (%s, 'bench plan', 3000, '{}')"
                        " RETURNING id", (year,)).fetchone()["id"]
    conn.execute(
        """INSERT INTO plan_enrolments (plan_id, unit_id, name, national_id_hash, national_id_cipher,
                                        national_id_mask, enrolled_at)
           SELECT %s, md5('unit' || (n %% %s))::uuid, 'Worker', 'h' || n, '\\x00', '****',
                  %s + (random() * 90) * interval '1 day' FROM generate_series(1, %s) n""",
        (plan, size["units"], start, size["plan_enrolments"]))
    conn.execute(
        """INSERT INTO unit_contributions (plan_id, unit_id, amount, recorded_at)
           SELECT %s, unit_id, count(*) * 3000, min(enrolled_at) FROM plan_enrolments GROUP BY unit_id""", (plan,))
    conn.execute(
        """INSERT INTO claims (plan_id, enrolment_id, member_id, submitted_by, kind, event_date, details, state,
                               amount, explanation)
           SELECT plan_id, id, md5('member' || id)::uuid, md5('member' || id)::uuid, 'hospital',
                  enrolled_at::date + 30, '{}', 'paid', 500000, '[]'
           FROM plan_enrolments ORDER BY id LIMIT %s""", (size["claims"],))
    conn.execute(
        """INSERT INTO payouts (reference, claim_id, member_id, amount, created_at)
           SELECT 'C' || id, id, member_id, amount, event_date + interval '40 days' FROM claims""")


def seed_notify(conn, size, year):
    start = _year_start(conn, year)
    conn.execute("SELECT setseed(0.19)")
    conn.execute(
        """INSERT INTO deliveries (member_id, event_id, event_type, category, channel, address, language, title,
                                   body, rendered, route, state, event_at, finished_at, created_at)
           SELECT md5('member' || n)::uuid, gen_random_uuid(), 'enrolment.enrolment_confirmed', 'classes',
                  (ARRAY['wechat','sms','email','console'])[1 + n %% 4], 'x', 'zh-CN', 't', 'b', '{}', '[]',
                  CASE WHEN n %% 50 = 0 THEN 'failed' ELSE 'sent' END, t, t, t
           FROM generate_series(1, %s) n, LATERAL (SELECT %s + (random() * 364 + 0 * n) * interval '1 day' AS t) x""",
        (size["deliveries"], start))
    conn.execute(
        """INSERT INTO inbox (member_id, event_id, event_type, title, body, created_at)
           SELECT md5('member' || n)::uuid, gen_random_uuid(), 'enrolment.enrolment_confirmed', 't', 'b',
                  %s + (random() * 364) * interval '1 day' FROM generate_series(1, %s) n""", (start, size["inbox"]))


SEEDS = {"venues": seed_venues, "enrolment": seed_enrolment, "welfare": seed_welfare, "notify": seed_notify}
COUNTS = {"venues": "SELECT (SELECT count(*) FROM sites) AS sites, (SELECT count(*) FROM rooms) AS rooms,"
                    " (SELECT count(*) FROM bookings) AS bookings, (SELECT count(*) FROM closures) AS closures",
          "enrolment": "SELECT (SELECT count(*) FROM courses) AS courses, (SELECT count(*) FROM sessions) AS sessions,"
                       " (SELECT count(*) FROM enrolments) AS enrolments, (SELECT count(*) FROM attendance) AS marks",
          "welfare": "SELECT (SELECT count(*) FROM applications) AS cases, (SELECT count(*) FROM payouts) AS payouts,"
                     " (SELECT count(*) FROM plan_enrolments) AS plan_enrolments",
          "notify": "SELECT (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM inbox) AS inbox"}


def seed(stack, size, year):
    counts, began = {}, time.perf_counter()
    for part, fill in SEEDS.items():
        with stack.db(part) as conn:
            fill(conn, size, year)
            conn.execute("VACUUM ANALYZE")
            counts.update(conn.execute(COUNTS[part]).fetchone())
    return counts, round(time.perf_counter() - began, 1)


def timed(http, url, query):
    began = time.perf_counter()
    answer = http.get(url, params=query, timeout=60)
    answer.raise_for_status()
    return (time.perf_counter() - began) * 1000


def measure(stack, year):
    http, url = admin(stack), f"{stack.url}/v1/reports/summary"
    periods = {"year": {"from": f"{year}-01-01", "to": f"{year}-12-31"},
               "month": {"from": f"{year}-06-01", "to": f"{year}-06-30"}}
    figures = {}
    for name, period in periods.items():
        for by in (None, *BREAKDOWNS):
            query = {**period, **({"by": by} if by else {})}
            timed(http, url, query)  # warm: the services' pools and the database's caches
            runs = [timed(http, url, query) for _ in range(RUNS)]
            figures[f"{name}_{by or 'total'}"] = {"median_ms": round(statistics.median(runs), 1),
                                                   "max_ms": round(max(runs), 1)}
    sample = http.get(url, params=periods["year"], timeout=60).json()
    totals = {r["figure"]: r["value"] for r in sample["rows"] if r["group"] is None}
    return figures, totals


class Explaining:
    """A connection that plans instead of running: a store function's statements are EXPLAINed."""

    def __init__(self, conn):
        self.conn, self.scans = conn, []

    def execute(self, sql, params=None):
        plan = self.conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
        self.scans.append(sorted(set(_scans(next(iter(plan.values()))[0]["Plan"]))))
        return self

    def fetchall(self):
        return []


def _scans(node):
    if "Relation Name" in node:
        yield f"{node['Node Type']} on {node['Relation Name']}" + (f" using {node['Index Name']}"
                                                                    if "Index Name" in node else "")
    for child in node.get("Plans", ()):
        yield from _scans(child)


def explain(stack, year, by="month"):
    """How each report query reads one month of the year: the scans of its plan."""
    from services.enrolment import store as enrolment
    from services.notify import store as notify
    from services.venues import store as venues
    from services.welfare import store as welfare
    with stack.db("venues") as conn:
        start, end = (conn.execute("SELECT make_timestamptz(%s, 6, 1, 0, 0, 0, %s) AS s,"
                                   " make_timestamptz(%s, 7, 1, 0, 0, 0, %s) AS e",
                                   (year, HOME_ZONE_NAME, year, HOME_ZONE_NAME)).fetchone().values())
    queries = {"enrolment": [enrolment.report_sessions, enrolment.report_attendance, enrolment.report_enrolments],
               "venues": [venues.report_bookings, lambda c, s, e, b: venues.report_closed_hours(c, s, e, b)],
               "welfare": [welfare.report_cases, welfare.report_approvals, welfare.report_case_payouts,
                           welfare.report_plan_enrolments, welfare.report_contributions, welfare.report_claim_payouts],
               "notify": [lambda c, s, e, b: notify.report_sent(c, s, e, ("sms",), b)]}
    plans = {}
    for part, functions in queries.items():
        with stack.db(part) as conn:
            for function in functions:
                explaining = Explaining(conn)
                function(explaining, start, end, by)
                plans[f"{part}.{getattr(function, '__name__', 'report_sent')}"] = explaining.scans
    return plans


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench reports")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--explain", action="store_true", help="also print how each query reads a month")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    year = date.today().year - 1
    stack = palace(names=("enrolment", "venues", "welfare", "notify", "gateway"))
    try:
        counts, seeded_s = seed(stack, size, year)
        plans = explain(stack, year) if args.explain else None
        latency, totals = measure(stack, year)
    finally:
        stack.destroy()
    figures = {"size": "quick" if args.quick else "full", "year": year, "seeded": counts, "seed_seconds": seeded_s,
               "load_average_1m": os.getloadavg()[0],  # this machine is shared: read the latencies beside it
               "latency": latency, "year_totals": totals, **({"month_plans": plans} if plans else {})}
    bars = {f"year_{by or 'total'}<{BAR_MS}ms": latency[f"year_{by or 'total'}"]["median_ms"] < BAR_MS
            for by in (None, *BREAKDOWNS)}
    return report("reports", figures, bars)
