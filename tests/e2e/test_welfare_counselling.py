"""Counselling over HTTP: the sessions an officer books for a member reach the member (when and where,
in Chinese) and are in their timetable, theirs alone."""
import uuid
from datetime import timedelta

from tests.e2e.conftest import NO_LIMITS, new_member, new_staff
from tests.e2e.test_bad_input import assert_problem
from tests.e2e.test_timetable import at, week
from tests.harness import eventually


def test_sessions_an_officer_books_are_in_the_members_inbox_and_timetable(palace, admin):
    officer = new_staff(palace.url, admin, ["welfare_officer"], name="Officer Xu")
    site = admin.post("/v1/sites", {"name": f"Heart station {uuid.uuid4().hex[:6]}", "kind": "palace",
                                    "address": "东城区工人文化宫北楼三层"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Quiet room 1", **NO_LIMITS, "capacity": 2,
                                    "bookable_by": ["admin"]}).json()
    member, other = new_member(palace.url, "Zhou Min"), new_member(palace.url)
    case = member.post("/v1/welfare/applications", {"programme": "counselling", "reason": "sleepless since the layoff"})
    assert case.status_code == 201, case.text
    monday, sunday = week(23)
    starts, ends = at(monday + timedelta(days=3), 15, hours=1)  # Thursday afternoon
    booked = officer.post(f"/v1/welfare/applications/{case.json()['id']}/appointments",
                          {"room_id": room["id"], "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
                           "weeks": 2})
    assert booked.status_code == 201 and len(booked.json()) == 2, booked.text

    items = member.get("/v1/me/timetable", params={"from": monday.isoformat(), "to": sunday.isoformat()}).json()
    assert [(i["kind"], i["starts_at"], i["room_name"], i["site_name"], i["site_address"]) for i in items] == [
        ("counselling", starts.isoformat(), "Quiet room 1", site["name"], "东城区工人文化宫北楼三层")]
    assert other.get("/v1/me/timetable", params={"from": monday.isoformat(), "to": sunday.isoformat()}).json() == []

    def told():
        return [n for n in member.get("/v1/me/notifications").json() if n["event_type"] == "welfare.counselling_booked"]

    [message] = eventually(told, timeout=15)
    assert message["title"] == "心理咨询已预约"
    assert f"{starts.month}月{starts.day}日 周四 15:00" in message["body"], message
    assert f"{site['name']} Quiet room 1" in message["body"] and "东城区工人文化宫北楼三层" in message["body"]
    assert "共 2 次" in message["body"]

    # the welfare office's week: who, when, where and whether it stands; members are refused
    listed = officer.get("/v1/welfare/counselling", params={"from": monday.isoformat(), "to": sunday.isoformat()})
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1", listed.text
    [seen] = listed.json()
    assert (seen["member_name"], seen["starts_at"], seen["room_name"], seen["site_name"], seen["state"]) == (
        "Zhou Min", starts.isoformat(), "Quiet room 1", site["name"], "booked")
    assert "reason" not in seen and seen["reference"] == case.json()["reference"]
    assert member.get("/v1/welfare/counselling").status_code == 403
    assert_problem(officer.get("/v1/welfare/counselling", params={"from": "next week"}), 422, "validation-failed", "from")
