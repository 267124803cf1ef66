"""Enrolment rules, free of I/O."""
from dataclasses import dataclass
from datetime import datetime

CONFIRMED, WAITLISTED, OFFERED, REGISTERED, CANCELLED = (
    "confirmed", "waitlisted", "offered", "registered", "cancelled")


@dataclass(frozen=True)
class Seats:
    capacity: int
    confirmed: int

    @property
    def left(self):
        return max(self.capacity - self.confirmed, 0)


def allocate(seats: Seats) -> str:
    """First come, first served: a free seat is confirmed, otherwise the member waits in line."""
    return CONFIRMED if seats.left > 0 else WAITLISTED


def enrolment_window_problem(now: datetime, opens_at: datetime, closes_at: datetime | None):
    """Why enrolment is refused at `now`, or None when the window is open."""
    if now < opens_at:
        return f"enrolment opens at {opens_at.isoformat()}"
    if closes_at is not None and now >= closes_at:
        return f"enrolment closed at {closes_at.isoformat()}"
    return None


EVENT_FOR_STATUS = {CONFIRMED: "enrolment_confirmed", WAITLISTED: "enrolment_waitlisted"}
