"""Timestamps leave every part of palace in home time, with the +08:00 offset (each database session
runs in Asia/Shanghai), not UTC: the gateway's own, enrolment's, venues', welfare's and notify's."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import NO_LIMITS, new_member
from tests.harness import eventually

SH = ZoneInfo("Asia/Shanghai")


def home(text):
    assert text.endswith("+08:00"), text
    return datetime.fromisoformat(text)


def test_every_service_tells_its_times_with_the_home_offset(palace, admin):
    member = new_member(palace.url)
    home(member.get("/v1/me").json()["created_at"])  # gateway

    site = admin.post("/v1/sites", {"name": f"Workers' Home {uuid.uuid4().hex[:6]}", "kind": "shared"}).json()
    room = admin.post("/v1/rooms", {"site_id": site["id"], "name": "Studio 9", **NO_LIMITS, "capacity": 30}).json()
    start = datetime.now(SH).replace(microsecond=0) + timedelta(days=40)
    course = admin.post("/v1/courses", {"title": "Guzheng 古筝", "capacity": 5, "room_id": room["id"], "schedule": {
        "dates": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}]}})
    assert course.status_code == 201, course.text
    [session] = course.json()["sessions"]
    assert home(session["starts_at"]) == start  # enrolment: the same moment, told in home time
    seat = member.post(f"/v1/courses/{course.json()['id']}/enrolments").json()
    home(seat["created_at"])

    later = start + timedelta(days=1)
    booking = member.post("/v1/bookings", {"room_id": room["id"], "title": "Rehearsal", "starts_at": later.isoformat(),
                                           "ends_at": (later + timedelta(hours=1)).isoformat()})
    assert booking.status_code == 201, booking.text
    [mine] = [b for b in member.get("/v1/bookings").json() if b["title"] == "Rehearsal"]
    assert home(mine["starts_at"]) == later  # venues

    case = member.post("/v1/welfare/applications", {"programme": "counselling", "reason": "睡不好"})
    assert case.status_code == 201, case.text
    home(case.json()["created_at"])  # welfare

    told = eventually(lambda: member.get("/v1/me/notifications").json())  # notify: the seat confirmed
    home(told[0]["created_at"])
