"""A new member hears in Chinese on their phone: registering gives notify the phone they signed up
with, and enrolling reaches the SMS provider (a local fake of Aliyun's, checking the signature) once,
in Chinese, with the course and its weekday; a member whose browser prefers English reads English in
the app. Staff hear of the work waiting for them: a booking to approve (the venue managers), a class
request (the admins), a case given to an officer (that officer)."""
import re
import time
import uuid

import pytest
import requests

from tests.e2e.conftest import NO_LIMITS, _phones, new_staff, sign_in
from tests.e2e.test_bad_input import assert_problem
from tests.e2e.test_welfare_cases import PLAN
from tests.e2e.test_welfare_mutual_aid import csv_of, roster, upload
from tests.harness import eventually
from tests.providers import Providers, sms_env

TUESDAY = {"starts_at": "2027-03-02T19:00:00+08:00", "ends_at": "2027-03-02T21:00:00+08:00"}


@pytest.fixture(scope="module", autouse=True)
def sms(stack):
    """The SMS provider notify sends to (a fake Aliyun checking signatures), started before the palace is."""
    provider = Providers()
    stack.env.update(**sms_env(provider.url + "/sms"), PALACE_NOTIFY_POLL="0.1", PALACE_WELFARE_SLA_CHECK="0.5")
    yield provider
    provider.stop()


def register(base, accept_language=None):
    phone, password = str(next(_phones)), "member-password"
    headers = {"Accept-Language": accept_language} if accept_language else {}
    answer = requests.post(f"{base}/v1/auth/register", json={"phone": phone, "name": "王芳", "password": password},
                           headers=headers, timeout=15)
    assert answer.status_code == 201, answer.text
    member = sign_in(base, phone, password)
    member.id, member.phone = answer.json()["id"], phone
    return member


def enrol_in_a_tuesday_class(admin, member, title):
    course = admin.post("/v1/courses", {"title": title, "capacity": 5, "schedule": {"dates": [TUESDAY]}})
    assert course.status_code == 201, course.text
    # the phone the member signed up with is their SMS contact, without their setting any
    assert eventually(lambda: member.get("/v1/me/contacts").json()["phone"] == member.phone)
    enrolled = member.post(f"/v1/courses/{course.json()['id']}/enrolments")
    assert enrolled.status_code == 201, enrolled.text


def test_a_new_member_enrols_and_the_sms_provider_gets_one_chinese_message_with_the_course_and_weekday(
        palace, admin, sms):
    member = register(palace.url)  # no Accept-Language at all: Chinese
    enrol_in_a_tuesday_class(admin, member, "茶艺入门")

    [(_, status, body, _)] = eventually(lambda: sms.to("/sms", member.phone), timeout=15)
    time.sleep(1)  # room for a wrong second message to show up
    assert len(sms.to("/sms", member.phone)) == 1, "exactly one SMS"
    # the fake took it as Aliyun would: the signature, key, timestamp and nonce checked
    assert (status, body["Code"]) == (200, "OK") and body["Action"] == "SendSms"
    assert body["TemplateCode"] == sms.template("SMS_PALACE_ENROL_OK") and body["SignName"] == "工人文化宫"
    assert body["TemplateParam"] == {"course": "茶艺入门", "time": "3月2日 周二 19:00"}
    assert not re.search(r"[A-Za-z]", "".join(body["TemplateParam"].values())), "nothing but Chinese"

    [entry] = eventually(lambda: member.get("/v1/me/notifications").json())
    assert entry["title"] == "报名成功：茶艺入门"
    assert entry["body"] == "您在《茶艺入门》的名额已确认，期待您来上课。首次上课时间：3月2日 周二 19:00。"
    assert member.get("/v1/me/notification-preferences").json()["language"] == "zh-CN"


