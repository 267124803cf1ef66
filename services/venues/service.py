"""The venues service's nameko entrypoints: sites, rooms, the holiday calendar, bookings and
series, approvals, check-in and release, closures, availability, feeds and figures."""
import hashlib
import logging
import re
import secrets
import uuid
from datetime import date, datetime, time, timedelta, timezone

from nameko.timer import timer

from services.common import config, reports
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound
from services.common.fields import EARLIEST as fields_min
from services.common.fields import LATEST as fields_max
from services.common.handlers import reliable_handler
from services.common.metrics import Metrics
from services.common.outbox import Outbox
from services.common.params import listed, load, object_id, page
from services.common.retention import Retention
from services.common.roles import DESK, MANAGERS, MEMBER, STAFF
from services.common.rpc import rpc
from services.common.zone import HOME_ZONE
from services.venues import domain, events, ical, schemas, store
from services.venues.holidays import ShippedCalendar

FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SWEEP_SECONDS = float(config.env("PALACE_VENUES_SWEEP_SECONDS"))
MEMBERS = "members"
CLOSED_REASON = "the member's account was closed"
log = logging.getLogger(__name__)

_site_in, _site_out = schemas.SiteCreateSchema(), schemas.SiteSchema()
_room_in, _room_out, _room_edit = schemas.RoomCreateSchema(), schemas.RoomSchema(), schemas.RoomEditSchema()
_booking_in, _booking_out = schemas.BookingCreateSchema(), schemas.BookingSchema()
_result_out = schemas.BookingResultSchema()
_action_in, _action_out = schemas.ActionSchema(), schemas.ActionResultSchema()
_edit_in = schemas.BookingEditSchema()
_avail_in = schemas.AvailabilityQuerySchema()
_closure_in, _closure_out = schemas.ClosureCreateSchema(), schemas.ClosureSchema()
_closure_filter = schemas.ClosureFilterSchema()
_closure_edit = schemas.ClosureEditSchema()
_day_io = schemas.CalendarDaySchema()
_club_in, _club_edit, _club_out = schemas.ClubCreateSchema(), schemas.ClubEditSchema(), schemas.ClubSchema()
_reserve_in = schemas.ReserveSchema()
_booking_event, _closed_event = events.BookingEventSchema(), events.RoomClosedSchema()
_utilisation_out = schemas.UtilisationSchema()
_feed_out = schemas.CalendarFeedSchema()


def _rule_error(exc):
    return Invalid(exc.detail, "validation-failed", exc.errors)


def _filter(name, value, most=200):
    """A free-text filter from a query string, refused with a 422 when PostgreSQL cannot take it."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > most or "\x00" in value:
        raise Invalid(f"bad {name}", "validation-failed", {name: [f"must be text of at most {most} characters"]})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"bad {name}", "validation-failed", {name: ["must be valid Unicode text"]}) from None
    return value


def _share(row, open_hours):
    """A room's booked hours over the hours it stood open (none: it never opened in the period)."""
    booked = float(row["booked_hours"])
    return {**row, "booked_hours": round(booked, 2), "open_hours": round(open_hours, 2),
            "share": round(booked / open_hours, 4) if open_hours else None}


def _digest(token):
    return hashlib.sha256(token.encode()).digest()


def _when(moment):
    return domain.local(moment).strftime("%Y-%m-%d %H:%M")


def _iso(moment):
    return domain.local(moment).isoformat()


