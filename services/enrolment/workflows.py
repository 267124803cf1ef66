"""Enrolment's use cases, on their way out of the nameko class (STYLE.md, "use cases out of the
nameko classes"). First here: the room bookings a change of a course makes in venues, undone when
the change does not commit, in one place instead of an out-list and an `except` in each entrypoint."""
import logging

log = logging.getLogger(__name__)


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