def test_a_member_whose_browser_prefers_english_reads_english_in_the_app(palace, admin, sms):
    member = register(palace.url, "en-GB,en;q=0.9,zh-CN;q=0.5")
    assert eventually(lambda: member.get("/v1/me/notification-preferences").json()["language"] == "en")
    enrol_in_a_tuesday_class(admin, member, "Tea art 茶艺")

    [entry] = eventually(lambda: member.get("/v1/me/notifications").json())
    assert entry["title"] == "Seat confirmed: Tea art 茶艺" and "Tue 2 Mar 19:00" in entry["body"]
    [(_, _, body, _)] = eventually(lambda: sms.to("/sms", member.phone), timeout=15)
    assert body["TemplateParam"]["time"] == "3月2日 周二 19:00", "the provider's approved template is Chinese"



# staff hear what waits for them


def texts_of(sms, template):
    return [r for r in sms.sent("/sms") if r[2].get("TemplateCode") == sms.template(template)]


def inbox_titles(client):
    return [e["title"] for e in client.get("/v1/me/notifications").json()]


def reachable(*staff):
    """Wait until notify knows these new staff accounts' phones. The phone comes by its own event, in
    no order with the alert's: staff whose accounts are a second old would get the inbox entry and no
    SMS, which is not what these tests are about."""
    for someone in staff:
        assert eventually(lambda s=someone: s.get("/v1/me/contacts").json().get("phone") == s.phone)


def test_a_booking_waiting_for_approval_reaches_every_venue_manager_and_nobody_else(palace, admin, sms):
    managers = [new_staff(palace.url, admin, ["venue_manager"], name=f"场地管理员{n}") for n in "甲乙"]
    teacher = new_staff(palace.url, admin, ["teacher"], name="老师")
    reachable(*managers)
    site = managers[0].post("/v1/sites", {"name": "工人文化宫", "kind": "palace", "district": "芝罘",
                                          "address": "文化路1号"})
    assert site.status_code == 201, site.text
    room = managers[0].post("/v1/rooms", {"site_id": site.json()["id"], "name": f"剧场{uuid.uuid4().hex[:4]}",
                                          **NO_LIMITS, "capacity": 600, "requires_approval": True})
    assert room.status_code == 201, room.text
    member = register(palace.url)
    booked = member.post("/v1/bookings", {"room_id": room.json()["id"], "title": "合唱排练", **TUESDAY})
    assert booked.status_code == 201 and booked.json()["status"] == "pending", booked.text

    want = f"待审批预约：{room.json()['name']}"
    for manager in managers:
        assert eventually(lambda m=manager: want in inbox_titles(m)), "each venue manager is told"
    [entry] = [e for e in managers[1].get("/v1/me/notifications").json() if e["title"] == want]
    assert entry["body"] == f"工人文化宫{room.json()['name']}（3月2日 周二 19:00）有一条预约《合唱排练》等待您审批。"
    alerts = eventually(lambda: len(texts_of(sms, "SMS_PALACE_STAFF_BOOKING")) >= 2
                        and texts_of(sms, "SMS_PALACE_STAFF_BOOKING"), timeout=15)
    assert {r[2]["TemplateParam"]["room"] for r in alerts} == {room.json()["name"]}
    assert len(alerts) == 2 and all(r[2]["Code"] == "OK" for r in alerts), "one SMS to each manager"
    assert eventually(lambda: any(t.startswith("预约已提交") for t in inbox_titles(member))), "the member hears too"
    assert not [t for t in inbox_titles(teacher) if t.startswith("待审批")]


