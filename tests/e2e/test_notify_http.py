"""Notifications, preferences and contacts over HTTP, as a member and as an admin."""
import uuid

import pytest

from tests.e2e.conftest import new_member
from tests.e2e.test_bad_input import assert_problem
from tests.harness import eventually


@pytest.fixture(scope="module", autouse=True)
def quiet_nights(stack):
    """The default quiet hours a deployment has (the other test stacks have none, so that what
    they expect does not depend on the hour they run)."""
    stack.env["PALACE_NOTIFY_QUIET_HOURS"] = "22:00-08:00"


def test_a_member_sets_contacts_and_preferences_and_bad_ones_are_refused_by_field(palace):
    member = new_member(palace.url)
    signed_up_with = member.get("/v1/me").json()["phone"]
    assert eventually(lambda: member.get("/v1/me/contacts").json() == {
        "phone": signed_up_with, "email": None, "wechat_openid": None}), "registration gave notify the phone"
    answer = member.put("/v1/me/contacts", {"phone": "13900001111", "email": "wang@example.org"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"phone": "13900001111", "email": "wang@example.org", "wechat_openid": None}
    assert member.get("/v1/me/contacts").json()["email"] == "wang@example.org"
    assert_problem(member.put("/v1/me/contacts", {"email": "not-an-address"}), 422, "validation-failed", "email")
    assert_problem(member.put("/v1/me/contacts", {"phone": "call me"}), 422, "validation-failed", "phone")
    odd = member.put("/v1/me/contacts", {"email": '"wang@home"@example.org'})  # odd, but an address
    assert odd.status_code == 200, odd.text

    prefs = member.get("/v1/me/notification-preferences").json()
    assert prefs["quiet_hours"] == {"start": "22:00", "end": "08:00"} and prefs["timezone"] == "Asia/Shanghai"
    assert prefs["language"] == "zh-CN", "Chinese unless the member chooses otherwise"
    changed = member.put("/v1/me/notification-preferences",
                         {"language": "en", "categories": {"rooms": ["sms", "email"]}, "daily_cap": 3})
    assert changed.status_code == 200, changed.text
    assert changed.json()["categories"]["rooms"] == ["sms", "email"]
    assert changed.json()["categories"]["classes"] == ["wechat", "sms"]
    assert member.get("/v1/me/notification-preferences").json()["daily_cap"] == 3
    for body, field in [({"language": "fr"}, "language"), ({"categories": {"rooms": ["pigeon"]}}, "categories"),
                        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours"),
                        ({"timezone": "Mars/Olympus"}, "timezone"), ({"daily_cap": -1}, "daily_cap"),
                        ({"colour": "red"}, "colour")]:
        assert_problem(member.put("/v1/me/notification-preferences", body), 422, "validation-failed", field)


def test_saving_the_whole_form_stores_only_what_the_member_changed(palace):
    """The member app sends every field: what equals a default is not stored as a choice, so a
    member who never chose a language keeps getting the default one (issue 20: English stayed with
    everyone who saved any setting while English was the default)."""
    member = new_member(palace.url)
    form = member.get("/v1/me/notification-preferences").json()
    saved = member.put("/v1/me/notification-preferences", {**form, "daily_cap": 4})
    assert saved.status_code == 200 and saved.json() == {**form, "daily_cap": 4}, saved.text
    with palace.db("notify") as conn:
        row = conn.execute("SELECT settings FROM preferences WHERE member_id = %s", (member.id,)).fetchone()
    assert row["settings"] == {"daily_cap": 4}
    english = member.put("/v1/me/notification-preferences", {**form, "language": "en", "daily_cap": 4})
    assert english.json()["language"] == "en"
    assert member.get("/v1/me/notification-preferences").json() == {**form, "language": "en", "daily_cap": 4}


def test_a_member_reads_their_notifications_filtered_and_no_one_else_can(palace, admin):
    course_id = admin.post("/v1/courses", {"title": "Guzheng 古筝", "capacity": 5}).json()["id"]
    member, other = new_member(palace.url), new_member(palace.url)
    member.put("/v1/me/notification-preferences", {"language": "zh-CN"})
    assert member.post(f"/v1/courses/{course_id}/enrolments").status_code == 201
    [entry] = eventually(lambda: member.get("/v1/me/notifications").json())
    assert entry["title"] == "报名成功：Guzheng 古筝" and entry["read_at"] is None
    assert member.get("/v1/me/notifications?read=true").json() == []
    assert other.post(f"/v1/me/notifications/{entry['id']}/read").status_code == 404
    read = member.post(f"/v1/me/notifications/{entry['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert member.get("/v1/me/notifications?unread=true").json() == []
    assert [e["id"] for e in member.get("/v1/me/notifications?read=true").json()] == [entry["id"]]
    assert member.get("/v1/me/notifications?limit=0").status_code == 400


def test_ops_see_failed_deliveries_and_preview_templates_and_members_may_not(palace, admin):
    member = new_member(palace.url)
    assert member.get("/v1/notify/failed-deliveries").status_code == 403
    assert admin.get("/v1/notify/failed-deliveries").status_code == 200
    assert_problem(admin.post(f"/v1/notify/deliveries/{uuid.uuid4()}/replay"), 404, "delivery-not-found")
    preview = admin.post("/v1/notify/preview", {"event_type": "welfare.payout_made", "language": "zh-CN",
                                                "payload": {"amount": "300", "reference": "PAY-9"}})
    assert preview.status_code == 200, preview.text
    assert preview.json()["title"] == "款项已发放：¥300.00"
    assert preview.json()["sms"] == {"template_id": "SMS_PALACE_PAYOUT",
                                     "params": {"amount": "¥300.00", "reference": "PAY-9"}}
    assert_problem(admin.post("/v1/notify/preview", {"event_type": "x.y"}), 422, "validation-failed", "event_type")


@pytest.mark.parametrize("path", ["/v1/me/notification-preferences", "/v1/me/contacts",
                                  "/v1/notify/failed-deliveries"])
def test_the_routes_are_documented(palace, path):
    from tests.e2e.conftest import Client
    assert path in Client(palace.url).get("/openapi.json").json()["paths"]
