import pytest

from services.notify import domain

PAYLOAD = {"course_title": "Paper cutting", "position": 3}


def test_a_confirmed_seat_names_the_course():
    message = domain.enrolment_message("enrolment.enrolment_confirmed", PAYLOAD)
    assert "Paper cutting" in message.title and "confirmed" in message.body


def test_a_waitlisted_member_is_told_the_position():
    message = domain.enrolment_message("enrolment.enrolment_waitlisted", PAYLOAD)
    assert "number 3" in message.body


def test_an_event_without_a_message_is_refused():
    with pytest.raises(ValueError):
        domain.enrolment_message("enrolment.something_else", PAYLOAD)
