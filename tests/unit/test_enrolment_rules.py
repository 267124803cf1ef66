from datetime import datetime, timedelta, timezone

import pytest

from services.enrolment import domain

NOW = datetime(2027, 3, 1, 19, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("capacity, confirmed, expected", [
    (30, 0, domain.CONFIRMED),
    (30, 29, domain.CONFIRMED),
    (30, 30, domain.WAITLISTED),
    (1, 1, domain.WAITLISTED),
])
def test_a_free_seat_is_confirmed_and_a_full_class_waitlists(capacity, confirmed, expected):
    assert domain.allocate(domain.Seats(capacity, confirmed)) == expected


def test_seats_left_never_goes_negative():
    assert domain.Seats(10, 12).left == 0


def test_enrolment_is_refused_before_the_class_opens():
    problem = domain.enrolment_window_problem(NOW, NOW + timedelta(hours=1), None)
    assert problem and "opens" in problem


def test_enrolment_is_refused_once_the_class_has_closed():
    problem = domain.enrolment_window_problem(NOW, NOW - timedelta(days=7), NOW - timedelta(seconds=1))
    assert problem and "closed" in problem


def test_enrolment_is_open_inside_the_window():
    assert domain.enrolment_window_problem(NOW, NOW - timedelta(days=1), NOW + timedelta(days=1)) is None
    assert domain.enrolment_window_problem(NOW, NOW, None) is None
