"""Enrolment's calls to venues: venues' errors made enrolment's (a room clash names its dates); the
room bookings a change of a course makes, undone when the change does not commit, the bookings it
gave up released once it does, venues failing meanwhile logged, never raised."""
import logging
from datetime import datetime, timezone

import pytest
from nameko.exceptions import RpcTimeout, UnknownService

from services.common.errors import Conflict, Invalid, NotFound
from services.enrolment.workflows import RoomBookings, check_room, reserve


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


class Rooms:
    """A venues that answers with `answer`, or raises it."""
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def _answer(self, *args):
        self.calls.append(args)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    get_room = reserve_series = _answer


SESSIONS = [{"starts_at": datetime(2030, 3, 4, 11, tzinfo=timezone.utc),
             "ends_at": datetime(2030, 3, 4, 13, tzinfo=timezone.utc)}]


def test_a_room_clash_in_venues_is_a_room_clash_naming_its_dates():
    venues = Rooms(Conflict("1 of 1 occurrences cannot be booked", "booking-conflict",
                            {"occurrences": ["2030-03-04T11:00:00+00:00"]}))
    with pytest.raises(Conflict) as clash:
        reserve(venues, {"service": "enrolment", "reference": "c"}, "room", SESSIONS, "Choir")
    assert clash.value.problem == "room-clash" and clash.value.errors == {"occurrences": ["2030-03-04T11:00:00+00:00"]}
    assert "2030-03-04T11:00:00+00:00" in clash.value.detail


def test_venues_is_asked_for_every_session_at_once_and_told_what_it_replaces():
    venues = Rooms({"bookings": []})
    reserve(venues, "new", "room", SESSIONS, "Choir", replaces=["old"])
    reserve(venues, "newer", "room", SESSIONS, "Choir")
    assert venues.calls == [("new", "room", [{"starts_at": "2030-03-04T11:00:00+00:00",
                                              "ends_at": "2030-03-04T13:00:00+00:00"}], "Choir", ["old"]),
                            ("newer", "room", [{"starts_at": "2030-03-04T11:00:00+00:00",
                                                "ends_at": "2030-03-04T13:00:00+00:00"}], "Choir")]


@pytest.mark.parametrize("trouble, problem", [(NotFound("no room", "not-found"), "validation-failed"),
                                              (RpcTimeout("5"), "venues-unavailable"),
                                              (UnknownService("venues"), "venues-unavailable")])
def test_an_unknown_room_is_bad_input_and_a_silent_venues_a_conflict_to_try_again(trouble, problem):
    with pytest.raises((Invalid, Conflict)) as checked:
        check_room(Rooms(trouble), "room")
    with pytest.raises((Invalid, Conflict)) as reserved:
        reserve(Rooms(trouble), "h", "room", SESSIONS, "Choir")
    assert checked.value.problem == reserved.value.problem == problem


def test_no_room_asks_venues_nothing():
    venues = Rooms(AssertionError("asked"))
    assert check_room(venues, None) is None and venues.calls == []
