"""The yearly report (GET /v1/reports/summary) on a known year: 2024, written straight into each
service's database, with records just outside the year (in Shanghai time) that must not count.
Every figure, in total and in each breakdown, is checked against a count the test makes itself
from the records it wrote (Python, not SQL)."""
import calendar
import csv
import io
import random
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from psycopg.types.json import Jsonb

from tests.e2e.conftest import new_member, new_staff

OWN_PALACE = True  # its figures are counted against what it wrote: another module's rooms would change them

SH = ZoneInfo("Asia/Shanghai")
START, END = datetime(2024, 1, 1, tzinfo=SH), datetime(2025, 1, 1, tzinfo=SH)
EDGES = (datetime(2023, 12, 31, 23, 30, tzinfo=SH), START, datetime(2024, 12, 31, 23, 59, tzinfo=SH),
         END, datetime(2025, 1, 1, 0, 30, tzinfo=SH))  # two outside, three inside
CSV_TYPE, XLSX_TYPE = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def inside(moment):
    return START <= moment < END


def month(moment):
    return moment.astimezone(SH).strftime("%Y-%m")


def moments(rng, count):
    """`count` times spread over 2024 and the edges around it."""
    days = [START + timedelta(days=rng.randrange(366), hours=rng.randrange(8, 20)) for _ in range(count)]
    return list(EDGES) + days


def figure(items, key=None, value=len):
    """(total, {group: value}) of a list of records, grouped by key(record) when given."""
    groups = defaultdict(list)
    for item in items:
        if key is not None:
            groups[key(item)].append(item)
    return value(items), {k: value(v) for k, v in groups.items()} if key else None


def distinct(field):
    return lambda items: len({i[field] for i in items})


def summed(field):
    return lambda items: sum(i[field] for i in items)


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def in_yuan(pair):
    total, groups = pair
    return yuan(total), None if groups is None else {k: yuan(v) for k, v in groups.items()}


