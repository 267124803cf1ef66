"""console: the staff console's speed (issue 22), in Debian's Chromium at 1366x768 with no throttling.
1. Its first load: the kilobytes of JavaScript and CSS (gzipped, as the gateway sends them) of the
   sign-in page and the first screen after an admin signs in there, as a clerk would; and whether the
   chunk holding ECharts (the reports' and the week's charts, loaded on first use) is among them.
2. The rooms' week grid of a site with 40 rooms and 500 bookings in the week it opens on (this week):
   from the start of navigation to /console/rooms/week, signed in as an admin, to the frame in which
   the grid holds all 500 booking blocks, each load in a fresh browser context (nothing cached).

The site and its rooms (open 08:00-22:00 every day) are made through the API; the bookings go straight
into venues' database, as the API refuses a booking that starts in the past and most of this week
has gone by when the bench runs: 12 or 13 a room, at most two a day, 90 minutes each, inside the
room's hours (checked with venues' own rule) and apart (its exclusion constraint would refuse an
overlap). One in ten waits for approval, one in five is a class session.

Full: 5 grid loads; quick (--quick): 2. Bars (issue 22): first load <= 600 KB gzipped; the grid
shown in under 1 s (the median load; the slowest is printed too)."""
import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import requests
from psycopg.types.range import Range

from bench._palace import palace, report, session
from bench.web import WEB, build, gzipped_kb
from services.common.zone import HOME_ZONE
from services.venues import domain
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE

BAR_KB, BAR_SECONDS = 600, 1.0
TOOLS = ("node", "chromium")
ROOMS, BOOKINGS = 40, 500
HOURS = {day: ["08:00", "22:00"] for day in domain.WEEKDAYS}
SLOTS = (9, 14, 19)  # the hours a booking may start at: a room's bookings a day never meet
SIZES = {"full": {"loads": 5}, "quick": {"loads": 2}}
ECHARTS_MARK = b"_echarts_instance_"  # the attribute ECharts marks its charts' elements with


def sign_in(stack):
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                           timeout=30)
    answer.raise_for_status()
    tokens = answer.json()
    # the console's own keeping of a session (web/shared/auth), so a load starts signed in
    kept = {"access": tokens["access_token"], "refresh": tokens["refresh_token"],
            "expiresAt": int((time.time() + tokens["expires_in"]) * 1000)}
    return session(tokens["access_token"]), json.dumps(kept)


def this_monday():
    today = datetime.now(HOME_ZONE).date()
    return today - timedelta(days=today.weekday())


def seed(stack, staff):
    """The site, its rooms, and BOOKINGS bookings this week; returns the site's id."""
    site = staff.post(f"{stack.url}/v1/sites", timeout=30, json={
        "name": "工人文化宫", "kind": "palace", "district": "相山区", "address": "人民路1号"})
    site.raise_for_status()
    rooms = []
    for n in range(ROOMS):
        room = staff.post(f"{stack.url}/v1/rooms", timeout=30, json={
            "site_id": site.json()["id"], "name": f"活动室 {n + 1:02d}", "capacity": 30, "opening_hours": HOURS,
            "bookable_by": ["member"]})
        room.raise_for_status()
        rooms.append(room.json())
    monday = this_monday()
    with stack.db("venues") as conn:
        for n in range(BOOKINGS):
            room, turn = rooms[n % ROOMS], n // ROOMS  # each room's turn-th booking of the week
            day = monday + timedelta(days=turn % 7)
            starts = datetime(day.year, day.month, day.day, SLOTS[turn // 7], tzinfo=HOME_ZONE)
            ends = starts + timedelta(minutes=90)
            problem = domain.opening_problem(room["opening_hours"], starts, ends)
            assert problem is None, problem
            kind = "enrolment" if n % 5 == 0 else "members"
            conn.execute(
                """INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked,
                       holder_service, holder_reference, member_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (room["id"], room["site_id"], f"{'夜校课程' if kind == 'enrolment' else '羽毛球活动'} {n + 1:03d}",
                 "pending" if n % 10 == 1 else "confirmed", starts, ends, Range(starts, ends, "[)"), kind,
                 str(uuid.uuid4()), uuid.uuid4() if kind == "members" else None))
    return site.json()["id"]


def echarts_chunks():
    return {path.name for path in (WEB / "dist" / "assets").glob("*.js") if ECHARTS_MARK in path.read_bytes()}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench console")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    build()
    stack = palace(extra_env={"PALACE_WEB_ROOT": str(WEB / "dist")})
    try:
        staff, kept = sign_in(stack)
        seed(stack, staff)
        done = subprocess.run(["node", str(WEB / "scripts" / "console-load.mjs"), stack.url, ADMIN_PHONE,
                               ADMIN_PASSWORD, kept, str(BOOKINGS), str(size["loads"])],
                              cwd=WEB, capture_output=True, text=True, timeout=600)
    finally:
        stack.destroy()
    if done.returncode != 0:
        sys.exit(f"bench console: the browser run failed:\n{done.stderr[-3000:]}")
    loads = json.loads(done.stdout.strip().splitlines()[-1])
    first = loads["first"]["assets"]
    scripts = [a["url"] for a in first if a["type"] == "Script"]
    styles = [a["url"] for a in first if a["type"] == "Stylesheet"]
    charts = echarts_chunks()
    seconds = [load["shown_ms"] / 1000 for load in loads["grid"]]
    # where a load's time went: the screen's scripts in (the chart's, fetched once the grid is drawn, aside),
    # the last API answer in (the week's last page of bookings, or its utilisation), then the grid drawn
    scripts_in = [max(f["end"] for f in load["fetched"] if f["path"].endswith(".js")
                      and f["path"].rsplit("/", 1)[-1] not in charts) / 1000 for load in loads["grid"]]
    data_in = [max(f["end"] for f in load["fetched"] if f["path"].startswith("/v1/")) / 1000 for load in loads["grid"]]
    figures = {"size": "quick" if args.quick else "full", **size, "rooms": ROOMS, "bookings": BOOKINGS,
               "first_load": f"/console/signin, then {loads['first']['home']} signed in as admin",
               "first_load_gzip_kb": gzipped_kb(scripts + styles), "js_gzip_kb": gzipped_kb(scripts),
               "css_gzip_kb": gzipped_kb(styles), "files": len(scripts) + len(styles),
               "echarts_chunks": sorted(charts),
               "echarts_in_first_load": any(url.rsplit("/", 1)[-1] in charts for url in scripts),
               "grid_blocks": [load["blocks"] for load in loads["grid"]],
               "grid_shown_s": [round(s, 3) for s in seconds],
               "grid_shown_s_median": round(statistics.median(seconds), 3),
               "grid_shown_s_max": round(max(seconds), 3),
               "grid_scripts_in_s_median": round(statistics.median(scripts_in), 3),
               "grid_data_in_s_median": round(statistics.median(data_in), 3),
               "profile": "Chromium 1366x768, no throttling, no cache"}
    bars = {f"first_load<={BAR_KB}KB": figures["first_load_gzip_kb"] <= BAR_KB,
            "echarts_not_in_first_load": not figures["echarts_in_first_load"] and bool(charts),
            f"week_grid<{BAR_SECONDS}s": figures["grid_shown_s_median"] < BAR_SECONDS}
    return report("console", figures, bars)
