"""The staff console in a real browser: one palace (every service, the gateway serving the built apps,
PostgreSQL, RabbitMQ) seeded through the API, then the Playwright specs tests/browser/console-*.spec.ts
driving Debian's Chromium at a desktop's size (1366×768): an admin's course, a venue manager's
approval, a welfare officer's decision and payout, a member turned away. Screenshots of every screen
are kept in tests/browser/artefacts/console/screens (gitignored)."""
import json
import random
import shutil
import uuid
from datetime import datetime, timedelta

import openpyxl
import pytest
import requests

from services.welfare.domain import national_id_check_digit
from tests.browser import test_member_app as member_app
from tests.browser.test_member_app import ARTEFACTS, SHANGHAI, WEB, at, created, person, playwright, session, tokens
from tests.e2e.conftest import NO_LIMITS, new_staff, sign_in
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, eventually

CONSOLE_ARTEFACTS = ARTEFACTS / "console"
FIRST_LOAD_BAR_KB = 600  # issue 22: the console's first load, JavaScript and CSS, gzipped

# the member app's palace (every process, web/dist served, the fake SMS provider): this module's own too
palace, sms = member_app.palace, member_app.sms
PDF = b"%PDF-1.4\n% income statement\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def staff(base, admin, roles, name, **extra):
    account = new_staff(base, admin, roles, name=name, **extra)
    phone = account.get("/v1/me").json()["phone"]
    return {"phone": phone, "password": "staff-password", "name": name, "id": account.id,
            "tokens": tokens(base, phone, "staff-password")}, account


def seed(palace):
    """Staff of each office, a booking waiting for approval and a submitted hardship case with a document."""
    base = palace.url
    admin = sign_in(base, ADMIN_PHONE, ADMIN_PASSWORD)
    manager, manager_client = staff(base, admin, ["venue_manager"], "孙经理")
    officer, officer_client = staff(base, admin, ["welfare_officer"], "钱专员")
    member_client, member = person(base, "赵敏")

    site = created(manager_client.post("/v1/sites", {"name": "矿区职工之家", "kind": "own_unit", "district": "杜集区"}))
    created(member_client.put(f"/v1/me/follows/sites/{site['id']}"), 200)  # the audience of a site broadcast
    theatre = created(manager_client.post("/v1/rooms", {"site_id": site["id"], "name": "小剧场", **NO_LIMITS, "capacity": 200,
                                                        "requires_approval": True}))
    booking = created(member_client.post("/v1/bookings", {"room_id": theatre["id"], "title": "职工歌咏比赛彩排",
                                                          **session(at(5, 14), 120)}))
    assert booking["status"] == "pending", booking
    # the week grid's: another request in the same room, left waiting (the approvals test approves the first);
    # never on a Monday, the one day the grid test leaves the room open, which its evening closure would cut
    grid_day = 6 if at(5, 9).weekday() == 0 else 5
    waiting = created(member_client.post("/v1/bookings", {"room_id": theatre["id"], "title": "工会读书会",
                                                          **session(at(grid_day, 9), 90)}))
    calendar = grid_calendar(manager_client, at(grid_day, 9).date())
    hall = divisible_hall(base, manager_client, site, grid_day)

    draft = created(member_client.post("/v1/welfare/applications", {
        "programme": "hardship_relief", "amount_requested": "2000.00", "reason": "住院押金交不上", "draft": True,
        "private": {"household_income": "2400.00", "household_size": 3}}))
    created(member_client.post(f"/v1/welfare/applications/{draft['id']}/documents", data=PDF,
                               params={"kind": "income_statement", "filename": "收入证明.pdf"},
                               headers={"Content-Type": "application/pdf"}))
    case = created(member_client.post(f"/v1/welfare/applications/{draft['id']}/submission", {}), 200)
    document = case["documents"][0]["filename"]
    counselled = counselling(base, manager_client, officer_client, site)

    # a lottery course with three entries, its draw not yet made, for the admin to draw from the console
    lottery = created(admin.post("/v1/courses", {
        "title": "书法（抽签）", "capacity": 2, "allocation": "lottery", "draw_at": at(2, 20).isoformat(),
        "opens_at": at(-1, 9).isoformat(), "schedule": {"dates": [session(at(9, 19))]}}))
    for name in ("周一鸣", "吴二妹", "郑三"):
        entrant, _ = person(base, name)
        assert created(entrant.post(f"/v1/courses/{lottery['id']}/enrolments", {}))["status"] == "registered"
    # the front desk: a clerk, and a class already full (its one seat taken) for a walk-in to wait for
    clerk, _ = staff(base, admin, ["desk"], "李前台")
    full = created(admin.post("/v1/courses", {
        "title": f"太极拳（满员）{uuid.uuid4().hex[:4]}", "capacity": 1, "opens_at": at(-1, 9).isoformat(),
        "schedule": {"dates": [session(at(8, 9))]}}))
    for name in ("冯一", "陈二"):
        taker, _ = person(base, name)
        created(taker.post(f"/v1/courses/{full['id']}/enrolments", {}))
    # a teacher with a course of their own; they see it and not the others
    teacher, teacher_client = staff(base, admin, ["teacher"], "郑老师")
    taught = created(admin.post("/v1/courses", {
        "title": f"合唱团 {uuid.uuid4().hex[:4]}", "capacity": 30, "teacher_ids": [teacher["id"]],
        "opens_at": at(-1, 9).isoformat(), "schedule": {"dates": [session(at(10, 19))]}}))
    today = todays_class(base, admin, teacher, teacher_client)
    return {
        "today": today, "finished": finished_class(base, admin, teacher, teacher_client),
        **mutual_aid(base, admin),
        "teacher": teacher, "taught": {"id": taught["id"], "title": taught["title"]},
        "clerk": clerk, "full": {"id": full["id"], "title": full["title"]},
        "admin": {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "name": "admin", "id": "",
                  "tokens": tokens(base, ADMIN_PHONE, ADMIN_PASSWORD)},
        "manager": manager, "officer": officer, "member": member,
        "booking": {"id": booking["id"], "title": booking["title"]},
        "case": {"id": case["id"], "reference": case["reference"], "document": document},
        "lottery": {"id": lottery["id"], "title": lottery["title"]},
        "site": site["name"], "counselling": counselled,
        "grid": {"room": theatre["name"], "title": waiting["title"], "day": at(grid_day, 9).date().isoformat(), **calendar},
        "hall": hall,
    }