class Year:
    """The known year: every record written, kept here to count from."""

    def __init__(self, rng):
        self.rng = rng
        self.sites = [{"id": str(uuid.uuid4()), "name": "芝罘区工人文化宫", "district": "芝罘区"},
                      {"id": str(uuid.uuid4()), "name": "莱山职工之家", "district": "莱山区"}]
        self.units = [{"id": str(uuid.uuid4()), "name": f"烟台港务局工会 {uuid.uuid4().hex[:4]}"},
                      {"id": str(uuid.uuid4()), "name": f"万华化学工会 {uuid.uuid4().hex[:4]}"}]
        self.members = [str(uuid.uuid4()) for _ in range(40)]

    # -------------------------------------------------------------- classes
    def classes(self, conn):
        rng, site = self.rng, {s["id"]: s for s in self.sites}
        a, b = self.sites[0]["id"], self.sites[1]["id"]
        self.courses = [{"id": str(uuid.uuid4()), "site_id": s, "district": s and site[s]["district"], "category": c}
                        for s, c in ((a, "书法"), (a, "摄影"), (b, None), (None, "瑜伽"))]
        for c in self.courses:
            conn.execute("INSERT INTO courses (id, title, capacity, site_id, district, category)"
                         " VALUES (%(id)s, 'Course', 100, %(site_id)s, %(district)s, %(category)s)", c)
        self.sessions = []
        for c in self.courses:
            for when in set(moments(rng, 8)):
                state = rng.choice(("scheduled", "scheduled", "scheduled", "cancelled", "room_lost"))
                self.sessions.append({"id": str(uuid.uuid4()), "course": c, "course_id": c["id"], "starts_at": when,
                                      "ends_at": when + timedelta(hours=2), "state": state})
        conn.cursor().executemany(
            "INSERT INTO sessions (id, course_id, starts_at, ends_at, state, checkin_code)"
            " VALUES (%(id)s, %(course_id)s, %(starts_at)s, %(ends_at)s, %(state)s, '1234')", self.sessions)
        self.enrolments = []
        for c in self.courses:
            for n, member in enumerate(rng.sample(self.members, 15)):
                status = rng.choice(("confirmed", "confirmed", "waitlisted", "cancelled"))
                self.enrolments.append({
                    "id": str(uuid.uuid4()), "course": c, "course_id": c["id"], "member_id": member,
                    "status": status, "seq": n if status == "waitlisted" else None,
                    "created_at": rng.choice(moments(rng, 3))})
        conn.cursor().executemany(
            "INSERT INTO enrolments (id, course_id, member_id, status, waitlist_seq, created_at)"
            " VALUES (%(id)s, %(course_id)s, %(member_id)s, %(status)s, %(seq)s, %(created_at)s)", self.enrolments)
        self.marks = []
        for s in self.sessions:
            if s["state"] != "scheduled":
                continue
            for e in self.enrolments:
                if e["course_id"] == s["course_id"] and e["status"] == "confirmed":
                    self.marks.append({"session": s, "session_id": s["id"], "member_id": e["member_id"],
                                       "enrolment_id": e["id"], "present": rng.random() < 0.7})
        conn.cursor().executemany(
            "INSERT INTO attendance (session_id, member_id, enrolment_id, present, source)"
            " VALUES (%(session_id)s, %(member_id)s, %(enrolment_id)s, %(present)s, 'teacher')", self.marks)

    def class_figures(self, by):
        keys = {"month": None, "site": lambda c: c["site_id"] or "", "district": lambda c: c["district"] or "",
                "category": lambda c: c["category"] or ""}
        if by is not None and by not in keys:
            return None

        def of(when):
            if by is None:
                return None
            return (lambda i: month(i[when])) if by == "month" else (lambda i: keys[by](i["course"]))
        held = [s for s in self.sessions if s["state"] == "scheduled" and inside(s["starts_at"])]
        present = [{**m, "course": m["session"]["course"], "starts_at": m["session"]["starts_at"]}
                   for m in self.marks if m["present"] and inside(m["session"]["starts_at"])]
        made = [e for e in self.enrolments if inside(e["created_at"])]
        return {
            "courses_run": figure(held, of("starts_at"), distinct("course_id")),
            "sessions_held": figure(held, of("starts_at")),
            "person_times": figure(present, of("starts_at")),
            "trainees": figure(present, of("starts_at"), distinct("member_id")),
            "enrolments": figure([e for e in made if e["status"] == "confirmed"], of("created_at")),
            "waitlisted": figure([e for e in made if e["status"] == "waitlisted"], of("created_at")),
        }

    # -------------------------------------------------------------- rooms
    def rooms(self, conn):
        rng = self.rng
        every_day = Jsonb({d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        for s in self.sites:
            conn.execute("INSERT INTO sites (id, name, kind, district) VALUES (%(id)s, %(name)s, 'shared', %(district)s)", s)
        self.room_list = []
        for s, hours, daily in ((self.sites[0], every_day, 12), (self.sites[0], None, 24), (self.sites[1], every_day, 12)):
            room = conn.execute("INSERT INTO rooms (site_id, name, capacity, opening_hours) VALUES (%s, %s, 30, %s)"
                                " RETURNING id", (s["id"], f"Room {uuid.uuid4().hex[:6]}", hours)).fetchone()
            self.room_list.append({"id": str(room["id"]), "site": s, "daily": daily})
        self.bookings = []
        for room in self.room_list:
            starts = {datetime(2024, 1, 1, 10, tzinfo=SH) + timedelta(days=d) for d in rng.sample(range(366), 20)}
            # before the year, after it, and one that starts in it and ends after it (1 h of it counts)
            starts |= {EDGES[0] - timedelta(hours=1), datetime(2025, 1, 1, 1, tzinfo=SH),
                       datetime(2024, 12, 31, 23, tzinfo=SH)}
            for when in starts:
                status = rng.choice(("confirmed", "confirmed", "checked_in", "cancelled", "rejected"))
                self.bookings.append({"room_id": room["id"], "site": room["site"], "site_id": room["site"]["id"],
                                      "starts_at": when, "ends_at": when + timedelta(hours=2), "status": status})
        conn.cursor().executemany(
            "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
            " holder_reference) VALUES (%(room_id)s, %(site_id)s, 'Choir', %(status)s, %(starts_at)s, %(ends_at)s,"
            " tstzrange(%(starts_at)s, %(ends_at)s), 'members', 'x')", self.bookings)
        # closures take open hours: site A for a day (12 h + 24 h), room B1 for August (31 x 12 h), and
        # site A on the day before the year (nothing of the year)
        a, b = self.sites[0]["id"], self.room_list[2]
        day = datetime(2024, 5, 1, tzinfo=SH)
        for site, room, begins, ends in ((a, None, day, day + timedelta(days=1)),
                                         (b["site"]["id"], b["id"], datetime(2024, 8, 1, tzinfo=SH),
                                          datetime(2024, 9, 1, tzinfo=SH)),
                                         (a, None, datetime(2023, 12, 31, tzinfo=SH), START)):
            conn.execute("INSERT INTO closures (site_id, room_id, during, reason) VALUES (%s, %s, tstzrange(%s, %s),"
                         " 'repairs')", (site, room, begins, ends))
        self.closed = [("2024-05", self.sites[0], 36.0), ("2024-08", self.sites[1], 31 * 12.0)]

    def room_figures(self, by):
        keys = {"month": lambda b: month(b["starts_at"]), "site": lambda b: b["site"]["id"],
                "district": lambda b: b["site"]["district"]}
        if by is not None and by not in keys:
            return None
        key = keys.get(by)
        held = [b for b in self.bookings if b["status"] in ("confirmed", "checked_in") and inside(b["starts_at"])]
        for b in held:
            b["hours"] = (min(b["ends_at"], END) - b["starts_at"]).total_seconds() / 3600
        bookings, hours = figure(held, key), figure(held, key, summed("hours"))
        # open hours: each room's daily hours times the days (per month when by month)
        opened = defaultdict(float)
        for room in self.room_list:
            if by == "month":
                for m in range(1, 13):
                    opened[f"2024-{m:02d}"] += room["daily"] * calendar.monthrange(2024, m)[1]
            else:
                opened[key({"site": room["site"]}) if key else None] += room["daily"] * 366
        for in_month, site, hours_closed in self.closed:
            opened[in_month if by == "month" else key({"site": site}) if key else None] -= hours_closed
        share = (round(hours[0] / sum(opened.values()), 4),
                 {k: round(hours[1].get(k, 0.0) / v, 4) for k, v in opened.items()} if key else None)
        return {"bookings": bookings, "booked_hours": (hours[0], hours[1]), "utilisation": share}

    # -------------------------------------------------------------- welfare
    def welfare(self, conn):
        rng, officers = self.rng, [str(uuid.uuid4()), str(uuid.uuid4())]
        self.cases, self.approvals, self.payouts = [], [], []
        for n, when in enumerate(moments(rng, 25)):
            state = rng.choice(("draft", "submitted", "approved", "paid", "rejected"))
            case = {"id": str(uuid.uuid4()), "ref": f"T{n}-{uuid.uuid4().hex[:6]}", "created_at": when, "state": state,
                    "programme": rng.choice(("hardship_relief", "merit_scholarship", "legal_aid")),
                    "member_id": rng.choice(self.members), "unit": rng.choice([u["id"] for u in self.units] + [None]),
                    "amount": rng.randrange(1, 3000) * 100}
            self.cases.append(case)
            conn.execute(
                "INSERT INTO applications (id, reference, programme, member_id, submitted_by, state, amount_requested,"
                " amount_approved, reason, member_unit, created_at) VALUES (%(id)s, %(ref)s, %(programme)s,"
                " %(member_id)s, %(member_id)s, %(state)s, %(amount)s, %(amount)s, 'need', %(unit)s, %(created_at)s)", case)
            if state in ("approved", "paid"):  # two officers sign: the first leaves it under review
                decided = when + timedelta(minutes=rng.choice((10, 60 * 24)))
                for officer, to in zip(officers, ("under_review", "approved")):
                    conn.execute("INSERT INTO decisions (application_id, round, action, from_state, to_state, actor_id,"
                                 " amount, facts, created_at) VALUES (%s, 1, 'approve', 'under_review', %s, %s, %s,"
                                 " '{}', %s)", (case["id"], to, officer, case["amount"], decided))
                self.approvals.append({**case, "decided_at": decided})
            if state == "paid":
                paid = when + timedelta(days=rng.choice((0, 2)))
                conn.execute("INSERT INTO payouts (reference, application_id, member_id, amount, created_at)"
                             " VALUES (%s, %s, %s, %s, %s)", (f"P-{case['ref']}", case["id"], case["member_id"],
                                                              case["amount"], paid))
                self.payouts.append({**case, "paid_at": paid})
        plan = conn.execute("INSERT INTO plans (year, name, contribution, rules) VALUES (2024, %s, 3000, '{}')"
                            " RETURNING id", (f"plan {uuid.uuid4().hex[:6]}",)).fetchone()["id"]
        later = conn.execute("INSERT INTO plans (year, name, contribution, rules) VALUES (2025, %s, 3000, '{}')"
                             " RETURNING id", (f"plan {uuid.uuid4().hex[:6]}",)).fetchone()["id"]
        self.plan_enrolments = []
        for n, when in enumerate(moments(rng, 25)):
            row = {"unit": rng.choice(self.units)["id"], "enrolled_at": when, "hash": f"h{n}"}
            row["id"] = conn.execute(
                "INSERT INTO plan_enrolments (plan_id, unit_id, name, national_id_hash, national_id_cipher,"
                " national_id_mask, enrolled_at) VALUES (%s, %s, 'Worker', %s, '\\x00', '****', %s) RETURNING id",
                (plan, row["unit"], row["hash"], when)).fetchone()["id"]
            self.plan_enrolments.append(row)
        self.contributions = []
        for plan_id, unit, when, amount in ((plan, self.units[0]["id"], EDGES[1], 120000),
                                            (plan, self.units[1]["id"], EDGES[0], 90000),
                                            (later, self.units[0]["id"], EDGES[2], 150000),
                                            (later, self.units[1]["id"], EDGES[3], 60000)):
            conn.execute("INSERT INTO unit_contributions (plan_id, unit_id, amount, recorded_at) VALUES (%s, %s, %s, %s)",
                         (plan_id, unit, amount, when))
            self.contributions.append({"unit": unit, "recorded_at": when, "amount": amount})
        self.claims_paid = []
        for n, (enrolment, paid) in enumerate(zip(self.plan_enrolments[:5], (EDGES[0], EDGES[1], EDGES[2], EDGES[3],
                                                                            datetime(2024, 6, 1, tzinfo=SH)))):
            member = rng.choice(self.members)
            claim = conn.execute(
                "INSERT INTO claims (plan_id, enrolment_id, member_id, submitted_by, kind, event_date, details, state,"
                " amount, explanation) VALUES (%s, %s, %s, %s, 'hospital', %s, '{}', 'paid', %s, '[]') RETURNING id",
                (plan, enrolment["id"], member, member, f"2024-03-{n + 1:02d}", 50000 + n)).fetchone()["id"]
            conn.execute("INSERT INTO payouts (reference, claim_id, member_id, amount, created_at) VALUES (%s, %s, %s, %s, %s)",
                         (f"C-{uuid.uuid4().hex[:8]}", claim, member, 50000 + n, paid))
            self.claims_paid.append({"unit": enrolment["unit"], "paid_at": paid, "amount": 50000 + n})

    def welfare_figures(self, by):
        case_keys = {None: None, "month": None, "unit": lambda c: c["unit"] or "", "programme": lambda c: c["programme"]}
        out = {}
        if by in case_keys:
            def of(when):
                return (lambda c: month(c[when])) if by == "month" else case_keys[by]  # None: in total
            cases = [c for c in self.cases if c["state"] != "draft" and inside(c["created_at"])]
            payouts = [p for p in self.payouts if inside(p["paid_at"])]
            paid = figure(payouts, of("paid_at"), summed("amount"))
            out.update({"cases": figure(cases, of("created_at")),
                        "approvals": figure([a for a in self.approvals if inside(a["decided_at"])], of("decided_at")),
                        "payouts": figure(payouts, of("paid_at")),
                        "amount_paid": in_yuan(paid)})
        aid_keys = {None: None, "month": None, "unit": lambda r: r["unit"], "programme": lambda r: "mutual_aid"}
        if by in aid_keys:
            def by_(when):
                return (lambda r: month(r[when])) if by == "month" else aid_keys[by]
            enrolled = [r for r in self.plan_enrolments if inside(r["enrolled_at"])]
            given = [r for r in self.contributions if inside(r["recorded_at"])]
            claims = [r for r in self.claims_paid if inside(r["paid_at"])]
            money = figure(given, by_("recorded_at"), summed("amount"))
            claimed = figure(claims, by_("paid_at"), summed("amount"))
            out.update({"mutual_aid_units": figure(enrolled, by_("enrolled_at"), distinct("unit")),
                        "mutual_aid_enrolments": figure(enrolled, by_("enrolled_at")),
                        "contributions": in_yuan(money),
                        "claims_paid": figure(claims, by_("paid_at")),
                        "claims_amount_paid": in_yuan(claimed)})
        return out

    # -------------------------------------------------------------- notifications
    def messages(self, conn):
        rng = self.rng
        self.deliveries = []
        for when in moments(rng, 40):
            row = {"member": rng.choice(self.members), "event": str(uuid.uuid4()),
                   "channel": rng.choice(("wechat", "sms", "email", "console")),
                   "state": rng.choice(("sent", "sent", "failed")), "finished_at": when}
            self.deliveries.append(row)
        conn.cursor().executemany(
            "INSERT INTO deliveries (member_id, event_id, event_type, category, channel, address, language, title,"
            " body, rendered, route, state, event_at, finished_at, created_at) VALUES (%(member)s, %(event)s,"
            " 'enrolment.enrolment_confirmed', 'classes', %(channel)s, 'x', 'zh-CN', 't', 'b', '{}', '[]', %(state)s,"
            " %(finished_at)s, %(finished_at)s, %(finished_at)s)", self.deliveries)
        self.inbox = [{"member": rng.choice(self.members), "event": str(uuid.uuid4()), "at": when}
                      for when in moments(rng, 20)]
        conn.cursor().executemany(
            "INSERT INTO inbox (member_id, event_id, event_type, title, body, created_at) VALUES (%(member)s,"
            " %(event)s, 'enrolment.enrolment_confirmed', 't', 'b', %(at)s)", self.inbox)

    def message_figures(self, by):
        if by not in (None, "month"):
            return None
        key = (lambda r: month(r["finished_at"])) if by == "month" else None
        sent = [d for d in self.deliveries if d["state"] == "sent" and inside(d["finished_at"])]
        out = {f"sent_{c}": figure([d for d in sent if d["channel"] == c], key)
               for c in ("wechat", "sms", "email", "console")}
        out["inbox_entries"] = figure([i for i in self.inbox if inside(i["at"])],
                                      (lambda r: month(r["at"])) if by == "month" else None)
        return out

    def expected(self, by):
        out = {}
        for part in (self.class_figures, self.room_figures, self.message_figures):
            out.update(part(by) or {})
        out.update(self.welfare_figures(by))
        return out


@pytest.fixture(scope="module")
def year(palace):
    known = Year(random.Random(2024))
    with palace.db("enrolment") as conn:
        known.classes(conn)
    with palace.db("venues") as conn:
        known.rooms(conn)
    with palace.db("welfare") as conn:
        known.welfare(conn)
    with palace.db("notify") as conn:
        known.messages(conn)
    with palace.db("gateway") as conn:
        for unit in known.units:
            conn.execute("INSERT INTO units (id, name) VALUES (%(id)s, %(name)s)", unit)
    return known


@pytest.fixture(scope="module")
def clerk(palace, admin):
    return new_staff(palace.url, admin, ["teacher"], name="Sun Li")


def answered(report):
    """{figure: (total, {group: value} or None)} of a report's rows."""
    out = {}
    for row in report["rows"]:
        total, groups = out.get(row["figure"], (None, None))
        if row["group"] is None:
            out[row["figure"]] = (row["value"], groups)
        else:
            out[row["figure"]] = (total, {**(groups or {}), row["group"]: row["value"]})
    return out


def close(a, b):
    """Equal, or floats within the last digit of a 4-decimal share."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and abs(a - b) < 0.00011)


@pytest.mark.parametrize("by", [None, "month", "site", "district", "unit", "category", "programme"])
def test_every_figure_of_a_known_year_matches_the_count_made_here(clerk, year, by):
    answer = clerk.get("/v1/reports/summary", params={"from": "2024-01-01", "to": "2024-12-31", **({"by": by} if by else {})})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["from"], report["to"], report["by"]) == ("2024-01-01", "2024-12-31", by)
    got, expected = answered(report), year.expected(by)
    without = {f["figure"] for f in report["not_applicable"]}
    assert len(got) == 23, sorted(got)
    for name, (total, groups) in got.items():
        counted = expected.get(name)
        if counted is None:  # the breakdown does not apply: said so, the total still given
            assert name in without and groups is None, (name, by)
            counted = Year.expected(year, None)[name]
        else:
            assert name not in without, (name, by)
        assert close(total, counted[0]), (name, by, total, counted[0])
        if counted[1] is not None:  # a group with nothing in it may be shown as 0 or left out
            shown = {k: v for k, v in (groups or {}).items() if v not in (0, "0.00")}
            assert set(shown) == {k for k, v in counted[1].items() if v not in (0, "0.00")}, (name, by, groups, counted[1])
            for key, value in shown.items():
                assert close(value, counted[1][key]), (name, by, key, value, counted[1][key])
    assert got["sessions_held"][0] > 0 and got["person_times"][0] > 0 and got["bookings"][0] > 0


def test_groups_are_named_in_chinese_where_the_palace_knows_the_names(clerk, year):
    by_site = clerk.get("/v1/reports/summary", params={"from": "2024-01-01", "to": "2024-12-31", "by": "site"}).json()
    labels = {r["group"]: r["label"] for r in by_site["rows"] if r["figure"] == "bookings"}
    assert labels[year.sites[0]["id"]] == "芝罘区工人文化宫"
    by_unit = clerk.get("/v1/reports/summary", params={"from": "2024-01-01", "to": "2024-12-31", "by": "unit"}).json()
    labels = {r["group"]: r["label"] for r in by_unit["rows"] if r["figure"] == "mutual_aid_enrolments"}
    assert labels[year.units[0]["id"]] == year.units[0]["name"]
    by_programme = clerk.get("/v1/reports/summary", params={"from": "2024-01-01", "to": "2024-12-31",
                                                            "by": "programme"}).json()
    assert {r["label"] for r in by_programme["rows"] if r["figure"] == "cases"} >= {"合计", "困难帮扶"}
    totals = [r for r in by_site["rows"] if r["group"] is None]
    assert {r["figure_title"] for r in totals} >= {"开班数", "培训人次", "场地利用率", "发放金额（元）"}


@pytest.mark.parametrize("query, field", [
    ({"from": "2020-01-01", "to": "2025-01-01"}, "to"),  # a day over 5 years
    ({"from": "2024-12-31", "to": "2024-01-01"}, "to"),  # from after to
    ({"from": "2024-01-01", "to": "2024-12-31", "by": "weekday"}, "by"),
    ({"from": "2024-02-30"}, "from"),
])
def test_a_bad_period_or_breakdown_is_a_400_naming_the_field(clerk, year, query, field):
    answer = clerk.get("/v1/reports/summary", params=query)
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert set(answer.json()["errors"]) == {field}, answer.json()


def test_five_years_to_the_day_are_allowed(clerk, year):
    assert clerk.get("/v1/reports/summary", params={"from": "2020-01-01", "to": "2024-12-31"}).status_code == 200


def test_members_do_not_read_the_report(palace, year):
    member = new_member(palace.url)
    assert member.get("/v1/reports/summary").status_code == 403


def test_the_report_as_a_spreadsheet_has_the_rows_of_the_json(clerk, year):
    query = {"from": "2024-01-01", "to": "2024-12-31", "by": "month"}
    rows = clerk.get("/v1/reports/summary", params=query).json()["rows"]
    as_csv = clerk.get("/v1/reports/summary", params=query, headers={"Accept": CSV_TYPE})
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith(CSV_TYPE)
    assert as_csv.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["指标", "分组", "数值"] and len(table) == len(rows) + 1
    as_xlsx = clerk.get("/v1/reports/summary", params=query, headers={"Accept": XLSX_TYPE})
    assert as_xlsx.status_code == 200, as_xlsx.text
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content), read_only=True).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][:3] == ("指标", "分组", "数值") and len(cells) == len(rows) + 1
    first = next(r for r in rows if r["figure"] == "sessions_held" and r["group"] is None)
    assert ("上课节次", "合计", first["value"]) in [c[:3] for c in cells]
