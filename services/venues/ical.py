"""iCalendar feeds of bookings (built with the icalendar library; no I/O)."""
from datetime import datetime, timezone

from icalendar import Calendar, Event

from services.common.zone import HOME_ZONE_NAME
from services.venues import domain

STATUS = {domain.PENDING: "TENTATIVE", domain.CONFIRMED: "CONFIRMED", domain.CHECKED_IN: "CONFIRMED"}


def feed(name, bookings, now=None, public=False):
    """A calendar named `name` with one VEVENT per booking; times in UTC, stable UIDs. A public
    feed (a room's) names a member's booking only by its club, never by the member's own title."""
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
        private = public and b.get("holder_service") == "members"
        event.add("summary", (f"Booked: {b['club']}" if b.get("club") else "Booked") if private else b["title"])
        event.add("location", f"{b['room_name']}, {b['site_name']}")
        event.add("status", STATUS.get(b["status"], "CONFIRMED"))
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")