def grid_calendar(manager_client, grid_day):
    """A public holiday and a make-up working day (调休, kept as a Friday: the room the grid test opens on
    Mondays only stays at its 14 hours) in the grid's week, on days other than the grid's own."""
    monday = grid_day - timedelta(days=grid_day.weekday())
    holiday = next(d for d in (monday + timedelta(days=2), monday + timedelta(days=3)) if d != grid_day)
    workday = next(d for d in (monday + timedelta(days=6), monday + timedelta(days=5)) if d != grid_day)
    created(manager_client.post("/v1/calendar/days", {"day": holiday.isoformat(), "kind": "holiday", "name": "宫庆"}), 200)
    created(manager_client.post("/v1/calendar/days", {"day": workday.isoformat(), "kind": "workday", "name": "宫庆调休",
                                                      "as_weekday": 5}), 200)
    return {"holiday": holiday.isoformat(), "workday": workday.isoformat()}


def divisible_hall(base, manager_client, site, grid_day):
    """A hall that divides into two halves, in the grid's week: a table-tennis match in the east half in the
    afternoon, a congress in the whole hall in the evening (each taking what the other needs, at other hours)."""
    hall = created(manager_client.post("/v1/rooms", {"site_id": site["id"], "name": "多功能厅", **NO_LIMITS, "capacity": 300}))
    east, west = (created(manager_client.post("/v1/rooms", {"site_id": site["id"], "name": f"多功能厅{side}", **NO_LIMITS,
                                                           "capacity": 150, "parent_id": hall["id"]}))
                  for side in ("东半场", "西半场"))
    client, _ = person(base, "韩球友")
    match = created(client.post("/v1/bookings", {"room_id": east["id"], "title": "职工乒乓球赛", **session(at(grid_day, 14), 120)}))
    congress = created(client.post("/v1/bookings", {"room_id": hall["id"], "title": "职工代表大会", **session(at(grid_day, 19), 90)}))
    assert match["status"] == congress["status"] == "confirmed", (match, congress)
    return {"whole": hall["name"], "east": east["name"], "west": west["name"], "half_title": match["title"],
            "whole_title": congress["title"]}


