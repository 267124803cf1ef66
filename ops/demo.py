"""A palace to try in a minute: `make demo` starts everything and loads a city's palace through
the public API, as staff would: the palace and a dozen Workers' Homes with their rooms, a spring
term of evening classes from the source material, clubs' weekly bookings, units with members, a
mutual-aid plan and a few welfare cases. Then it prints where to look and who to sign in as."""
import sys
import time
from datetime import date, timedelta

import requests

ADMIN = ("13800000000", "admin-pass-1")
STAFF = {  # phone, password, name, roles
    "teacher": ("13800000011", "demo-teacher-1", "Zhou Min 周敏", ["teacher"]),
    "venue_manager": ("13800000012", "demo-venues-1", "Sun Li 孙丽", ["venue_manager"]),
    "welfare_officer": ("13800000013", "demo-welfare-1", "Qian Hua 钱华", ["welfare_officer"]),
    "second_officer": ("13800000016", "demo-welfare-2", "Zheng Lan 郑兰", ["welfare_officer"]),
    "desk": ("13800000017", "demo-desk-1", "Zhao Li 赵丽", ["desk"]),
}
UNIT_ADMIN = ("13800000014", "demo-unit-1", "Wu Gang 吴刚")
MEMBER = ("13900000001", "demo-member-1", "Ruan Xiaoqing 阮小青")
UNITS = ["Huaibei Mining Group union branch 淮北矿业集团工会", "Xiangshan Textile union branch 相山纺织工会",
         "Lieshan Construction union branch 烈山建工工会"]
HOMES = [  # name, kind, district
    ("Xiangshan Street Workers' Home 相山街道职工之家", "shared", "Xiangshan"),
    ("Dongshan Community Workers' Home 东山社区职工之家", "shared", "Xiangshan"),
    ("Economic Development Zone Workers' Home 经开区职工之家", "shared", "Duji"),
    ("Lieshan Industrial Park Workers' Home 烈山工业园职工之家", "shared", "Lieshan"),
    ("Gaoyue Town Workers' Home 高岳镇职工之家", "shared", "Duji"),
    ("Huaibei Mining Group Workers' Home 淮北矿业职工之家", "own_unit", "Duji"),
    ("Xiangshan Textile Workers' Home 相山纺织职工之家", "own_unit", "Xiangshan"),
    ("City Bus Company Workers' Home 公交公司职工之家", "own_unit", "Xiangshan"),
    ("Power Supply Company Workers' Home 供电公司职工之家", "own_unit", "Lieshan"),
    ("Metro Line 2 Site Workers' Home 地铁二号线工地职工之家", "mobile", "Duji"),
    ("New Hospital Site Workers' Home 新医院工地职工之家", "mobile", "Xiangshan"),
    ("Riverside Road Site Workers' Home 滨河路工地职工之家", "mobile", "Lieshan"),
]
CLASSES = [  # title, category, weekday (1 = Monday), room key
    ("Phone photography 手机摄影", "arts", 1, "301"), ("Recitation 朗诵", "arts", 1, "302"),
    ("Tea art 茶艺", "life", 2, "301"), ("Paper cutting 剪纸", "crafts", 2, "302"),
    ("Fitness 健身", "sport", 3, "dance"), ("Handicraft 手工", "crafts", 3, "301"),
    ("Yoga 瑜伽", "sport", 4, "dance"), ("Flower arranging 插花", "life", 4, "301"),
    ("Posture 形体", "sport", 5, "dance"), ("Home organising 家居收纳", "life", 5, "301"),
    ("Cooking 烹饪", "life", 1, "303"), ("Calligraphy 书法", "arts", 2, "303"), ("Choir 合唱", "arts", 3, "302"),
]


class Api:
    def __init__(self, base, phone=None, password=None):
        self.base, self.http = base, requests.Session()
        if phone:
            answer = self.http.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=30)
            answer.raise_for_status()
            self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def post(self, path, body=None, ok=(200, 201, 202), **kw):
        answer = self.http.post(self.base + path, json=body, timeout=60, **kw)
        if answer.status_code not in ok:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def get(self, path, **kw):
        answer = self.http.get(self.base + path, timeout=60, **kw)
        answer.raise_for_status()
        return answer.json()


def account(admin, phone, password, name, roles, unit_id=None):
    body = {"phone": phone, "password": password, "name": name, "roles": roles, "unit_id": unit_id}
    admin.post("/v1/accounts", body, ok=(201, 409))


