"""What a member is told about an event, free of I/O."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def enrolment_message(event_type, payload) -> Message:
    course = payload["course_title"]
    if event_type == "enrolment.enrolment_confirmed":
        return Message(f"Seat confirmed: {course}", f"Your seat in {course} is confirmed. See you in class.")
    if event_type == "enrolment.enrolment_waitlisted":
        return Message(
            f"On the waitlist: {course}",
            f"{course} is full. You are number {payload['position']} on the waitlist; "
            "we will tell you as soon as a seat frees up.",
        )
    raise ValueError(f"no message for {event_type}")
