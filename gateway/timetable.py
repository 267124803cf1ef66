"""A member's week in one list: class sessions, room bookings and counselling appointments, gathered
from the enrolment, venues and welfare services and told in Asia/Shanghai time."""
from datetime import date, datetime, time, timedelta

from gateway.problems import invalid
from services.common.zone import HOME_ZONE

MOST_DAYS = 62  # two months: the app shows a week, a calendar page at most a month and its edges
LIVE_BOOKINGS = ("pending", "confirmed", "checked_in")


def _day(value, name):
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid({name: ["must be a date, YYYY-MM-DD"]}) from None


def days(from_text, to_text, today):
    """The first and last day asked for; by default this Monday to Sunday (home time)."""
    monday = today - timedelta(days=today.weekday())
    first = monday if from_text is None else _day(from_text, "from")
    last = first + timedelta(days=6) if to_text is None else _day(to_text, "to")
    if last < first:
        raise invalid({"to": ["must not be before from"]})
    if (last - first).days + 1 > MOST_DAYS:
        raise invalid({"to": [f"at most {MOST_DAYS} days after from"]})
    return first, last


def bounds(first, last):
    """[start of the first day, start of the day after the last), home time, as ISO texts."""
    start = datetime.combine(first, time(), HOME_ZONE)
    end = datetime.combine(last + timedelta(days=1), time(), HOME_ZONE)
    return start.isoformat(), end.isoformat()


def home(moment):
    """An ISO time from a service, told with the +08:00 offset."""
    return datetime.fromisoformat(moment).astimezone(HOME_ZONE).isoformat()


def _item(kind, id_, title, starts_at, ends_at, room_id, rooms, **extra):
    room = rooms.get(room_id) or {}
    return {"kind": kind, "id": id_, "title": title, "starts_at": home(starts_at), "ends_at": home(ends_at),
            "room_id": room_id, "room_name": room.get("name"), "site_name": room.get("site_name"),
            "site_address": room.get("site_address"), **extra}


def merged(sessions, bookings, appointments, rooms, member_id):
    """One list sorted by start. `rooms` maps a room id to the room (name, site_name, site_address)
    where known: where to go, for a counselling appointment above all."""
    items = [_item("class", s["id"], s["title"], s["starts_at"], s["ends_at"], s["room_id"], rooms,
                   course_id=s["course_id"]) for s in sessions]
    items += [_item("booking", b["id"], b["title"], b["starts_at"], b["ends_at"], b["room_id"], rooms)
              for b in bookings if b.get("member_id") == member_id and b["status"] in LIVE_BOOKINGS]
    items += [_item("counselling", a["id"], "counselling", a["starts_at"], a["ends_at"], a["room_id"], rooms,
                    application_id=a["application_id"]) for a in appointments]
    return sorted(items, key=lambda i: (datetime.fromisoformat(i["starts_at"]), i["kind"], i["id"]))