def load(base, admin_login=ADMIN):
    admin = Api(base, *admin_login)
    for phone, password, name, roles in STAFF.values():
        account(admin, phone, password, name, roles)
    for name in UNITS:
        admin.post("/v1/units", {"name": name}, ok=(201, 409))
    units = {u["name"]: u["id"] for u in admin.get("/v1/units")}
    unit_id = units[UNITS[0]]
    account(admin, *UNIT_ADMIN[:2], UNIT_ADMIN[2], ["unit_admin"], unit_id)
    venues = Api(base, *STAFF["venue_manager"][:2])
    palace, rooms = venues_of_the_city(venues)
    classes = term_of_classes(Api(base, *STAFF["teacher"][:2]), admin, palace, rooms)
    members = members_of(base, admin, unit_id)
    for member, course in zip(members[:8], classes, strict=False):
        member.post(f"/v1/courses/{course}/enrolments", {}, ok=(201, 409, 422))
    club_bookings(venues, members[0], rooms, palace)
    welfare_cases(base, members, unit_id)
    return {"sites": 1 + len(HOMES), "rooms": len(rooms), "classes": len(classes), "members": len(members)}


def venues_of_the_city(venues):
    palace = venues.post("/v1/sites", {"name": "Huaibei Workers' Cultural Palace 淮北市工人文化宫", "kind": "palace",
                                      "district": "Xiangshan", "address": "1 Renmin Road 人民路1号"})["id"]
    hall = venues.post("/v1/rooms", {"site_id": palace, "name": "Multi-function hall 多功能厅", "floor": 1,
                                     "capacity": 200, "features": ["piano", "projector", "stage"], "buffer_minutes": 15,
                                     "max_advance_days": 90})  # the choir books its season of Saturdays
    rooms = {
        "hall": hall["id"],
        "hall-east": venues.post("/v1/rooms", {"site_id": palace, "parent_id": hall["id"], "floor": 1,
                                              "name": "Multi-function hall, east half 东厅", "capacity": 100})["id"],
        "hall-west": venues.post("/v1/rooms", {"site_id": palace, "parent_id": hall["id"], "floor": 1,
                                              "name": "Multi-function hall, west half 西厅", "capacity": 100})["id"],
        "theatre": venues.post("/v1/rooms", {"site_id": palace, "name": "Theatre 剧场", "floor": 1, "capacity": 600,
                                             "features": ["stage", "piano"], "requires_approval": True})["id"],
        "dance": venues.post("/v1/rooms", {"site_id": palace, "name": "Dance room 舞蹈室", "floor": 2, "capacity": 40,
                                           "features": ["mirrors", "sprung_floor"], "buffer_minutes": 10})["id"],
        "counselling": venues.post("/v1/rooms", {"site_id": palace, "name": "Heart station 心灵驿站", "floor": 4,
                                                 "capacity": 3, "features": ["private"],
                                                 "bookable_by": ["welfare_officer"]})["id"],
    }
    for number in ("301", "302", "303"):
        rooms[number] = venues.post("/v1/rooms", {"site_id": palace, "name": f"Classroom {number} 教室", "floor": 3,
                                                  "capacity": 30, "features": ["projector"]})["id"]
    for name, kind, district in HOMES:
        site = venues.post("/v1/sites", {"name": name, "kind": kind, "district": district})["id"]
        rooms[name] = venues.post("/v1/rooms", {"site_id": site, "name": "Activity room 活动室", "capacity": 25,
                                                "features": ["projector"] if kind != "mobile" else []})["id"]
    return palace, rooms


def term_of_classes(teacher, admin, palace, rooms):
    start = next_monday(date.today() + timedelta(days=14))
    term = admin.post("/v1/terms", {"name": f"{start.year} term 学期", "starts_on": start.isoformat(),
                                    "ends_on": (start + timedelta(weeks=12)).isoformat(), "class_cap": 3})["id"]
    courses = []
    for title, category, weekday, room in CLASSES:
        lottery = title.startswith("Yoga")
        body = {"title": title, "category": category, "capacity": 30 if room != "dance" else 40,
                "teacher": "Zhou Min 周敏", "term_id": term, "site_id": palace, "room_id": rooms[room],
                "district": "Xiangshan", "allocation": "lottery" if lottery else "first_come",
                "schedule": {"weekly": {"weekdays": [weekday], "start_time": "19:00", "duration_minutes": 90}}}
        if lottery:
            body["draw_at"] = f"{(start - timedelta(days=3)).isoformat()}T20:00:00+08:00"
        courses.append(teacher.post("/v1/courses", body)["id"])
    online = teacher.post("/v1/courses", {"title": "Cloud classroom: labour law basics 云课堂：劳动法基础",
                                          "category": "online", "capacity": 5000})
    return courses + [online["id"]]


def next_monday(day):
    return day + timedelta(days=(7 - day.weekday()) % 7)


def members_of(base, admin, unit_id):
    members = []
    names = ["Ruan Xiaoqing 阮小青", "Zhang Wei 张伟", "Wang Fang 王芳", "Li Na 李娜", "Liu Yang 刘洋",
             "Chen Jing 陈静", "Yang Lei 杨磊", "Huang Min 黄敏", "Zhao Qiang 赵强", "Wu Xiu 吴秀"]
    for n, name in enumerate(names):
        phone, password = (MEMBER[0], MEMBER[1]) if n == 0 else (f"139000001{n:02d}", "demo-member-1")
        requests.post(f"{base}/v1/auth/register", json={"phone": phone, "name": name, "password": password},
                      timeout=30)
        if n < 6:
            admin.post(f"/v1/units/{unit_id}/members", {"phone": phone}, ok=(200, 409))
        members.append(Api(base, phone, password))
    return members


