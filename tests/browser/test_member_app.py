"""The member app in a real browser: one palace (every service, the gateway serving the built app,
PostgreSQL, RabbitMQ) seeded through the API as staff would, then the Playwright suite in
tests/browser/*.spec.ts driving Debian's Chromium at a phone's size through the eight journeys.
The one fake is the SMS provider (it speaks the provider's protocol): the member reads the reset code
on "their phone", which the browser tests ask it for. Screenshots of every screen are kept in
tests/browser/artefacts/screens (gitignored)."""
import json
import os
import secrets
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.conftest import NO_LIMITS, new_member, new_staff, sign_in
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, bulk_members, eventually
from tests.providers import Providers, sms_env

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WEB = ROOT / "web"
ARTEFACTS = HERE / "artefacts"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAYWRIGHT_SECONDS = 420
# a subset while working on a screen: PLAYWRIGHT_ARGS="home.spec.ts classes.spec.ts" (any `playwright test`
# arguments); unset, every spec runs
PLAYWRIGHT_ARGS = os.environ.get("PLAYWRIGHT_ARGS", "").split()
RACERS, RACE_SEATS = 20, 5


@pytest.fixture(scope="module")
def sms():
    """Aliyun's SMS service (tests/providers.py); GET /sms?phone=... shows the texts a phone got."""
    provider = Providers()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def palace(stack, sms):
    """Every process of `make run`, the gateway serving web/dist; texts go to the fake provider."""
    assert (WEB / "dist" / "index.html").is_file(), "the member app is not built: `make test` builds it (scripts/web)"
    stack.env.update(**sms_env(sms.url + "/sms"), PALACE_ENROL_LIMIT="100/60",
                     PALACE_WEB_ROOT=str(WEB / "dist"), PALACE_TOKEN_SECRET=secrets.token_urlsafe(32))
    stack.start_all()
    yield stack