def test_a_class_request_reaches_the_admins(palace, admin, sms):
    second_admin = new_staff(palace.url, admin, ["admin"], name="管理员")
    reachable(second_admin)
    with palace.db("gateway") as conn:
        unit_id = conn.execute("INSERT INTO units (name) VALUES (%s) RETURNING id",
                               (f"铁路机务段工会{uuid.uuid4().hex[:4]}",)).fetchone()["id"]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=str(unit_id))
    title = f"安全生产培训{uuid.uuid4().hex[:4]}"
    asked = unit_admin.post("/v1/class-requests", {"title": title, "site_id": str(uuid.uuid4()), "capacity": 25})
    assert asked.status_code == 201, asked.text

    for someone in (admin, second_admin):  # the bootstrap admin too: asked of the gateway, not remembered
        assert eventually(lambda s=someone: f"开班申请待处理：{title}" in inbox_titles(s))
    [entry] = [e for e in second_admin.get("/v1/me/notifications").json() if title in e["title"]]
    assert entry["body"] == f"有单位提交了开班申请《{title}》（25 人），等待您处理。"
    [text] = eventually(lambda: [r for r in texts_of(sms, "SMS_PALACE_STAFF_CLASS_REQUEST")
                                 if r[2]["TemplateParam"]["title"] == title], timeout=15)
    assert text[2]["Code"] == "OK", "the second admin's phone (the bootstrap admin set none)"
    assert not [t for t in inbox_titles(unit_admin) if t.startswith("开班申请待处理")]


def test_a_case_given_to_an_officer_reaches_that_officer_only(palace, admin, sms):
    triager, officer = (new_staff(palace.url, admin, ["welfare_officer", "member"], name=n) for n in ("分派员", "经办人"))
    member = register(palace.url)
    # the officer's phone reaches notify by its own event, in no order with the case's: an officer
    # whose account is seconds old would get the inbox entry but no SMS
    reachable(officer)
    case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "three months unpaid wages"})
    assert case.status_code == 201, case.text
    assigned = triager.post(f"/v1/welfare/applications/{case.json()['id']}/assignment",
                            {"officer_id": officer.id, "priority": "urgent"})
    assert assigned.status_code == 200, assigned.text

    reference = case.json()["reference"]
    assert eventually(lambda: f"新分派个案：{reference}" in inbox_titles(officer))
    [entry] = [e for e in officer.get("/v1/me/notifications").json() if reference in e["title"]]
    assert entry["body"].endswith("已分派给您，优先级：紧急。") and "legal_aid" not in entry["body"]
    [text] = eventually(lambda: [r for r in texts_of(sms, "SMS_PALACE_STAFF_CASE")
                                 if r[2]["TemplateParam"]["reference"] == reference], timeout=15)
    assert text[2]["TemplateParam"]["priority"] == "紧急"
    time.sleep(0.5)
    assert not [t for t in inbox_titles(triager) if t.startswith("新分派个案")]
    assert not [t for t in inbox_titles(member) if reference in t and t.startswith("新分派")]


def waited(palace, case_id, share, beyond="0 seconds"):
    """The case as if it had waited `share` of its programme's time limit (and `beyond` that)."""
    with palace.db("welfare") as conn:
        conn.execute("UPDATE applications a SET state_since = now() - p.sla * %s - %s::interval FROM programmes p"
                     " WHERE p.code = a.programme AND a.id = %s", (share, beyond, case_id))


def test_a_case_near_then_past_its_time_limit_reaches_its_officer_and_the_admins(palace, admin, sms):
    triager, officer = (new_staff(palace.url, admin, ["welfare_officer", "member"], name=n) for n in ("分派员", "经办人"))
    second_admin = new_staff(palace.url, admin, ["admin"], name="管理员")
    reachable(officer, second_admin)
    member = register(palace.url)
    case = member.post("/v1/welfare/applications", {"programme": "legal_aid", "reason": "three months unpaid wages"})
    assert case.status_code == 201, case.text
    assert triager.post(f"/v1/welfare/applications/{case.json()['id']}/assignment",
                        {"officer_id": officer.id, "priority": "normal"}).status_code == 200
    reference = case.json()["reference"]

    waited(palace, case.json()["id"], 0.8)
    soon = f"个案即将超时：{reference}"
    for someone in (officer, second_admin, admin):
        assert eventually(lambda s=someone: soon in inbox_titles(s)), "the officer and every admin"
    [entry] = [e for e in officer.get("/v1/me/notifications").json() if e["title"] == soon]
    assert "即将超过处理时限" in entry["body"] and "周" in entry["body"], entry["body"]
    [text] = eventually(lambda: [r for r in texts_of(sms, "SMS_PALACE_STAFF_CASE_DUE_SOON")
                                 if r[2]["TemplateParam"]["reference"] == reference and r[2]["PhoneNumbers"]
                                 == officer.phone], timeout=15)
    assert text[2]["Code"] == "OK"
    assert not [t for t in inbox_titles(triager) if reference in t], "not an officer of this case"

    waited(palace, case.json()["id"], 1, "1 hour")
    late = f"个案超时待办：{reference}"
    for someone in (officer, second_admin):
        assert eventually(lambda s=someone: late in inbox_titles(s))
    time.sleep(1.5)  # three rounds of the check: none warns again within the same wait
    assert inbox_titles(officer).count(soon) == 1 and inbox_titles(officer).count(late) == 1


