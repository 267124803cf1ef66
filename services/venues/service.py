"""The venues service's nameko entrypoints: sites, rooms, the holiday calendar, bookings and
series, approvals, check-in and release, closures, availability, feeds and figures. Each parses the
input, checks the caller, opens the transaction, calls the use case (workflows.py) and dumps the answer."""
import logging
import re
from datetime import date, datetime, time, timedelta, timezone

from nameko.timer import timer

from services.common import config, reports
from services.common.context import CallerProvider
from services.common.db import Database
from services.common.errors import EXPECTED, Invalid, NotFound
from services.common.events import closed_member
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
from services.venues import domain, ical, schemas, store, workflows
from services.venues.holidays import ShippedCalendar
from services.venues.workflows import MEMBERS

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SWEEP_SECONDS = float(config.env("PALACE_VENUES_SWEEP_SECONDS"))
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
_utilisation_out = schemas.UtilisationSchema()
_feed_out = schemas.CalendarFeedSchema()


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

    # bookings

    @rpc(expected_exceptions=EXPECTED)
    def create_booking(self, data):
        """A booking, or a series of them, for the calling member (or the club they lead): all of it, or with
        skip_conflicts the free occurrences and a report of the others (workflows.create_booking)."""
        self.caller.require()
        request = load(_booking_in, data)
        with self.db.transaction() as conn:
            rows, skipped = workflows.create_booking(conn, self.outbox, self.caller, request)
        return _result_out.dump({**rows[0], "bookings": rows, "skipped": [
            {"starts_at": o.starts_at, "ends_at": o.ends_at, "reason": r} for o, r in skipped]})

    @rpc(expected_exceptions=EXPECTED)
    def get_booking(self, booking_id):
        booking_id = object_id(booking_id, "booking")
        with self.db.transaction() as conn:
            booking = store.get_booking(conn, booking_id)
        workflows.visible(self.caller, booking)
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
        series), checkin (its member or a manager, inside the check-in window): workflows.act."""
        booking_id = object_id(booking_id, "booking")
        if action not in ("approve", "reject", "cancel", "checkin"):
            raise NotFound(f"no action {action}", "not-found")
        request = load(_action_in, data or {})
        with self.db.transaction() as conn:
            result = workflows.act(conn, self.outbox, self.caller, booking_id, action, request)
        return _action_out.dump(result)

    @rpc(expected_exceptions=EXPECTED)
    def edit_booking(self, booking_id, data):
        """Move or retitle one occurrence, this and the following ones, or the whole series
        (workflows.edit_booking)."""
        booking_id = object_id(booking_id, "booking")
        request = load(_edit_in, data)
        with self.db.transaction() as conn:
            result = workflows.edit_booking(conn, self.outbox, self.caller, booking_id, request)
        return _action_out.dump(result)

    # check-in and release

    @timer(interval=SWEEP_SECONDS)
    def sweep(self):
        self.release_no_shows()

    @rpc
    def release_no_shows(self):
        """Release the members' bookings nobody checked in to in time; each is a strike."""
        with self.db.transaction() as conn:
            released = workflows.release_no_shows(conn, self.outbox)
        return {"released": released}

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
            raise workflows.rule_error(exc) from None
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
            rows, released = workflows.reserve_series(conn, self.outbox, self.caller.id, holder, old, request, wanted,
                                                      [labels[i] for i in order])
        if released is None:  # the holder's series, booked before: the same answer again
            return {"bookings": _booking_out.dump(rows, many=True)}
        return {"bookings": _booking_out.dump(rows, many=True),
                "released": [str(r["id"]) for r in released]}

    @rpc(expected_exceptions=EXPECTED)
    def release_series(self, holder, reason=None):
        """Cancel the holder's future bookings; nothing to cancel is not an error."""
        try:
            holder = domain.holder_key(holder)
        except domain.RuleError as exc:
            raise workflows.rule_error(exc) from None
        with self.db.transaction() as conn:
            rows = workflows.release_series(conn, self.outbox, holder, reason)
        return {"cancelled": len(rows), "booking_ids": [str(r["id"]) for r in rows]}

    # closed accounts

    @reliable_handler("gateway", "account_closed")
    def on_account_closed(self, conn, event):
        """A closed account: its bookings still to come are cancelled and the person is erased
        (workflows.close_member)."""
        member_id = closed_member(event)
        if member_id is None:
            return
        workflows.close_member(conn, self.outbox, member_id)

    # closures

    @rpc(expected_exceptions=EXPECTED)
    def close(self, data):
        """Close a room (its parts and the whole it belongs to with it) or a whole site for a
        period: its bookings then are cancelled and their holders told (workflows.close)."""
        self.caller.require(*MANAGERS)
        request = load(_closure_in, data)
        with self.db.transaction() as conn:
            closure = workflows.close(conn, self.outbox, self.caller.id, request)
        return _closure_out.dump(closure)

    @rpc(expected_exceptions=EXPECTED)
    def edit_closure(self, closure_id, data):
        """Change a closure's period or reason: the bookings it now covers are cancelled and their
        holders told, as a new closure would (workflows.edit_closure)."""
        self.caller.require(*MANAGERS)
        closure_id = object_id(closure_id, "closure")
        changes = load(_closure_edit, data)
        with self.db.transaction() as conn:
            closure = workflows.edit_closure(conn, self.outbox, self.caller.id, closure_id, changes)
        return _closure_out.dump(closure)

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
            rows = workflows.feed_rows(conn, (MEMBERS, self.caller.id))
        return ical.feed("My room bookings", rows)

    @rpc(expected_exceptions=EXPECTED)
    def issue_calendar_feed(self):
        """A new secret feed address for the caller's bookings; the one before stops working."""
        self.caller.require()
        with self.db.transaction() as conn:
            token, created = workflows.issue_feed(conn, (MEMBERS, self.caller.id))
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

    @rpc(expected_exceptions=EXPECTED)
    def feed_member(self, token):
        """The member a feed token belongs to (None for another holder's feed), for the gateway to add
        their class sessions; an unknown or replaced token is a 404."""
        with self.db.transaction() as conn:
            service, reference = workflows.feed_holder(conn, token)
        return str(reference) if service == MEMBERS else None

    @rpc(expected_exceptions=EXPECTED)
    def feed_calendar(self, token, classes=None):
        """The bookings of the holder a feed token belongs to, with `classes` (the member's class sessions
        as enrolment's my_sessions tells them) beside them, each placed in its room where there is one."""
        with self.db.transaction() as conn:
            rows = workflows.feed_rows(conn, workflows.feed_holder(conn, token))
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
