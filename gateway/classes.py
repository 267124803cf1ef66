"""A member's enrolments, each with its course told from the gateway's catalog read model (title,
site, room, the next session and one open for check-in now), so the member app needs no call per
course. Pure: the route gathers the rows, the rooms and the sites."""
from datetime import datetime

from gateway.timetable import home
from services.enrolment.domain import attendance_problem


def _session(s):
    return {"id": s["id"], "starts_at": home(s["starts_at"]), "ends_at": home(s["ends_at"]), "state": s.get("state"),
            "room_id": s.get("room_id")}


def _live(sessions):
    return sorted((s for s in sessions or () if s.get("state") != "cancelled"), key=lambda s: s["starts_at"])


def next_session(sessions, now):
    """The first session not cancelled that has not ended (under way counts), or None."""
    return next((_session(s) for s in _live(sessions) if datetime.fromisoformat(s["ends_at"]) > now), None)


def checkin_session(sessions, now):
    """The session a member may check in to now (enrolment's rule), the latest to start, or None."""
    open_ = [s for s in _live(sessions) if attendance_problem(datetime.fromisoformat(s["starts_at"]), now,
                                                              "check_in") is None]
    return _session(open_[-1]) if open_ else None


def course(row, rooms, sites, now):
    """What My classes shows of a course: `row` from Catalog.summaries; `rooms` and `sites` by id."""
    room = rooms.get(row["room_id"]) or {}
    site_name = room.get("site_name") or (sites.get(row["site_id"]) or {}).get("name")
    return {"title": row["title"], "site_id": row["site_id"], "site_name": site_name, "room_id": row["room_id"],
            "room_name": room.get("name"), "state": row["state"],
            "next_session": next_session(row["sessions"], now),
            "checkin_session": checkin_session(row["sessions"], now)}


def told(enrolments, rows, rooms, sites, now):
    """Each enrolment with `course`: None for a course the read model does not know (yet)."""
    return [{**e, "course": course(rows[e["course_id"]], rooms, sites, now) if e["course_id"] in rows else None}
            for e in enrolments]