def test_a_roster_import_with_bad_rows_reaches_the_unit_admin_who_uploaded_it(palace, admin, sms):
    officer = new_staff(palace.url, admin, ["welfare_officer"], name="经办人")
    unit = admin.post("/v1/units", {"name": f"港务局工会{uuid.uuid4().hex[:4]}"}).json()
    uploader = new_staff(palace.url, admin, ["unit_admin"], unit_id=unit["id"], name="单位管理员")
    bystander = new_staff(palace.url, admin, ["unit_admin"], unit_id=unit["id"], name="另一位管理员")
    reachable(uploader)
    plan = officer.post("/v1/mutual-aid/plans", {**PLAN, "name": f"互助计划{uuid.uuid4().hex[:4]}"}).json()
    rows = roster(3)
    rows[2] = (rows[2][0], rows[2][1], "12345")  # a phone no one has

    job = upload(uploader, plan, csv_of(rows).encode())
    assert (job["enrolled_rows"], job["bad_rows"]) == (2, 1), job
    title = f"名单导入有误：{plan['name']}"
    assert eventually(lambda: title in inbox_titles(uploader))
    [entry] = [e for e in uploader.get("/v1/me/notifications").json() if e["title"] == title]
    assert "共 3 行，成功 2 行，1 行未导入" in entry["body"], entry["body"]
    [text] = eventually(lambda: [r for r in texts_of(sms, "SMS_PALACE_STAFF_IMPORT_ERRORS")
                                 if r[2]["PhoneNumbers"] == uploader.phone], timeout=15)
    assert text[2]["TemplateParam"] == {"plan": plan["name"], "bad": "1"}

    clean = upload(uploader, plan, csv_of(roster(2)).encode())
    assert clean["bad_rows"] == 0
    time.sleep(1)
    assert inbox_titles(uploader).count(title) == 1, "an import that took every row tells nobody"
    assert title not in inbox_titles(bystander) and title not in inbox_titles(officer)


# broadcasts


