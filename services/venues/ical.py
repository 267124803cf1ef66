"""iCalendar feeds of bookings (built with the icalendar library; no I/O)."""
from datetime import datetime, timezone

from icalendar import Calendar, Event

from services.common.zone import HOME_ZONE_NAME
from services.venues import domain

STATUS = {domain.PENDING: "TENTATIVE", domain.CONFIRMED: "CONFIRMED", domain.CHECKED_IN: "CONFIRMED"}
# holders whose booking titles are public: a course's booking is named as the catalogue names it.
# Anyone else's (a member's, a welfare case's counselling, a holder added later) shows as booked.
PUBLIC_TITLES = frozenset({"enrolment"})
BOOKED = "Booked"


def feed(name, bookings, now=None, public=False, classes=(), rooms=None):
    """A calendar named `name` with one VEVENT per booking and one per class session (`classes`, with
    ISO times; `rooms` by id for their places); times in UTC, stable UIDs. A public feed (a room's)
    shows only "Booked" for a private holder's booking (a member's, named by its club if a club's;
    a welfare case's), and a course's title as the catalogue shows it."""
    cal = Calendar()
    cal.add("prodid", "-//Workers' Cultural Palace//venues//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", HOME_ZONE_NAME)
    stamp = now or datetime.now(timezone.utc)
    for b in bookings:
        event = Event()
        event.add("uid", f"{b['id']}@venues.palace")
        event.add("dtstamp", stamp)
        event.add("dtstart", b["starts_at"].astimezone(timezone.utc))
        event.add("dtend", b["ends_at"].astimezone(timezone.utc))
        event.add("summary", _public_summary(b) if public else b["title"])
        event.add("location", f"{b['room_name']}, {b['site_name']}")
        event.add("status", STATUS.get(b["status"], "CONFIRMED"))
        cal.add_component(event)
    for c in classes:
        cal.add_component(_class_event(c, (rooms or {}).get(c.get("room_id")), stamp))
    return cal.to_ical().decode("utf-8")


def _public_summary(booking):
    if booking.get("holder_service") in PUBLIC_TITLES:
        return booking["title"]
    if booking.get("holder_service") == "members" and booking.get("club"):
        return f"{BOOKED}: {booking['club']}"
    return BOOKED


def _class_event(session, room, stamp):
    event = Event()
    event.add("uid", f"{session['id']}@enrolment.palace")
    event.add("dtstamp", stamp)
    event.add("dtstart", datetime.fromisoformat(session["starts_at"]).astimezone(timezone.utc))
    event.add("dtend", datetime.fromisoformat(session["ends_at"]).astimezone(timezone.utc))
    event.add("summary", session["title"])
    if room:
        event.add("location", f"{room['name']}, {room['site_name']}")
    event.add("status", "CONFIRMED")
    return event