class VenuesService:
    name = "venues"

    db = Database()
    metrics = Metrics()
    outbox = Outbox()
    retention = Retention()
    caller = CallerProvider()
    calendar = ShippedCalendar()

    @rpc
    def ping(self):
        return {"service": self.name, "database": self.db.ping()}

    # who may do what

    @property
    def _manager(self):
        return self.caller.has(*MANAGERS)

    def _visible(self, booking):
        """Staff see every booking; a member their own and their club's (when they lead it)."""
        mine = {str(booking["member_id"] or ""), str(booking["club_leader_id"] or "")}
        if not self._manager and (self.caller.id or "-") not in mine:
            # a member may not learn that someone else's booking exists
            raise NotFound(f"booking {booking['id']} does not exist", "booking-not-found")

    # sites and rooms

    @rpc(expected_exceptions=EXPECTED)
    def create_site(self, data):
        self.caller.require(*MANAGERS)
        site = load(_site_in, data)
        with self.db.transaction() as conn:
            return _site_out.dump(store.create_site(conn, site))

    @rpc(expected_exceptions=EXPECTED)
    def list_sites(self, limit=50, offset=0, district=None, kind=None, with_total=False):
        with self.db.transaction() as conn:
            rows = store.list_sites(conn, *page(limit, offset), _filter("district", district), _filter("kind", kind))
        return listed(_site_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def get_site(self, site_id):
        site_id = object_id(site_id, "site")
        with self.db.transaction() as conn:
            return _site_out.dump(store.get_site(conn, site_id))

    @rpc(expected_exceptions=EXPECTED)
    def create_room(self, data):
        self.caller.require(*MANAGERS)
        room = load(_room_in, data)
        with self.db.transaction() as conn:
            return _room_out.dump(store.create_room(conn, room))

    @rpc(expected_exceptions=EXPECTED)
    def edit_room(self, room_id, data):
        """New settings (opening hours, check-in, no-show limits, quotas...) for the bookings to come."""
        self.caller.require(*MANAGERS)
        room_id = object_id(room_id, "room")
        change = load(_room_edit, data)
        with self.db.transaction() as conn:
            return _room_out.dump(store.edit_room(conn, room_id, change))

    @rpc(expected_exceptions=EXPECTED)
    def get_room(self, room_id):
        room_id = object_id(room_id, "room")
        with self.db.transaction() as conn:
            return _room_out.dump(store.get_room(conn, room_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_rooms(self, limit=50, offset=0, site_id=None, district=None, feature=None, min_capacity=None,
                   with_total=False):
        site_id = object_id(site_id, "site") if site_id else None
        district, feature = _filter("district", district), _filter("feature", feature)
        if min_capacity is not None and (not isinstance(min_capacity, int) or not 1 <= min_capacity <= 100_000):
            raise Invalid("bad min_capacity", "validation-failed", {"min_capacity": ["must be 1 to 100000"]})
        with self.db.transaction() as conn:
            rows = store.list_rooms(conn, *page(limit, offset), site_id, district, feature, min_capacity)
        return listed(_room_out.dump(rows, many=True), rows, with_total)

    # clubs

    @rpc(expected_exceptions=EXPECTED)
    def create_club(self, data):
        self.caller.require(*MANAGERS)
        club = load(_club_in, data)
        with self.db.transaction() as conn:
            return _club_out.dump(store.create_club(conn, club, self.caller.id))

    @rpc(expected_exceptions=EXPECTED)
    def edit_club(self, club_id, data):
        """A new name, leader or site; the club's bookings stay the club's."""
        self.caller.require(*MANAGERS)
        club_id = object_id(club_id, "club")
        change = load(_club_edit, data)
        with self.db.transaction() as conn:
            return _club_out.dump(store.edit_club(conn, club_id, change))

    @rpc(expected_exceptions=EXPECTED)
    def list_clubs(self, limit=50, offset=0, site_id=None, leader_id=None, with_total=False):
        site_id = object_id(site_id, "site") if site_id else None
        leader_id = object_id(leader_id, "leader") if leader_id else None
        with self.db.transaction() as conn:
            rows = store.list_clubs(conn, *page(limit, offset), site_id, leader_id)
        return listed(_club_out.dump(rows, many=True), rows, with_total)

    def _club_for(self, conn, club_id):
        """The club a booking is made for: its leader and staff may book for it, nobody else."""
        if club_id is None:
            return None
        club = store.get_club(conn, club_id, field="club_id")
        if not self._manager and str(club["leader_id"]) != self.caller.id:
            raise Forbidden(f"only the leader of {club['name']} or a venue manager may book for it",
                            "not-club-leader", {"club_id": ["you do not lead this club"]})
        return club["id"]

    # the holiday calendar

    @rpc(expected_exceptions=EXPECTED)
    def list_calendar(self, year):
        with self.db.transaction() as conn:
            return _day_io.dump(store.list_calendar(conn, int(year)), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def set_calendar_day(self, data):
        self.caller.require(*MANAGERS)
        day = load(_day_io, data)
        with self.db.transaction() as conn:
            store.set_calendar_day(conn, day)
        return _day_io.dump(day)

    @rpc(expected_exceptions=EXPECTED)
    def delete_calendar_day(self, day):
        """Take a holiday or make-up working day out of the calendar (series booked before keep their dates)."""
        self.caller.require(*MANAGERS)
        try:
            day = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
        except ValueError:
            day = None
        with self.db.transaction() as conn:
            if day is None or not store.delete_calendar_day(conn, day):
                raise NotFound("no such day in the calendar", "calendar-day-not-found")
        return {"day": day.isoformat(), "deleted": True}

    def _expand(self, conn, data):
        rec = data.get("recurrence")
        if not rec:
            return [domain.Occurrence(data["starts_at"], data["ends_at"])]
        rule = domain.Rule(every_weeks=rec["every_weeks"], weekdays=tuple(rec["weekdays"]), until=rec.get("until"),
                           count=rec.get("count"), on_holidays=rec["on_holidays"], makeup_days=rec["makeup_days"],
                           exceptions=[(e["from_"], e["to"], e["reason"]) for e in rec["exceptions"]])
        first = domain.local(data["starts_at"]).date()
        try:
            horizon = rule.until or first + timedelta(weeks=rule.every_weeks * min(rule.count or 1, 10_000) + 1)
            if horizon > first + timedelta(days=3660):
                raise Invalid("a series may span at most ten years", "validation-failed",
                              {"recurrence": {"until": ["must be within ten years of starts_at"]}})
            return domain.expand(data["starts_at"], data["ends_at"], rule,
                                 store.calendar_between(conn, first, horizon + timedelta(days=7)))
        except domain.RuleError as exc:
            raise _rule_error(exc) from None
        except OverflowError:
            raise Invalid("the series runs past the year 9999", "validation-failed",
                          {"recurrence": ["ends after the last date we can store"]}) from None

    # bookings

    @rpc(expected_exceptions=EXPECTED)
    def create_booking(self, data):
        """A booking, or a series of them, for the calling member (or the club they lead): all of it, or with
        skip_conflicts the free occurrences and a report of the others."""
        self.caller.require()
        request = load(_booking_in, data)
        holder = (MEMBERS, self.caller.id)
        with self.db.transaction() as conn:
            self._open_holder(conn, holder)
            room = store.room_for_booking(conn, request["room_id"])
            if not self._manager and not self.caller.roles.intersection(room["bookable_by"]):
                raise Forbidden(f"{room['name']} can be booked by: {', '.join(room['bookable_by'])}",
                                "room-not-bookable")
            club_id = self._club_for(conn, request.get("club_id"))
            occurrences = self._expand(conn, request)
            if not self._manager:
                self._suspended(conn, room, holder)  # the room's own limit, over the no-shows in any room
            status = domain.initial_status(room["requires_approval"], self._manager, by_service=False)
            series_id = None
            if request.get("recurrence"):
                rule = _booking_in.dump(request)["recurrence"]
                series_id = store.create_series(conn, room["id"], request["title"], holder, rule)
            booked, skipped = self._book(
                conn, room, occurrences, title=request["title"], holder=holder, member_id=self.caller.id,
                club_id=club_id, status=status, skip=request["skip_conflicts"], series_id=series_id,
                member_rules=not self._manager)
            rows = store.bookings_by_id(conn, booked)
            self._tell(conn, domain.EVENT_FOR[status], rows)
        return _result_out.dump({**rows[0], "bookings": rows, "skipped": [
            {"starts_at": o.starts_at, "ends_at": o.ends_at, "reason": r} for o, r in skipped]})

    @staticmethod
    def _open_holder(conn, holder):
        """Take the member's holder lock (a closed account's erasure takes it too, so one waits for
        the other) and refuse a closed account."""
        store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
        if store.is_closed(conn, holder[1]):
            raise NotFound("this member's account is closed", "account-closed")

    def _book(self, conn, room, occurrences, *, title, holder, member_id, club_id, status, skip, series_id,
              member_rules, labels=None):
        """Insert the occurrences; a clash fails the whole request unless `skip`. Returns the new
        booking ids and the (occurrence, reason) pairs left out."""
        skipped = [(o, o.skipped) for o in occurrences if o.skipped]
        candidates = [o for o in occurrences if not o.skipped]
        if not candidates:
            raise Invalid("the rule leaves no occurrence to book", "validation-failed",
                          {"recurrence": ["every occurrence falls on a holiday or an exception"]})
        calendar = store.calendar_between(conn, domain.local(candidates[0].starts_at).date(),
                                          domain.local(candidates[-1].starts_at).date())
        problems = {}
        for i, occ in enumerate(candidates):
            why = domain.opening_problem(room["opening_hours"], occ.starts_at, occ.ends_at, calendar)
            if why:
                problems[i] = why
        if member_rules:
            self._member_rules(conn, room, candidates, member_id, club_id, problems)
        store.lock_room(conn, room)
        for i, why in store.clashes(conn, room, candidates).items():
            problems.setdefault(i, why)
        label = (lambda i: labels[i]) if labels else (lambda i: _iso(candidates[i].starts_at))
        if problems and not skip:
            self._refuse(candidates, problems, label)
        booked = []
        for i, occ in enumerate(candidates):
            if i in problems:
                skipped.append((occ, problems[i]))
                continue
            try:
                booked.append(store.insert_booking(conn, room, occ, status, title, holder, member_id, club_id,
                                                   self.caller.id, series_id, i + 1 if series_id else None))
            except store.Taken:
                problems[i] = "taken: the room was booked by someone else a moment ago"
                if not skip:
                    self._refuse(candidates, problems, label)
                skipped.append((occ, problems[i]))
        if not booked:
            self._refuse(candidates, problems, label)
        skipped.sort(key=lambda s: s[0].starts_at)
        return booked, skipped

    @staticmethod
    def _member_rules(conn, room, candidates, member_id, club_id, problems):
        """The rules a member's (or a club's) booking keeps and a manager's need not: how far ahead and
        how late it may be made, and the room's weekly quota. Adds {index: why} to `problems`."""
        now = store.now(conn)
        for i, occ in enumerate(candidates):
            why = domain.advance_problem(now, occ.starts_at, room["max_advance_days"], room["min_notice_minutes"])
            if why:
                problems.setdefault(i, why)
        if room["max_hours_per_week"] is not None or room["max_bookings_per_week"] is not None:
            store.lock_key(conn, f"quota:{room['id']}:{club_id or member_id}")
            first, last = candidates[0].starts_at, candidates[-1].starts_at
            used = store.holder_usage(conn, room["id"], member_id, club_id, first - timedelta(days=7),
                                      last + timedelta(days=7))
            over = domain.quota_problem(used, [o for i, o in enumerate(candidates) if i not in problems],
                                        room["max_hours_per_week"], room["max_bookings_per_week"])
            for i, occ in enumerate(candidates):
                if occ.starts_at in over:
                    problems.setdefault(i, over[occ.starts_at])

    def _suspended(self, conn, room, holder):
        """Refused when the holder's no-shows (in any room) reach this room's limit."""
        days = room["no_show_days"]
        strikes = store.recent_strikes(conn, holder, store.now(conn) - timedelta(days=days))
        if strikes >= room["no_show_limit"]:
            raise Forbidden(f"{strikes} bookings were not checked in within {days} days: booking "
                            f"{room['name']} is suspended", "too-many-no-shows")

    @staticmethod
    def _refuse(candidates, problems, label):
        clashes = sorted(problems)
        named = "; ".join(f"{_when(candidates[i].starts_at)} ({problems[i]})" for i in clashes[:20])
        more = f" and {len(clashes) - 20} more" if len(clashes) > 20 else ""
        if len(candidates) == 1:
            detail = f"the room cannot be booked at {named}"
        else:
            detail = f"{len(clashes)} of {len(candidates)} occurrences cannot be booked: {named}{more}; nothing was booked"
        raise Conflict(detail, "booking-conflict", {"occurrences": [label(i) for i in clashes],
                                                    "reasons": [problems[i] for i in clashes]})

    def _tell(self, conn, event_type, rows, reason=None, cause=None, note=None):
        """One event for the bookings of one request (a series is one event listing all); an ending
        (cancelled, released) names its `cause` and the `note` its author gave, if any."""
        if not rows:
            return
        first = rows[0]
        self.outbox(conn, event_type, _booking_event.dump({
            "booking_id": first["id"], "booking_ids": [r["id"] for r in rows], "series_id": first["series_id"],
            "room_id": first["room_id"], "room_name": first["room_name"], "site_id": first["site_id"],
            "site_name": first["site_name"], "title": first["title"], "status": first["status"],
            "starts_at": _iso(first["starts_at"]), "ends_at": _iso(first["ends_at"]), "occurrences": len(rows),
            "holder_service": first["holder_service"], "holder_reference": first["holder_reference"],
            "member_id": first["member_id"], "reason": reason if reason is not None else first["reason"],
            "cause": cause, "note": note or None}))

    def _tell_each(self, conn, event_type, rows, reason=None, cause=None, note=None):
        for row in rows:
            self._tell(conn, event_type, [row], reason, cause, note)

    @rpc(expected_exceptions=EXPECTED)
    def get_booking(self, booking_id):
        booking_id = object_id(booking_id, "booking")
        with self.db.transaction() as conn:
            booking = store.get_booking(conn, booking_id)
        self._visible(booking)
        return _booking_out.dump(booking)

    @rpc(expected_exceptions=EXPECTED)
    def list_bookings(self, limit=50, offset=0, room_id=None, site_id=None, status=None, series_id=None,
                      starts_from=None, starts_before=None, with_total=False, mine=False):
        """Staff see every booking (with mine, their own only, as in their timetable); anyone else only their own."""
        filters = load(schemas.BookingFilterSchema(), {k: v for k, v in {
            "room_id": room_id, "site_id": site_id, "status": status, "series_id": series_id,
            "starts_from": starts_from, "starts_before": starts_before}.items() if v is not None})
        member = None if self._manager and not mine else (self.caller.id or "00000000-0000-0000-0000-000000000000")
        with self.db.transaction() as conn:
            rows = store.list_bookings(conn, *page(limit, offset), member_id=member, **filters)
        return listed(_booking_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def member_bookings(self, member_id, starts_from=None, limit=50, offset=0, with_total=False):
        """A member's bookings (their own and their clubs'), by start, for the front desk and managers."""
        self.caller.require(DESK, *MANAGERS)
        member_id = object_id(member_id, "member")
        filters = load(schemas.BookingFilterSchema(), {} if starts_from is None else {"starts_from": starts_from})
        with self.db.transaction() as conn:
            rows = store.list_bookings(conn, *page(limit, offset), member_id=member_id, **filters)
        return listed(_booking_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def act(self, booking_id, action, data=None):
        """approve / reject (managers), cancel (its member or a manager; scope one, following,
        series), checkin (its member or a manager, inside the check-in window)."""
        booking_id = object_id(booking_id, "booking")
        if action not in ("approve", "reject", "cancel", "checkin"):
            raise NotFound(f"no action {action}", "not-found")
        request = load(_action_in, data or {})
        with self.db.transaction() as conn:
            booking = store.get_booking(conn, booking_id, lock=True)
            self._visible(booking)
            if action in ("approve", "reject"):
                self.caller.require(*MANAGERS)
            room = store.get_room(conn, booking["room_id"])
            scope = request["scope"] if action == "cancel" else "one"
            targets = store.series_scope(conn, booking, scope)
            if booking["id"] not in [t["id"] for t in targets]:
                targets = [booking, *targets]
            try:
                new = domain.transition(action, booking["status"])
            except domain.RuleError as exc:
                raise Conflict(exc.detail, "wrong-status", exc.errors) from None
            if action == "checkin":
                why = domain.checkin_problem(store.now(conn), booking["starts_at"], booking["ends_at"],
                                             room["checkin_minutes"], room["checkin_opens_minutes"])
                if why:
                    raise Conflict(why, "check-in-window", {"checked_in_at": [why]})
            reason = request.get("reason")
            changed = []
            for target in targets:
                if target["status"] not in domain.TRANSITIONS[action][0]:
                    continue
                store.set_status(conn, target["id"], new, reason, self.caller.id, checked_in=action == "checkin")
                changed.append(target["id"])
            rows = store.bookings_by_id(conn, changed)
            if new in domain.EVENT_FOR:
                if new == domain.CANCELLED:
                    if str(booking["member_id"] or "") == (self.caller.id or "-"):
                        cause, default = domain.CANCELLED_BY_HOLDER, "cancelled by its holder"
                    else:
                        cause, default = domain.CANCELLED_BY_MANAGER, "cancelled by the venue manager"
                    self._tell_each(conn, "booking_cancelled", rows, reason or default, cause, reason)
                else:
                    self._tell(conn, domain.EVENT_FOR[new], rows, reason)
            result = store.get_booking(conn, booking_id)
        return _action_out.dump({**result, "affected": len(changed)})

    @rpc(expected_exceptions=EXPECTED)
    def edit_booking(self, booking_id, data):
        """Move or retitle one occurrence, this and the following ones, or the whole series: a new
        time shifts every occurrence in scope by the same amount; all of them move or none."""
        booking_id = object_id(booking_id, "booking")
        request = load(_edit_in, data)
        with self.db.transaction() as conn:
            booking = store.get_booking(conn, booking_id, lock=True)
            self._visible(booking)
            if booking["status"] not in domain.LIVE:
                raise Conflict(f"a {booking['status']} booking cannot be changed", "wrong-status")
            room = store.room_for_booking(conn, booking["room_id"])
            store.lock_room(conn, room)
            targets = store.series_scope(conn, booking, request["scope"])
            if "starts_at" not in request and "title" not in request:
                return _action_out.dump({**booking, "affected": 0})
            shift = request["starts_at"] - booking["starts_at"] if "starts_at" in request else timedelta(0)
            length = (request["ends_at"] - request["starts_at"]) if "starts_at" in request else None
            try:
                moved = [domain.Occurrence(t["starts_at"] + shift,
                                           t["starts_at"] + shift + (length or (t["ends_at"] - t["starts_at"])))
                         for t in targets]
            except OverflowError:
                raise Invalid("the move runs past the year 9999", "validation-failed",
                              {"starts_at": ["moves an occurrence past the last date we can store"]}) from None
            if any(not (fields_min <= o.starts_at and o.ends_at <= fields_max) for o in moved):
                raise Invalid("the move leaves the years we can store", "validation-failed",
                              {"starts_at": ["moves an occurrence outside 1970 to 9999"]})
            # a moved booking is a new request for the new time: every rule a new booking keeps is
            # checked again (issue 18), and a room that needs approval holds it pending again
            member_rules = bool(shift or length) and not self._manager and booking["holder_service"] == MEMBERS
            status_after = {t["id"]: t["status"] for t in targets}
            if shift or length:
                if member_rules:
                    self._suspended(conn, room, (MEMBERS, booking["holder_reference"]))
                calendar = store.calendar_between(conn, domain.local(moved[0].starts_at).date(),
                                                  domain.local(moved[-1].starts_at).date())
                problems = {}
                for i, occ in enumerate(moved):
                    why = domain.opening_problem(room["opening_hours"], occ.starts_at, occ.ends_at, calendar)
                    if why:
                        problems[i] = why
                # the bookings being moved do not clash with themselves, nor count against their own
                # quota: free them first
                for t in targets:
                    store.set_status(conn, t["id"], domain.CANCELLED)
                if member_rules:
                    self._member_rules(conn, room, moved, booking["member_id"], booking["club_id"], problems)
                for i, why in store.clashes(conn, room, moved).items():
                    problems.setdefault(i, why)
                if problems:
                    self._refuse(moved, problems, lambda i: _iso(moved[i].starts_at))
                if member_rules and room["requires_approval"]:
                    status_after = {t["id"]: domain.PENDING for t in targets}
                for t in targets:
                    store.set_status(conn, t["id"], status_after[t["id"]])
            for t, occ in zip(targets, moved):
                try:
                    store.move_booking(conn, t, room, occ.starts_at, occ.ends_at, request.get("title", t["title"]))
                except store.Taken:
                    raise Conflict(f"the room is taken at {_when(occ.starts_at)}", "booking-conflict",
                                   {"occurrences": [_iso(occ.starts_at)]}) from None
            rows = store.bookings_by_id(conn, [t["id"] for t in targets])
            pending = status_after[booking["id"]] == domain.PENDING
            self._tell(conn, "booking_pending" if pending else "booking_confirmed", rows, "changed")
            result = store.get_booking(conn, booking_id)
        return _action_out.dump({**result, "affected": len(targets)})

    # check-in and release

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        self.release_no_shows()

    @rpc
    def release_no_shows(self):
        """Release the members' bookings nobody checked in to in time; each is a strike."""
        with self.db.transaction() as conn:
            due = store.due_for_release(conn)
            for booking in due:
                store.set_status(conn, booking["id"], domain.RELEASED, "not checked in")
                store.add_strike(conn, booking)
            rows = store.bookings_by_id(conn, [b["id"] for b in due])
            self._tell_each(conn, "booking_released", rows, "not checked in: the room was released",
                            domain.NO_SHOW)
        return {"released": len(due)}

    # other services

    @rpc(expected_exceptions=EXPECTED)
    def reserve_series(self, holder, room_id, occurrences, title, replaces=None):
        """Book every occurrence, confirmed, for another service's holder; all or nothing. Again for
        the same holder: its existing bookings.

        `replaces` (a holder, or a list of them, of the same service): their future bookings are
        released in the same transaction, so a course moving to a new timetable or room may take
        times its old bookings hold; a clash refuses it all and the old bookings stand."""
        try:
            holder = domain.holder_key(holder)
            if replaces is None:
                replaces = []
            old = [domain.holder_key(h) for h in (replaces if isinstance(replaces, list) else [replaces])]
        except domain.RuleError as exc:
            raise _rule_error(exc) from None
        if holder[0] == MEMBERS:
            raise Invalid("holder service 'members' is reserved", "validation-failed", {"holder": ["bad service"]})
        if any(h[0] != holder[0] for h in old):
            raise Invalid("a holder replaces only holders of its own service", "validation-failed",
                          {"replaces": ["must name holders of the same service"]})
        old = [h for h in old if h != holder]
        request = load(_reserve_in, {"room_id": room_id, "occurrences": occurrences, "title": title})
        labels = [o["starts_at"] for o in occurrences]
        order = sorted(range(len(labels)), key=lambda i: request["occurrences"][i]["starts_at"])
        wanted = []
        for n, i in enumerate(order):
            o = request["occurrences"][i]
            try:
                domain.check_span(o["starts_at"], o["ends_at"])
            except domain.RuleError:
                raise Invalid("an occurrence ends before it starts", "validation-failed",
                              {"occurrences": {str(i): {"ends_at": ["must be after starts_at"]}}}) from None
            if n and o["starts_at"] < request["occurrences"][order[n - 1]]["ends_at"]:
                raise Invalid("two occurrences overlap", "validation-failed",
                              {"occurrences": {str(i): ["overlaps another occurrence"]}})
            wanted.append(domain.Occurrence(o["starts_at"], o["ends_at"]))
        with self.db.transaction() as conn:
            for key in sorted({holder, *old}):  # one order, so two swaps never wait on each other
                store.lock_key(conn, f"holder:{key[0]}:{key[1]}")
            existing = store.live_holder_series(conn, holder)
            if existing:
                return {"bookings": _booking_out.dump(existing, many=True)}
            room = store.room_for_booking(conn, request["room_id"])
            why = f"replaced by {holder[0]}"
            released = [r for h in old for r in store.release_holder(conn, h)]
            for row in released:  # freed first: the new series may take their times
                store.set_status(conn, row["id"], domain.CANCELLED, why)
            series_id = store.create_series(conn, room["id"], request["title"], holder, None)
            booked, _ = self._book(conn, room, wanted, title=request["title"], holder=holder, member_id=None,
                                   club_id=None, status=domain.CONFIRMED, skip=False, series_id=series_id,
                                   member_rules=False, labels=[labels[i] for i in order])
            rows = store.bookings_by_id(conn, booked)
            self._tell(conn, "booking_confirmed", rows)
            self._tell_each(conn, "booking_cancelled", store.bookings_by_id(conn, [r["id"] for r in released]), why,
                            domain.REPLACED)
        return {"bookings": _booking_out.dump(rows, many=True),
                "released": [str(r["id"]) for r in released]}

    @rpc(expected_exceptions=EXPECTED)
    def release_series(self, holder, reason=None):
        """Cancel the holder's future bookings; nothing to cancel is not an error."""
        try:
            holder = domain.holder_key(holder)
        except domain.RuleError as exc:
            raise _rule_error(exc) from None
        why = str(reason)[:500] if reason else f"released by {holder[0]}"
        with self.db.transaction() as conn:
            store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
            rows = store.release_holder(conn, holder)
            for row in rows:
                store.set_status(conn, row["id"], domain.CANCELLED, why)
            rows = store.bookings_by_id(conn, [r["id"] for r in rows])
            self._tell_each(conn, "booking_cancelled", rows, why, domain.RELEASED_BY_HOLDER, reason and why)
        return {"cancelled": len(rows), "booking_ids": [str(r["id"]) for r in rows]}

    # closed accounts

    @reliable_handler("gateway", "account_closed")
    def on_account_closed(self, conn, event):
        """A closed account: its bookings still to come are cancelled (the rooms go back to others),
        then what is about the person is erased (store.erase_member); remembered, so no later
        booking brings them back. The bookings they made for a club they lead stay: the choir still
        rehearses; a venue manager names its new leader (edit_club), who then sees and handles them."""
        try:
            member_id = str(uuid.UUID(str(event["payload"].get("member_id"))))
        except ValueError:
            log.warning("account_closed %s without a member id: ignored", event["event_id"])
            return
        holder = (MEMBERS, member_id)
        store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
        store.remember_closed(conn, member_id)
        ending = store.release_holder(conn, holder, clubs=False)
        for row in ending:
            store.set_status(conn, row["id"], domain.CANCELLED, CLOSED_REASON)
        store.erase_member(conn, holder)  # before the events, which carry the titles
        rows = store.bookings_by_id(conn, [r["id"] for r in ending])
        self._tell_each(conn, "booking_cancelled", rows, CLOSED_REASON, domain.CANCELLED_BY_HOLDER)

    # closures

    @rpc(expected_exceptions=EXPECTED)
    def close(self, data):
        """Close a room (its parts and the whole it belongs to with it) or a whole site for a
        period: its bookings then are cancelled and their holders told."""
        self.caller.require(*MANAGERS)
        request = load(_closure_in, data)
        with self.db.transaction() as conn:
            site_id = (store.get_site(conn, request["site_id"])["id"] if request.get("site_id")
                       else store.room_for_booking(conn, request["room_id"])["site_id"])
            closure = {"room_id": None, **request, "site_id": site_id,
                       "id": store.add_closure(conn, request, site_id, self.caller.id)}
            cancelled = self._enforce_closure(conn, closure)
        return _closure_out.dump({**closure, "cancelled": cancelled})

    @rpc(expected_exceptions=EXPECTED)
    def edit_closure(self, closure_id, data):
        """Change a closure's period or reason: the bookings it now covers are cancelled and their
        holders told, as a new closure would; those it no longer covers stay cancelled."""
        self.caller.require(*MANAGERS)
        closure_id = object_id(closure_id, "closure")
        changes = load(_closure_edit, data)
        with self.db.transaction() as conn:
            closure = {**store.closure_for_update(conn, closure_id), **changes}
            if closure["ends_at"] <= closure["starts_at"]:
                field = "ends_at" if "ends_at" in changes else "starts_at"
                raise Invalid("the closure would end before it starts", "validation-failed",
                              {field: ["must be after starts_at" if field == "ends_at" else "must be before ends_at"]})
            store.update_closure(conn, closure_id, closure["starts_at"], closure["ends_at"], closure["reason"])
            cancelled = self._enforce_closure(conn, closure)
        return _closure_out.dump({**closure, "cancelled": cancelled})

    def _enforce_closure(self, conn, closure):
        """Cancel the live bookings the closure covers (in its room, the room's parts and the whole it
        belongs to, or anywhere on its site), tell their holders and publish room_closed; returns how many."""
        site = store.get_site(conn, closure["site_id"])
        room_name, room_ids = None, None
        if closure["room_id"]:
            room = store.room_for_booking(conn, closure["room_id"])
            room_name, room_ids = room["name"], [room["id"], *room["parts"], *filter(None, [room["parent_id"]])]
        hit = store.bookings_in_closure(conn, site["id"], room_ids, closure["starts_at"], closure["ends_at"])
        why = f"closed: {closure['reason']}"
        for booking in hit:
            store.set_status(conn, booking["id"], domain.CANCELLED, why, self.caller.id)
        rows = store.bookings_by_id(conn, [b["id"] for b in hit])
        self._tell_each(conn, "booking_cancelled", rows, why, domain.ROOM_CLOSED, closure["reason"])
        self.outbox(conn, "room_closed", _closed_event.dump({
            "closure_id": closure["id"], "site_id": site["id"], "site_name": site["name"],
            "room_id": closure["room_id"], "room_name": room_name, "starts_at": _iso(closure["starts_at"]),
            "ends_at": _iso(closure["ends_at"]), "reason": closure["reason"], "cancelled": len(rows),
            "member_ids": sorted({r["member_id"] for r in rows if r["member_id"]}, key=str)}))
        return len(rows)

    @rpc(expected_exceptions=EXPECTED)
    def list_closures(self, site_id=None, room_id=None, starts_from=None, starts_before=None, limit=50, offset=0,
                      with_total=False):
        """A site's closures, or a room's (its own, its whole's or parts', and its site's whole-site ones), or
        with neither every site's."""
        self.caller.require(*MANAGERS)
        filters = load(_closure_filter, {k: v for k, v in {
            "site_id": site_id, "room_id": room_id, "starts_from": starts_from,
            "starts_before": starts_before}.items() if v is not None})
        with self.db.transaction() as conn:
            site_id, room_ids = None, None
            if filters.get("room_id"):
                room = store.room_for_booking(conn, filters["room_id"])
                site_id, room_ids = room["site_id"], [room["id"], *room["parts"], *filter(None, [room["parent_id"]])]
            elif filters.get("site_id"):
                site_id = store.get_site(conn, filters["site_id"])["id"]
            rows = store.list_closures(conn, site_id, room_ids, filters.get("starts_from"),
                                       filters.get("starts_before"), *page(limit, offset))
        return listed(_closure_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def reopen(self, closure_id):
        """Take a closure away: its rooms may be booked again (the bookings it cancelled stay cancelled)."""
        self.caller.require(*MANAGERS)
        closure_id = object_id(closure_id, "closure")
        with self.db.transaction() as conn:
            return _closure_out.dump(store.delete_closure(conn, closure_id))

    # search, feeds, figures

    @rpc(expected_exceptions=EXPECTED)
    def availability(self, query, with_total=False):
        q = load(_avail_in, query)
        with self.db.transaction() as conn:
            rows = store.available_rooms(conn, q, self.caller.roles or {MEMBER}, self._manager)
        return listed(_room_out.dump(rows, many=True), rows, with_total)

    @rpc(expected_exceptions=EXPECTED)
    def room_calendar(self, room_id):
        room_id = object_id(room_id, "room")
        with self.db.transaction() as conn:
            room = store.get_room(conn, room_id)
            rows = store.room_feed(conn, room_id, datetime.now(timezone.utc) - timedelta(days=31))
        return ical.feed(f"{room['name']} · {room['site_name']}", rows, public=True)

    @rpc(expected_exceptions=EXPECTED)
    def my_calendar(self):
        """The calling member's live bookings (theirs and their clubs') as an iCalendar feed."""
        self.caller.require()
        with self.db.transaction() as conn:
            rows = self._feed_rows(conn, (MEMBERS, self.caller.id))
        return ical.feed("My room bookings", rows)

    @staticmethod
    def _feed_rows(conn, holder):
        """A member's feed holds what their booking list holds (their clubs' bookings too, whoever made
        them); another holder's, its own bookings. From a month back, so last week stays in view."""
        since = datetime.now(timezone.utc) - timedelta(days=31)
        if holder[0] == MEMBERS:
            return store.member_feed(conn, holder[1], since)
        return store.holder_feed(conn, holder, since)

    @rpc(expected_exceptions=EXPECTED)
    def issue_calendar_feed(self):
        """A new secret feed address for the caller's bookings; the one before stops working."""
        self.caller.require()
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            created = store.set_feed_token(conn, (MEMBERS, self.caller.id), _digest(token))
        return _feed_out.dump({"active": True, "token": token, "url": None, "created_at": created})

    @rpc(expected_exceptions=EXPECTED)
    def switch_off_calendar_feed(self):
        """The caller's feed address stops working, with nothing in its place (none already: nothing to do)."""
        self.caller.require()
        with self.db.transaction() as conn:
            store.drop_feed_token(conn, (MEMBERS, self.caller.id))
        return None

    @rpc(expected_exceptions=EXPECTED)
    def calendar_feed_status(self):
        """Whether the caller has a feed address, and since when (the address itself is not kept)."""
        self.caller.require()
        with self.db.transaction() as conn:
            row = store.feed_of(conn, (MEMBERS, self.caller.id))
        return _feed_out.dump({"active": row is not None, "token": None, "url": None,
                               "created_at": row["created_at"] if row else None})

    @staticmethod
    def _feed_holder(conn, token):
        """The holder a feed token belongs to; an unknown or replaced token is a 404."""
        if not isinstance(token, str) or not FEED_TOKEN.fullmatch(token):
            raise NotFound("no such calendar feed", "feed-not-found")
        return store.feed_holder(conn, _digest(token))

    @rpc(expected_exceptions=EXPECTED)
    def feed_member(self, token):
        """The member a feed token belongs to (None for another holder's feed), for the gateway to add
        their class sessions; an unknown or replaced token is a 404."""
        with self.db.transaction() as conn:
            service, reference = self._feed_holder(conn, token)
        return str(reference) if service == MEMBERS else None

    @rpc(expected_exceptions=EXPECTED)
    def feed_calendar(self, token, classes=None):
        """The bookings of the holder a feed token belongs to, with `classes` (the member's class sessions
        as enrolment's my_sessions tells them) beside them, each placed in its room where there is one."""
        with self.db.transaction() as conn:
            rows = self._feed_rows(conn, self._feed_holder(conn, token))
            rooms = store.rooms_by_id(conn, {c["room_id"] for c in classes or () if UUID.fullmatch(str(c.get("room_id")))})
        return ical.feed("My room bookings", rows, classes=classes or (), rooms=rooms)

    @rpc(expected_exceptions=EXPECTED)
    def utilisation(self, site_id=None, days=28, first_day=None):
        """Per room (and so per site): hours booked, bookings and no-shows over the last `days` days (or the
        `days` days from first_day, a home-zone date, on), and the share of the room's own open hours
        (opening hours, make-up days, closures) that was booked."""
        self.caller.require(*MANAGERS)
        site_id = object_id(site_id, "site") if site_id else None
        if not isinstance(days, int) or not 1 <= days <= 366:
            raise Invalid("bad days", "validation-failed", {"days": ["must be 1 to 366"]})
        with self.db.transaction() as conn:
            end = store.now(conn)
            if first_day is not None:
                end = datetime.combine(_first_day(first_day), time(), HOME_ZONE) + timedelta(days=days)
            start = end - timedelta(days=days)
            rows = store.utilisation(conn, start, end, site_id)
            open_hours = store.open_hours_by_room(conn, start, end, site_id)
        return _utilisation_out.dump([_share(r, open_hours.get(r["room_id"], 0.0)) for r in rows], many=True)

    @rpc
    def stats(self):
        with self.db.transaction() as conn:
            return store.stats(conn)

    # the yearly report

    @rpc(expected_exceptions=EXPECTED)
    def report_figures(self, since, until, by=None):
        """Rooms' figures over [since, until) for GET /v1/reports/summary: bookings held, their hours,
        and utilisation (booked hours over the hours the rooms stood open: their opening hours, less
        what closures took)."""
        self.caller.require(*STAFF)
        start, end = reports.checked(since, until, by)
        keyed = by in ("month", *store.REPORT_KEYS)
        first, last = domain.local(start).date(), domain.local(end - timedelta(microseconds=1)).date()
        with self.db.transaction() as conn:
            reports.plain_plans(conn)
            booked = reports.collect(store.report_bookings(conn, start, end, by), ("bookings", "booked_hours"),
                                     keyed, lambda name, v: int(v) if name == "bookings" else round(float(v), 2))
            opened = reports.collect(store.report_open_hours(conn, first, last, by), ("open_hours",), keyed,
                                     lambda name, v: float(v))["open_hours"]
            closed = reports.collect(store.report_closed_hours(conn, start, end, by), ("closed_hours",), keyed,
                                     lambda name, v: float(v))["closed_hours"]
            labels = store.report_site_names(conn) if by == "site" else {}
        figures = {**booked, "utilisation": {
            "total": _ratio(booked["booked_hours"]["total"], opened["total"] - closed["total"]),
            "groups": None if not keyed else {
                k: _ratio(booked["booked_hours"]["groups"].get(k, 0.0), hours - closed["groups"].get(k, 0.0))
                for k, hours in opened["groups"].items()},
            "not_applicable": None}}
        if by is not None and not keyed:
            reports.not_applicable(figures, f"room bookings are not recorded by {by}")
        return {"figures": figures, "labels": labels}


def _first_day(value):
    """A period's first day (YYYY-MM-DD), far enough from the ends of time for a year after it."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not fields_min.date() <= day <= (fields_max - timedelta(days=367)).date():
        raise Invalid("bad from", "validation-failed", {"from": ["must be a date, YYYY-MM-DD, from 1970 to 9998"]})
    return day


def _ratio(booked, open_hours):
    return round(booked / open_hours, 4) if open_hours else None
