"""availability: "a room for 30 with a piano, Tuesday 19:00-21:00, in this district or at any site"
over the whole network, through the gateway and the venues service, with a term of bookings.

Full: 400 sites x 8 rooms, a 16-week term of weekday bookings (afternoons and evenings, most rooms
busy most evenings), 1,000 searches. Quick (--quick): 100 sites x 8 rooms, 8 weeks, 300 searches.
Bar (issue 5): p95 of a search under 50 ms. Also printed: the same search straight against the
database (the SQL alone), so the share of the RPC path is visible."""
import argparse
import random
import time
from datetime import datetime, timedelta

import requests

from bench._palace import palace, percentile, report
from services.common.roles import MEMBER
from services.common.zone import HOME_ZONE, HOME_ZONE_NAME
from services.venues import domain, store

SH = HOME_ZONE
SIZES = {"full": {"sites": 400, "rooms_per_site": 8, "weeks": 16, "searches": 1000},
         "quick": {"sites": 100, "rooms_per_site": 8, "weeks": 8, "searches": 300}}
BAR_P95_MS = 50
FEATURES = ("piano", "mirrors", "projector", "sprung_floor")
DISTRICTS = 16


def term_start():
    today = datetime.now(SH).date()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=2)


def seed(stack, size):
    """Sites, rooms and a term of bookings written straight into the venues database (the
    trigger still takes every claim, as a booking through the service does)."""
    monday = term_start()
    with stack.db("venues") as conn:
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "INSERT INTO sites (name, kind, district, address)"
            " SELECT 'Workers'' Home ' || g, (ARRAY['palace','own_unit','shared','mobile'])[1 + g %% 4],"
            " 'District ' || (g %% %s), g || ' Culture Road' FROM generate_series(1, %s) g",
            (DISTRICTS, size["sites"]))
        conn.execute(
            """INSERT INTO rooms (site_id, name, capacity, features, buffer_minutes, opening_hours)
               SELECT s.id, 'Room ' || k, (ARRAY[12, 20, 30, 40, 60, 80, 120, 200])[k],
                      ARRAY(SELECT f FROM unnest(%s::text[]) f WHERE random() < 0.35 AND k > 0),
                      (k %% 3) * 10,
                      CASE WHEN k %% 4 = 0 THEN '{"mon": ["08:00", "22:00"], "tue": ["08:00", "22:00"],
                          "wed": ["08:00", "22:00"], "thu": ["08:00", "22:00"], "fri": ["08:00", "21:00"]}'::jsonb END
               FROM sites s, generate_series(1, %s) k""", (list(FEATURES), size["rooms_per_site"]))
        for clock, share in (("19:00", 0.7), ("14:00", 0.35), ("09:30", 0.25)):
            conn.execute(
                """INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked,
                       holder_service, holder_reference)
                   SELECT r.id, r.site_id, 'Night school', 'confirmed', t.s, t.s + interval '2 hours',
                          tstzrange(t.s, t.s + interval '2 hours' + make_interval(mins => r.buffer_minutes)),
                          'enrolment', 'bench-' || r.id
                   FROM rooms r CROSS JOIN (
                       SELECT ((%s::date + w * 7 + d) + %s::time) AT TIME ZONE %s AS s
                       FROM generate_series(0, %s - 1) w, generate_series(0, 4) d) t
                   WHERE random() < %s""",
                (monday, clock, HOME_ZONE_NAME, size["weeks"], share))
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute("SELECT (SELECT count(*) FROM rooms) AS rooms, (SELECT count(*) FROM bookings)"
                              " AS bookings, (SELECT count(*) FROM booking_claims) AS claims").fetchone()
    return counts


def searches(size, rng):
    monday = term_start()
    for _ in range(size["searches"]):
        day = monday + timedelta(weeks=rng.randrange(size["weeks"]), days=rng.randrange(5))
        hour, minutes = rng.choice(((19, 120), (18, 90), (14, 120), (10, 60)))
        start = datetime(day.year, day.month, day.day, hour, tzinfo=SH)
        query = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=minutes)).isoformat(),
                 "capacity": rng.choice((10, 20, 30, 30, 60))}
        features = rng.choice(((), ("piano",), ("piano",), ("mirrors",), ("projector", "sprung_floor")))
        if features:
            query["features"] = ",".join(features)
        if rng.random() < 0.5:
            query["district"] = f"District {rng.randrange(DISTRICTS)}"
        if rng.random() < 0.1:
            query["weeks"] = 4
        yield query


def run(size):
    stack = palace(names=("venues", "gateway"), extra_env={"PALACE_LOG_LEVEL": "WARNING"})
    try:
        counts = seed(stack, size)
        rng = random.Random(7)
        queries = list(searches(size, rng))
        http = requests.Session()
        url = f"{stack.url}/v1/rooms/availability"
        for query in queries[:20]:  # warm the gateway's RPC proxy and the database's caches
            http.get(url, params=query, timeout=30).raise_for_status()
        seconds, found, errors = [], [], 0
        for query in queries:
            began = time.perf_counter()
            answer = http.get(url, params=query, timeout=30)
            seconds.append(time.perf_counter() - began)
            if answer.status_code != 200:
                errors += 1
            else:
                found.append(len(answer.json()))
        sql_seconds = []
        with stack.db("venues") as conn:
            for query in queries[:300]:
                q = {"starts_at": datetime.fromisoformat(query["starts_at"]),
                     "ends_at": datetime.fromisoformat(query["ends_at"]), "capacity": query["capacity"],
                     "features": query.get("features", "").split(",") if query.get("features") else [],
                     "district": query.get("district"), "weeks": query.get("weeks", 1), "limit": 50, "offset": 0}
                began = time.perf_counter()
                store.available_rooms(conn, q, {MEMBER}, False)
                sql_seconds.append(time.perf_counter() - began)
        return counts, seconds, sql_seconds, found, errors
    finally:
        stack.destroy()


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench availability")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    counts, seconds, sql_seconds, found, errors = run(size)
    ms = lambda values, p: round(percentile(values, p) * 1000, 2)  # noqa: E731
    figures = {"size": "quick" if args.quick else "full", **size, "rooms": counts["rooms"],
               "bookings": counts["bookings"], "claims": counts["claims"],
               "p50_ms": ms(seconds, 50), "p95_ms": ms(seconds, 95), "p99_ms": ms(seconds, 99),
               "sql_p50_ms": ms(sql_seconds, 50), "sql_p95_ms": ms(sql_seconds, 95),
               "rooms_found_median": sorted(found)[len(found) // 2] if found else 0, "errors": errors,
               "max_occurrences": domain.MAX_OCCURRENCES}
    bars = {f"p95<{BAR_P95_MS}ms": figures["p95_ms"] < BAR_P95_MS, "no_errors": errors == 0}
    return report("availability", figures, bars)