def at(days, hour, minute=0):
    """A Shanghai wall-clock time `days` from today."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def session(start, minutes=90):
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=minutes)).isoformat()}


def tokens(base, phone, password):
    answer = requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def person(base, name):
    member = new_member(base, name)
    phone = member.get("/v1/me").json()["phone"]
    return member, {"phone": phone, "password": "member-password", "name": name, "id": member.id,
                    "tokens": tokens(base, phone, "member-password")}


def created(answer, status=201):
    assert answer.status_code == status, answer.text
    return answer.json()


def seed(palace):
    """What the journeys need, made through the API as staff and members would make it."""
    base = palace.url
    admin = sign_in(base, ADMIN_PHONE, ADMIN_PASSWORD)
    now = datetime.now(SHANGHAI)
    site = created(admin.post("/v1/sites", {"name": "工人文化宫", "kind": "palace", "district": "相山区",
                                            "address": "人民路1号"}))
    classroom = created(admin.post("/v1/rooms", {"site_id": site["id"], "name": "301 教室", **NO_LIMITS, "capacity": 40}))
    hall = created(admin.post("/v1/rooms", {"site_id": site["id"], "name": "多功能厅", **NO_LIMITS, "capacity": 120,
                                            "features": ["piano", "stage"]}))
    counselling_room = created(admin.post("/v1/rooms", {"site_id": site["id"], "name": "心灵驿站", **NO_LIMITS, "capacity": 3,
                                                        "features": ["private"], "bookable_by": ["welfare_officer"]}))

    member_client, member = person(base, "阮小青")
    _, enroller = person(base, "王芳")
    other_client, _ = person(base, "李明")
    leaver_client, leaver = person(base, "张强")
    opened = (now - timedelta(minutes=5)).isoformat()

    def course(title, capacity=30, days=7, hour=19, **extra):
        body = {"title": title, "capacity": capacity, "category": "life", "teacher": "周敏", "site_id": site["id"],
                "opens_at": opened, "schedule": {"dates": [session(at(days, hour)), session(at(days + 30, hour))]},
                **extra}
        return created(admin.post("/v1/courses", body))

    courses = {
        "tea": course("茶艺 Tea art", room_id=classroom["id"], description="从泡一壶绿茶开始。"),
        "full": course("剪纸 Paper cutting", capacity=1, days=8),
        "lottery": course("瑜伽 Yoga", days=9, allocation="lottery", draw_at=at(3, 20).isoformat(),
                          category="sport"),
        "launch": course("合唱 Choir", capacity=RACE_SEATS, days=10, category="arts"),
        "offer": course("插花 Flower arranging", capacity=1, days=11, offer_hours=24),
        "waiting": course("烹饪 Cooking", capacity=1, days=12),
        "mine": course("朗诵 Recitation", days=13, category="arts"),
        "retry": course("手工 Handicraft", days=14, category="crafts"),
        "closed": course("形体 Posture", days=15, category="sport",
                         opens_at=(now - timedelta(hours=3)).isoformat(),
                         closes_at=(now - timedelta(hours=1)).isoformat()),
        "eligible": course("太极 Tai chi for seniors", days=17, category="sport", min_age=60, max_age=100),
        "checkin": course("书法 Calligraphy", days=18, category="arts",
                          schedule={"dates": [session(now - timedelta(minutes=10), 80)]}),
        # held last week and attended: the certificate is earned (out of this week's timetable)
        "earned": course("国画 Chinese painting", days=19, category="arts",
                         schedule={"dates": [session(now - timedelta(days=8), 90)]}),
    }

    def enrol(client, key):
        return created(client.post(f"/v1/courses/{courses[key]['id']}/enrolments", {}))

    enrol(other_client, "full")
    enrol(other_client, "offer")
    enrol(other_client, "waiting")
    for key in ("offer", "waiting", "checkin", "earned"):
        enrol(member_client, key)
    [held] = created(admin.get(f"/v1/courses/{courses['earned']['id']}"), 200)["sessions"]
    created(admin.post(f"/v1/sessions/{held['id']}/attendance",
                       {"marks": [{"member_id": member["id"], "present": True}]}), 200)
    clerk = new_staff(base, admin, ["desk"], name="赵丽")  # "mine" she asked for at the front desk
    created(clerk.post(f"/v1/courses/{courses['mine']['id']}/enrolments", {"member_id": member["id"]}))
    released = enrol(leaver_client, "full")
    assert released["status"] == "waitlisted"
    # the seat of "offer" is freed: the member, first in line, is offered it for a day
    mine = {e["course_id"]: e for e in other_client.get("/v1/me/enrolments").json()}
    assert other_client.delete(f"/v1/enrolments/{mine[courses['offer']['id']]['id']}").status_code == 200
    [first] = created(admin.get(f"/v1/courses/{courses['checkin']['id']}"), 200)["sessions"]
    checkin_session = created(admin.get(f"/v1/sessions/{first['id']}/code"), 200)  # shown at the door

    club = created(admin.post("/v1/clubs", {"name": "职工合唱团", "leader_id": member["id"], "site_id": site["id"]}))
    soon = now + timedelta(minutes=5)
    created(member_client.post("/v1/bookings", {"room_id": hall["id"], "title": "合唱团加练",
                                                **session(soon, 60), "club_id": club["id"]}))
    # counselling: the member asks, an officer books the room this week
    case = created(member_client.post("/v1/welfare/applications", {"programme": "counselling",
                                                                   "reason": "工作压力大，睡不好"}))
    appointment = now + timedelta(minutes=100)
    created(admin.post(f"/v1/welfare/applications/{case['id']}/appointments",
                       {"room_id": counselling_room["id"], **session(appointment, 50)}))
    # legal aid: asked for and decided, for the member to follow
    legal = created(member_client.post("/v1/welfare/applications", {"programme": "legal_aid",
                                                                    "reason": "单位拖欠三个月工资"}))
    created(admin.post(f"/v1/welfare/applications/{legal['id']}/decisions",
                       {"decision": "approve", "note": "已安排法律援助律师，周三与您联系"}))
    mutual_aid(base, admin, member, now.year)

    # the racers' accounts written straight in, signed in by tokens made with the palace's key (20 password
    # hashes would take seconds); a launch lasts less than an access token does, so none is renewed
    racers = [{"id": member_id, "tokens": {"access_token": token, "refresh_token": "", "expires_in": 900}}
              for member_id, token in bulk_members(palace, RACERS)]
    eventually(lambda: all(admin.get(f"/v1/courses/{c['id']}").status_code == 200 for c in courses.values()))
    return {
        "member": member, "enroller": enroller, "waiting": leaver, "racers": racers,
        "courses": {k: {"id": c["id"], "title": c["title"]} for k, c in courses.items()},
        "checkin": {"session": checkin_session["id"], "code": checkin_session["checkin_code"]},
        "club": club["name"], "room": hall["name"], "site": {"name": site["name"], "address": site["address"]},
        # home shows this week (Monday to Sunday, Shanghai): near midnight on a Sunday or a Monday an
        # entry made "now" can fall in the week beside it, and home rightly leaves it out
        "this_week": {"checkin": this_week(now - timedelta(minutes=10)), "booking": this_week(soon),
                      "counselling": this_week(appointment)},
        "days": {"checkin": day_label(now - timedelta(minutes=10)), "booking": day_label(soon)},
    }


def day_label(moment):
    """The heading home gives the day of `moment` (Shanghai): 11月25日 周三."""
    day = moment.astimezone(SHANGHAI).date()
    return f"{day.month}月{day.day}日 周{'一二三四五六日'[day.weekday()]}"


def this_week(moment):
    today = datetime.now(SHANGHAI).date()
    monday = today - timedelta(days=today.weekday())
    return monday <= moment.astimezone(SHANGHAI).date() < monday + timedelta(days=7)


def mutual_aid(base, admin, member, year):
    """This year's plan, the member's unit enrolled by its CSV and its contribution recorded."""
    unit = created(admin.post("/v1/units", {"name": "淮北矿业集团工会"}))
    unit_admin = new_staff(base, admin, ["unit_admin"], unit_id=unit["id"])
    created(admin.post(f"/v1/units/{unit['id']}/members", {"phone": member["phone"]}), 200)  # the unit's worker
    plan = created(admin.post("/v1/mutual-aid/plans", {
        "year": year, "name": f"{year} 年职工互助保障", "contribution": "60.00", "rules": {
            "hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90, "waiting_days": 90,
            "critical_illness": "10000.00", "yearly_cap": "15000.00",
            "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00", "disability": "10000.00"}}}))
    csv = f"name,national_id,phone,member_id\n阮小青,11010519491231002X,{member['phone']},{member['id']}\n"
    job = created(unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments", data=csv.encode(),
                                  headers={"Content-Type": "text/csv"}), 202)
    eventually(lambda: unit_admin.get(f"/v1/mutual-aid/imports/{job['id']}").json()["status"] == "done", timeout=20)
    created(admin.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions", {"unit_id": unit["id"], "amount": "60.00"}))


def playwright(palace, sms, seed_file, config="playwright.config.ts", artefacts=ARTEFACTS):
    """`playwright test` once (the member app's specs, or another config's), with the palace's address
    and the seed; Playwright's own output on failure."""
    link = HERE / "node_modules"  # the specs import @playwright/test: resolve it from web/node_modules
    if not link.exists():
        link.symlink_to(WEB / "node_modules", target_is_directory=True)
    env = {**os.environ, "PALACE_URL": palace.url, "PALACE_SEED": str(seed_file), "PALACE_ARTEFACTS": str(artefacts),
           "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "PLAYWRIGHT_BROWSERS_PATH": "0", "CI": "1"}
    try:
        return subprocess.run([str(WEB / "node_modules" / ".bin" / "playwright"), "test", "-c",
                               str(HERE / config), *PLAYWRIGHT_ARGS],
                              cwd=HERE, env=env, capture_output=True, text=True, timeout=PLAYWRIGHT_SECONDS)
    except subprocess.TimeoutExpired as late:
        pytest.fail(f"the browser tests ran over {PLAYWRIGHT_SECONDS} s:\n{(late.stdout or b'')[-6000:]}")


def test_the_member_app_journeys_in_chromium(palace, sms):
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    (ARTEFACTS / "screens").mkdir(parents=True)
    seed_file = ARTEFACTS / "seed.json"
    seed_file.write_text(json.dumps({**seed(palace), "sms": sms.url + "/sms"}, ensure_ascii=False))
    done = playwright(palace, sms, seed_file)
    (ARTEFACTS / "playwright.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"Playwright failed:\n{(done.stdout + done.stderr)[-12000:]}"
    shots = sorted(p.stem for p in (ARTEFACTS / "screens").glob("*.png"))
    assert PLAYWRIGHT_ARGS or len(shots) >= 20, f"a screenshot of each screen: {shots}"


def test_the_gateway_serves_the_built_app_beside_the_api(palace):
    """The real gateway: pages for app routes, the built assets gzipped and cached, the API untouched."""
    page = requests.get(f"{palace.url}/courses/any-course", timeout=10)
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert page.headers["Cache-Control"] == "no-cache"
    script = next(part.split('"')[0] for part in page.text.split('src="')[1:] if part.startswith("/assets/"))
    asset = requests.get(f"{palace.url}{script}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert asset.status_code == 200 and asset.headers["Content-Encoding"] == "gzip"
    assert "immutable" in asset.headers["Cache-Control"]
    missing = requests.get(f"{palace.url}/v1/no-such-route", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{palace.url}/openapi.json", timeout=10).json()["paths"]