def counselling(base, manager_client, officer_client, site):
    """孙倩's counselling case with a session next Tuesday afternoon, for the welfare office's week."""
    client, _ = person(base, "孙倩")
    case = created(client.post("/v1/welfare/applications", {"programme": "counselling", "reason": "失业后整夜睡不着"}))
    room = created(manager_client.post("/v1/rooms", {"site_id": site["id"], "name": "心理咨询室", **NO_LIMITS,
                                                     "capacity": 2, "bookable_by": ["admin"]}))
    tuesday = 8 - datetime.now(SHANGHAI).weekday()
    created(officer_client.post(f"/v1/welfare/applications/{case['id']}/appointments",
                                {"room_id": room["id"], **session(at(tuesday, 15), 60)}))
    return {"member": "孙倩", "reference": case["reference"], "room": room["name"]}


def todays_class(base, admin, teacher, teacher_client):
    """The teacher's class under way today (begun half an hour ago, or just after midnight): two members
    with seats, one of them checked in at the door with the session's code, the other not yet marked."""
    now = datetime.now(SHANGHAI)
    start = max(now - timedelta(minutes=30), now.replace(hour=0, minute=0, second=0, microsecond=0))
    course = created(admin.post("/v1/courses", {
        "title": f"舞蹈（今天）{uuid.uuid4().hex[:4]}", "capacity": 10, "teacher_ids": [teacher["id"]], "category": "arts",
        "schedule": {"dates": [session(start, 120)]}}))
    session_id = course["sessions"][0]["id"]
    code = teacher_client.get(f"/v1/sessions/{session_id}/code").json()["checkin_code"]
    for name, at_door in (("林小雨", False), ("何大山", True)):
        member, _ = person(base, name)
        assert created(member.post(f"/v1/courses/{course['id']}/enrolments", {}))["status"] == "confirmed"
        if at_door:
            assert member.post(f"/v1/sessions/{session_id}/attendance", {"code": code}).status_code == 200
    return {"id": course["id"], "title": course["title"], "session_id": session_id, "code": code}


def finished_class(base, admin, teacher, teacher_client):
    """A one-session class that met yesterday: 宋一 came (a certificate earned), 韩二 did not."""
    course = created(admin.post("/v1/courses", {
        "title": f"剪纸（已结课）{uuid.uuid4().hex[:4]}", "capacity": 10, "teacher_ids": [teacher["id"]], "category": "crafts",
        "schedule": {"dates": [session(at(-1, 19))]}}))
    marks = []
    for name, came in (("宋一", True), ("韩二", False)):
        member, who = person(base, name)
        assert created(member.post(f"/v1/courses/{course['id']}/enrolments", {}))["status"] == "confirmed"
        marks.append({"member_id": who["id"], "present": came})
    marked = teacher_client.post(f"/v1/sessions/{course['sessions'][0]['id']}/attendance", {"marks": marks})
    assert marked.status_code == 200, marked.text
    return {"id": course["id"], "title": course["title"]}


@pytest.mark.timeout(member_app.PLAYWRIGHT_SECONDS + 120)  # Playwright's own bound, and the seeding before it
def national_id(rng):
    first17 = f"340603{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return first17 + national_id_check_digit(first17)


