"""Enrolment's use cases, on their way out of the nameko class (STYLE.md, "use cases out of the
nameko classes"), as functions of what they need. First here: enrolment's calls to venues with
venues' errors made enrolment's, and the room bookings a change of a course makes, undone when the
change does not commit (one context manager instead of an out-list and an `except` per entrypoint)."""
import logging

from nameko.exceptions import MethodNotFound, RpcTimeout, UnknownService

from services.common.errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)
VENUES_DOWN = (UnknownService, RpcTimeout, MethodNotFound)  # not running, too slow, or not that version yet


def iso(moment):
    return moment.isoformat() if moment is not None else None


def _venues_down():
    return Conflict("the venues service is not answering; try again shortly", "venues-unavailable")


def _no_room():
    return Invalid("the room does not exist", errors={"room_id": ["no such room"]})


def check_room(venues, room_id):
    """The venues room a course names (None for none), or the course's own error: an unknown room
    is bad input, a venues that does not answer a conflict to try again."""
    if room_id is None:
        return None
    try:
        return venues.get_room(str(room_id))
    except NotFound:
        raise _no_room() from None
    except VENUES_DOWN:
        raise _venues_down() from None


def reserve(venues, holder, room_id, sessions, title, replaces=None):
    """The room for every session, all or nothing, in one call to venues; `replaces` (holders)
    are released in the same venues transaction, so their times may be taken again. A clash is a
    room-clash naming its dates."""
    occurrences = [{"starts_at": iso(s["starts_at"]), "ends_at": iso(s["ends_at"])} for s in sessions]
    try:
        if replaces:
            return venues.reserve_series(holder, str(room_id), occurrences, title, replaces)
        return venues.reserve_series(holder, str(room_id), occurrences, title)
    except Conflict as exc:
        dates = (exc.errors or {}).get("occurrences") or []
        raise Conflict(f"the room is taken on {', '.join(map(str, dates)) or 'some dates'}: {exc.detail}",
                       "room-clash", {"occurrences": dates}) from None
    except NotFound:
        raise _no_room() from None
    except VENUES_DOWN:
        raise _venues_down() from None


class RoomBookings:
    """The venues bookings one change makes, as a context manager around its transaction. If the
    change does not commit, each series it `reserved` is released and each one it `swapped` for a
    new series is booked back (`restore`); once it commits, the bookings it `given_up` are released.
    Venues failing here is logged for staff to put right by hand, never raised over the change's
    own answer or error."""

    def __init__(self, release, restore):
        self._release, self._restore = release, restore
        self.reserved, self.swapped, self.given_up = [], [], []

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            given_up, self.given_up = self.given_up, []
            self._each(self._release, given_up, "could not release the room bookings of %s")
        else:
            self.undo()
        return False  # the change's own error goes on to its caller

    def undo(self):
        """Release what was reserved and book back what was swapped, now; nothing is left to undo."""
        reserved, swapped, self.reserved, self.swapped = self.reserved, self.swapped, [], []
        self._each(self._release, reserved, "could not release the room bookings of %s")
        self._each(self._restore, swapped, "could not restore the room bookings of %s: staff must rebook them")

    @staticmethod
    def _each(action, items, failed):
        for item in items:
            try:
                action(item)
            except Exception:  # the bookings stay as they are; the log tells staff which
                log.exception(failed, item)