def club_bookings(venues, member, rooms, palace):
    """The venue manager sets up the choir with the demo member as its leader, who books its rehearsals."""
    choir = venues.post("/v1/clubs", {"name": "Workers' Choir 职工合唱团", "leader_id": member.get("/v1/me")["id"],
                                      "site_id": palace})
    start = next_monday(date.today() + timedelta(days=7)) + timedelta(days=5)  # Saturdays
    member.post("/v1/bookings", {"room_id": rooms["hall"], "title": "Choir club rehearsal 合唱团排练",
                                 "club_id": choir["id"],
                                 "starts_at": f"{start.isoformat()}T14:00:00+08:00",
                                 "ends_at": f"{start.isoformat()}T16:00:00+08:00",
                                 "recurrence": {"weekdays": [6], "count": 8}, "skip_conflicts": True})


def welfare_cases(base, members, unit_id):
    officer = Api(base, *STAFF["welfare_officer"][:2])
    apply_with(members[1], {"programme": "hardship_relief", "amount_requested": "800.00",
                            "reason": "Hospital bills after a workplace injury 工伤住院费用",
                            "private": {"household_income": "2600.00", "household_size": 3}}, "income_statement")
    apply_with(members[2], {"programme": "education_subsidy", "amount_requested": "1500.00",
                            "reason": "Enrolled in a part-time degree 在职学历提升"}, "enrolment_certificate")
    members[3].post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "Unpaid wages 欠薪"})
    plan = officer.post("/v1/mutual-aid/plans", {
        "year": date.today().year, "name": f"Mutual-aid plan {date.today().year} 职工互助保障", "contribution": "60.00",
        "rules": {"hospital_daily": "50.00", "hospital_deductible_days": 3, "hospital_max_days": 90,
                  "waiting_days": 90, "critical_illness": "10000.00", "yearly_cap": "15000.00",
                  "accident": {"minor": "500.00", "moderate": "2000.00", "severe": "5000.00",
                               "disability": "10000.00"}}}, ok=(201, 409))
    unit_admin = Api(base, *UNIT_ADMIN[:2])
    rows = "\n".join(f"Worker {n} 职工{n},{national_id(n)},1370000{n:04d}," for n in range(1, 41))
    if plan:
        job = unit_admin.post(f"/v1/mutual-aid/plans/{plan['id']}/enrolments",
                              ok=(202,), data=("name,national_id,phone,member_id\n" + rows + "\n").encode(),
                              headers={"Content-Type": "text/csv"})
        deadline = time.monotonic() + 60  # the contribution is checked against the roster the import makes
        while unit_admin.get(f"/v1/mutual-aid/imports/{job['id']}")["status"] not in ("done", "failed"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo roster import {job['id']} did not finish in 60 s")
            time.sleep(0.2)
        officer.post(f"/v1/mutual-aid/plans/{plan['id']}/contributions", {"unit_id": unit_id, "amount": "2400.00"})


def apply_with(member, body, document):
    """A draft, its document uploaded (a one-page PDF standing in for the scan), then submitted."""
    draft = member.post("/v1/welfare/applications", {**body, "draft": True})
    member.post(f"/v1/welfare/applications/{draft['id']}/documents", None, params={"kind": document},
                data=b"%PDF-1.4\n% demo scan\n%%EOF\n", headers={"Content-Type": "application/pdf"})
    member.post(f"/v1/welfare/applications/{draft['id']}/submission", {})


def national_id(n):
    from services.welfare.domain import national_id_check_digit

    first17 = f"34060219850101{n:03d}0"[:17]
    return first17 + national_id_check_digit(first17)


def wait_until_ready(base, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def main(base="http://127.0.0.1:8000"):
    if not wait_until_ready(base):
        print("demo: the palace did not become ready", file=sys.stderr)
        return 1
    figures = load(base)
    print(f"""
demo: loaded {figures['sites']} sites, {figures['rooms']} rooms, {figures['classes']} classes, {figures['members']} members.
  API docs     {base}/docs
  catalog      curl '{base}/v1/courses?category=arts'
  sign in as   admin {ADMIN[0]} / {ADMIN[1]}
               member {MEMBER[0]} / {MEMBER[1]}
               teacher {STAFF['teacher'][0]} / {STAFF['teacher'][1]}
               venue manager {STAFF['venue_manager'][0]} / {STAFF['venue_manager'][1]}
               welfare officer {STAFF['welfare_officer'][0]} / {STAFF['welfare_officer'][1]}
               unit administrator {UNIT_ADMIN[0]} / {UNIT_ADMIN[1]}
               front desk {STAFF['desk'][0]} / {STAFF['desk'][1]}
""", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