def mutual_aid(base, admin):
    """This year's plan with a unit's three workers enrolled and paid for, and a 10,000-yuan accident claim the
    admin filed for one of them (above the threshold: two officers sign, a third pays); a second unit whose
    administrator uploads, in the browser, a GB18030 roster with one bad row (line 3)."""
    rng, tag = random.Random(), uuid.uuid4().hex[:4]
    year, today = datetime.now(SHANGHAI).year, datetime.now(SHANGHAI).date().isoformat()
    plan = created(admin.post("/v1/mutual-aid/plans", {
        "year": year, "name": f"{year} 年职工互助保障（{tag}）", "contribution": "60.00", "rules": {
            "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 0,
            "critical_illness": "10000.00", "yearly_cap": "15000.00",
            "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}}))
    mine = created(admin.post("/v1/units", {"name": f"淮北煤电工会 {tag}"}))
    mine_admin = new_staff(base, admin, ["unit_admin"], unit_id=mine["id"])
    workers = [("矿工甲", national_id(rng)), ("矿工乙", national_id(rng)), ("矿工丙", national_id(rng))]
    csv = "name,national_id,phone,member_id\n" + "".join(f"{n},{i},,\n" for n, i in workers)
    job = created(mine_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=csv.encode(),
                                  headers={"Content-Type": "text/csv"}), 202)
    eventually(lambda: mine_admin.get(f"/v1/mutual-aid/imports/{job['id']}").json()["status"] == "done", timeout=20)
    created(admin.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions", {"unit_id": mine["id"], "amount": "180.00"}))
    row = next(e for e in admin.get(f"/v1/mutual-aid/plans/{plan['id']}/enrolments").json() if e["name"] == "矿工甲")
    claim = created(admin.post("/v1/mutual-aid/claims", {"plan_id": plan["id"], "enrolment_id": row["id"],
                                                         "kind": "accident", "event_date": today,
                                                         "details": {"severity": "disability"}}))
    assert claim["amount"] == "10000.00", claim  # above the threshold: the first approval asks for a second

    theirs = created(admin.post("/v1/units", {"name": f"相山区环卫工会 {tag}"}))
    unit_admin, _ = staff(base, admin, ["unit_admin"], "王干事", unit_id=theirs["id"])
    upload = CONSOLE_ARTEFACTS / "roster-gb18030.csv"  # the clerk's Excel saves GB18030; the browser sends its bytes
    upload.write_bytes(("name,national_id,phone,member_id\n"
                        f"环卫工张三,{national_id(rng)},,\n"
                        "环卫工李四,110105199001011234,,\n"  # line 3: the check digit is wrong
                        f"环卫工王五,{national_id(rng)},,\n").encode("gb18030"))
    second, _ = staff(base, admin, ["welfare_officer"], "周专员")
    cashier, _ = staff(base, admin, ["welfare_officer"], "吴出纳")
    return {"plan": {"id": plan["id"], "name": plan["name"]}, "claim": {"id": claim["id"]},
            "unit_admin": unit_admin, "roster_file": str(upload), "second_officer": second, "cashier": cashier}


def test_the_staff_console_in_chromium(palace, sms):
    assert (WEB / "dist" / "console" / "index.html").is_file(), "the console is not built: `make web` builds it"
    shutil.rmtree(CONSOLE_ARTEFACTS, ignore_errors=True)
    (CONSOLE_ARTEFACTS / "screens").mkdir(parents=True)
    seed_file = CONSOLE_ARTEFACTS / "seed.json"
    seed_file.write_text(json.dumps(seed(palace), ensure_ascii=False))
    done = playwright(palace, sms, seed_file, config="console.config.ts", artefacts=CONSOLE_ARTEFACTS)
    (CONSOLE_ARTEFACTS / "playwright.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"Playwright failed:\n{(done.stdout + done.stderr)[-12000:]}"
    shots = sorted(p.stem for p in (CONSOLE_ARTEFACTS / "screens").glob("*.png"))
    assert member_app.PLAYWRIGHT_ARGS or len(shots) >= 12, f"a screenshot of each screen: {shots}"
    first_load = first_load_kb(json.loads((CONSOLE_ARTEFACTS / "console-first-load.json").read_text()))
    (CONSOLE_ARTEFACTS / "first-load.json").write_text(json.dumps({"console_first_load_gzip_kb": first_load}))
    assert 20 < first_load <= FIRST_LOAD_BAR_KB, f"the console's first load: {first_load} KB gzipped"
    assert_year_report(CONSOLE_ARTEFACTS / "year-report.xlsx")


def assert_year_report(path):
    """The year report the admin downloaded from the console (console-reports.spec.ts) opens in openpyxl
    with Chinese headers and each figure's total."""
    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ("指标", "分组", "数值"), rows[0]
    totals = {row[0] for row in rows[1:] if row[1] == "合计"}
    assert {"开班数", "培训人次", "场地预约数", "发放金额（元）"} <= totals, totals


def first_load_kb(paths):
    """The scripts and stylesheets the sign-in page loaded, gzipped as the gateway sends them (the build's
    .gz copy beside each file)."""
    total = 0
    for path in set(paths):
        built = WEB / "dist" / path.lstrip("/")
        packed = built.with_name(built.name + ".gz")
        total += (packed if packed.is_file() else built).stat().st_size
    return round(total / 1024, 1)


def test_the_gateway_serves_the_console_at_its_own_address(palace):
    """/console/ and its history-mode pages get the console's page; the member app keeps /."""
    for path in ("/console", "/console/", "/console/courses/any-course", "/console/welfare/cases"):
        page = requests.get(f"{palace.url}{path}", timeout=10)
        assert page.status_code == 200 and '/assets/console-' in page.text, path
        assert page.headers["Cache-Control"] == "no-cache"
    member = requests.get(f"{palace.url}/courses/any-course", timeout=10)
    assert member.status_code == 200 and '/assets/console-' not in member.text and '/assets/member-' in member.text