def test_a_broadcast_to_a_course_reaches_each_student_once_after_a_preview_of_the_count(palace, admin, sms):
    course = admin.post("/v1/courses", {"title": f"合唱团{uuid.uuid4().hex[:4]}", "capacity": 10,
                                        "schedule": {"dates": [TUESDAY]}})
    assert course.status_code == 201, course.text
    students = [register(palace.url) for _ in range(3)]
    for student in students:
        assert eventually(lambda s=student: s.get("/v1/me/contacts").json()["phone"] == s.phone)
        assert student.post(f"/v1/courses/{course.json()['id']}/enrolments").status_code == 201
    outsider = register(palace.url)
    message = {"audience": "course", "course_id": course.json()["id"], "title": "排练地点变更",
               "body": "本周二的排练改在二号厅，请提前十分钟到场。"}

    preview = admin.post("/v1/broadcasts/preview", message)
    assert preview.status_code == 200, preview.text
    assert preview.json()["recipients"] == 3 and preview.json()["message"]["body"] == message["body"]
    sent = admin.post("/v1/broadcasts", message, headers={"Idempotency-Key": "broadcast-choir-1"})
    again = admin.post("/v1/broadcasts", message, headers={"Idempotency-Key": "broadcast-choir-1"})
    assert sent.status_code == 201 and again.json()["id"] == sent.json()["id"], sent.text
    assert sent.headers["Location"].endswith(f"/v1/broadcasts/{sent.json()['id']}")

    done = eventually(lambda: (b := admin.get(f"/v1/broadcasts/{sent.json()['id']}").json())["state"] == "done" and b)
    assert (done["recipients"], done["told"]) == (3, 3)
    for student in students:
        titles = eventually(lambda s=student: [t for t in inbox_titles(s) if t == "排练地点变更"])
        [text] = eventually(lambda s=student: [r for r in texts_of(sms, "SMS_PALACE_BROADCAST")
                                               if r[2]["PhoneNumbers"] == s.phone], timeout=15)
        assert len(titles) == 1 and text[2]["TemplateParam"] == {"title": "排练地点变更"}
    assert "排练地点变更" not in inbox_titles(outsider)
    finished = admin.post(f"/v1/broadcasts/{sent.json()['id']}/cancel")
    assert finished.status_code == 409 and finished.json()["type"].endswith("broadcast-finished")


def test_a_unit_admin_tells_their_own_unit_and_no_other(palace, admin, sms):
    with palace.db("gateway") as conn:
        units = [conn.execute("INSERT INTO units (name) VALUES (%s) RETURNING id", (f"机务段{uuid.uuid4().hex[:4]}",))
                 .fetchone()["id"] for _ in range(2)]
    unit_admin = new_staff(palace.url, admin, ["unit_admin"], unit_id=str(units[0]))
    members = [register(palace.url) for _ in range(2)]
    for member in members:
        assert admin.post(f"/v1/units/{units[0]}/members", {"phone": member.phone}).status_code == 200
    told = unit_admin.post("/v1/broadcasts", {"audience": "unit", "unit_id": str(units[0]), "title": "工会活动",
                                              "body": "周六上午在文化宫举办职工健步走。"})
    assert told.status_code == 201 and told.json()["recipients"] == 2, told.text
    for member in members:
        assert eventually(lambda m=member: "工会活动" in inbox_titles(m))
    other = unit_admin.post("/v1/broadcasts", {"audience": "unit", "unit_id": str(units[1]), "title": "x", "body": "y"})
    assert other.status_code == 403


@pytest.mark.parametrize("who, message, status, field", [
    ("member", {"audience": "all", "title": "通知", "body": "内容"}, 403, None),
    ("teacher", {"audience": "all", "title": "通知", "body": "内容"}, 403, None),
    ("admin", {"audience": "all", "title": "通知", "body": "   "}, 422, "body"),
    ("admin", {"audience": "all", "title": "通知"}, 422, "body"),
    ("admin", {"audience": "unit", "unit_id": str(uuid.uuid4()), "title": "通知", "body": "内容"}, 422, "unit_id"),
    ("admin", {"audience": "course", "title": "通知", "body": "内容"}, 422, "course_id"),
    ("admin", {"audience": "site", "site_id": str(uuid.uuid4()), "title": "通知", "body": "内容"}, 422, "site_id"),
    ("admin", {"audience": "street", "title": "通知", "body": "内容"}, 422, "audience"),
])
def test_a_broadcast_that_may_not_or_cannot_go_is_refused_and_sends_nothing(palace, admin, who, message, status, field):
    sender = {"admin": lambda: admin, "member": lambda: register(palace.url),
              "teacher": lambda: new_staff(palace.url, admin, ["teacher"])}[who]()
    for path in ("/v1/broadcasts/preview", "/v1/broadcasts"):
        answer = sender.post(path, message)
        assert answer.status_code == status, answer.text
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        if field:
            assert field in answer.json()["errors"], answer.json()
    with palace.db("notify") as conn:
        assert conn.execute("SELECT count(*) AS n FROM broadcasts WHERE title = '通知'").fetchone()["n"] == 0


