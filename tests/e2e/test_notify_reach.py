"""A new member hears in Chinese on their phone: registering gives notify the phone they signed up
with, and enrolling reaches the SMS provider (a local fake) once, in Chinese, with the course and
its weekday; a member whose browser prefers English reads English in the app."""
import re
import time

import pytest
import requests

from tests.e2e.conftest import _phones, sign_in
from tests.harness import eventually
from tests.integration.test_notify_delivery import Provider

TUESDAY = {"starts_at": "2027-03-02T19:00:00+08:00", "ends_at": "2027-03-02T21:00:00+08:00"}


@pytest.fixture(scope="module", autouse=True)
def sms(stack):
    """The SMS provider notify sends to, started before the palace is."""
    provider = Provider()
    stack.env.update(PALACE_NOTIFY_SMS_URL=provider.url + "/sms", PALACE_NOTIFY_POLL="0.1")
    yield provider
    provider.server.shutdown()


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
    assert status == 200 and body["template_id"] == "SMS_PALACE_ENROL_OK"
    assert body["params"] == {"course": "茶艺入门", "time": "3月2日 周二 19:00"}
    assert not re.search(r"[A-Za-z]", "".join(body["params"].values())), "nothing but Chinese"

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
    assert body["params"]["time"] == "3月2日 周二 19:00", "the provider's approved template is Chinese"

