"""The room bookings a change of a course makes in venues: undone when the change does not commit,
the bookings it gave up released once it does, venues failing meanwhile logged, never raised."""
import logging

import pytest

from services.enrolment.workflows import RoomBookings


class Venues:
    def __init__(self, failing=()):
        self.released, self.restored, self.failing = [], [], set(failing)

    def release(self, holder):
        if holder in self.failing:
            raise TimeoutError("venues did not answer")
        self.released.append(holder)

    def restore(self, swap):
        self.restored.append(swap)


def bookings(venues):
    return RoomBookings(venues.release, venues.restore)


def test_a_change_that_commits_keeps_what_it_reserved_and_releases_what_it_gave_up():
    venues = Venues()
    with bookings(venues) as rooms:
        rooms.reserved.append("new")
        rooms.swapped.append({"holder": "new"})
        rooms.given_up.append("old")
    assert venues.released == ["old"] and venues.restored == []


def test_a_change_that_fails_releases_what_it_reserved_books_back_what_it_swapped_and_keeps_the_rest():
    venues = Venues()
    with pytest.raises(ValueError, match="refused"):
        with bookings(venues) as rooms:
            rooms.reserved.append("new")
            rooms.swapped.append({"holder": "newer"})
            rooms.given_up.append("old")
            raise ValueError("refused")
    assert venues.released == ["new"] and venues.restored == [{"holder": "newer"}]


def test_venues_failing_to_release_is_logged_for_staff_and_the_rest_still_released(caplog):
    venues = Venues(failing={"first"})
    with caplog.at_level(logging.ERROR), pytest.raises(KeyError):
        with bookings(venues) as rooms:
            rooms.reserved.extend(["first", "second"])
            raise KeyError("the change's own error")
    assert venues.released == ["second"]
    assert "could not release the room bookings of first" in caplog.text


def test_undone_by_hand_nothing_is_undone_twice():
    venues = Venues()
    with pytest.raises(RuntimeError):
        with bookings(venues) as rooms:
            rooms.reserved.append("new")
            rooms.undo()
            raise RuntimeError("after")
    assert venues.released == ["new"]