# followers

def test_members_who_follow_a_category_or_a_site_hear_of_a_new_class_there_once(palace, admin, sms):
    site = admin.post("/v1/sites", {"name": f"职工之家{uuid.uuid4().hex[:4]}", "kind": "shared"}).json()["id"]
    category = f"书法{uuid.uuid4().hex[:4]}"
    by_category, by_site, by_both, nobody = (register(palace.url) for _ in range(4))
    for member, paths in ((by_category, [f"categories/{category}"]), (by_site, [f"sites/{site}"]),
                          (by_both, [f"categories/{category}", f"sites/{site}"])):
        for path in paths:
            assert member.put(f"/v1/me/follows/{path}").status_code == 200
    assert by_both.get("/v1/me/follows").json() == {"categories": [category], "site_ids": [site]}
    assert_problem(by_site.put("/v1/me/follows/sites/not-a-site"), 422, "validation-failed", "site_id")
    # a site venues does not know is refused
    assert_problem(by_site.put(f"/v1/me/follows/sites/{uuid.uuid4()}"), 422, "validation-failed", "site_id")
    assert_problem(by_site.put("/v1/me/follows/categories/%00"), 422, "validation-failed", "category")

    title = f"楷书入门{uuid.uuid4().hex[:4]}"
    course = admin.post("/v1/courses", {"title": title, "capacity": 20, "category": category, "site_id": site})
    assert course.status_code == 201, course.text
    want = f"新课程：{title}"
    for member in (by_category, by_site, by_both):
        assert eventually(lambda m=member: want in inbox_titles(m)), "each follower is told"
    [entry] = [e for e in by_both.get("/v1/me/notifications").json() if e["title"] == want]
    assert entry["body"] == f"您关注的内容有新课程开放报名：《{title}》（{category}），欢迎到课程目录查看。"
    eventually(lambda: [r for r in texts_of(sms, "SMS_PALACE_NEW_COURSE") if r[2]["PhoneNumbers"] == by_site.phone],
               timeout=15)
    time.sleep(1)
    assert inbox_titles(by_both).count(want) == 1, "following both, told once"
    assert len([r for r in texts_of(sms, "SMS_PALACE_NEW_COURSE") if r[2]["PhoneNumbers"] == by_both.phone]) == 1
    assert want not in inbox_titles(nobody)

    # unfollowed: the next class there is not announced to them
    assert by_category.delete(f"/v1/me/follows/categories/{category}").json() == {"categories": [], "site_ids": []}
    later = f"行书提高{uuid.uuid4().hex[:4]}"
    assert admin.post("/v1/courses", {"title": later, "capacity": 20, "category": category}).status_code == 201
    assert eventually(lambda: f"新课程：{later}" in inbox_titles(by_both))
    time.sleep(0.5)
    assert f"新课程：{later}" not in inbox_titles(by_category) and f"新课程：{later}" not in inbox_titles(by_site)

    # a broadcast to the site's followers: previewed, then each of them once
    message = {"audience": "site", "site_id": site, "title": "场馆开放时间调整", "body": "本周六起开放至晚上九点。"}
    preview = admin.post("/v1/broadcasts/preview", message)
    assert preview.status_code == 200 and preview.json()["recipients"] == 2, preview.text
    sent = admin.post("/v1/broadcasts", message, headers={"Idempotency-Key": f"site-{site}"})
    assert sent.status_code == 201 and sent.json()["site_id"] == site, sent.text
    for member in (by_site, by_both):
        assert eventually(lambda m=member: "场馆开放时间调整" in inbox_titles(m))
    assert "场馆开放时间调整" not in inbox_titles(by_category)
    assert by_site.post("/v1/broadcasts", message).status_code == 403, "a member speaks to no site"
    assert_problem(admin.post("/v1/broadcasts", {**message, "site_id": None}), 422, "validation-failed", "site_id")
