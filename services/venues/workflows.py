"""Venues' use cases, out of the nameko class (STYLE.md, "use cases out of the nameko classes"):
functions of what they need (the transaction's `conn`, the `outbox` that tells, the `caller` or just
who acts), called by service.py's entrypoints once they have parsed the input, checked the caller and
opened the transaction. Here too: how occurrences are booked (all or nothing, or the free ones) and
how an event tells the bookings of one request. Pure rules are domain.py's, SQL store.py's."""
import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from services.common import closed_accounts
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.fields import EARLIEST as fields_min
from services.common.fields import LATEST as fields_max
from services.common.roles import MANAGERS
from services.venues import domain, events, schemas, store

MEMBERS = "members"  # the holder service of the members' own bookings
FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
CLOSED_REASON = "the member's account was closed"

_booking_in = schemas.BookingCreateSchema()
_booking_event, _closed_event = events.BookingEventSchema(), events.RoomClosedSchema()


def rule_error(exc):
    return Invalid(exc.detail, "validation-failed", exc.errors)


def when(moment):
    return domain.local(moment).strftime("%Y-%m-%d %H:%M")


def iso(moment):
    return domain.local(moment).isoformat()


# who may do what

def visible(caller, booking):
    """Staff see every booking; a member their own and their club's (when they lead it)."""
    mine = {str(booking["member_id"] or ""), str(booking["club_leader_id"] or "")}
    if not caller.has(*MANAGERS) and (caller.id or "-") not in mine:
        # a member may not learn that someone else's booking exists
        raise NotFound(f"booking {booking['id']} does not exist", "booking-not-found")


def club_for(conn, caller, club_id):
    """The club a booking is made for: its leader and staff may book for it, nobody else."""
    if club_id is None:
        return None
    club = store.get_club(conn, club_id, field="club_id")
    if not caller.has(*MANAGERS) and str(club["leader_id"]) != caller.id:
        raise Forbidden(f"only the leader of {club['name']} or a venue manager may book for it",
                        "not-club-leader", {"club_id": ["you do not lead this club"]})
    return club["id"]


def open_holder(conn, holder):
    """Take the member's holder lock (a closed account's erasure takes it too, so one waits for
    the other) and refuse a closed account."""
    store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
    if closed_accounts.is_closed(conn, holder[1]):
        raise NotFound("this member's account is closed", "account-closed")


def suspended(conn, room, holder):
    """Refused when the holder's no-shows (in any room) reach this room's limit."""
    days = room["no_show_days"]
    strikes = store.recent_strikes(conn, holder, store.now(conn) - timedelta(days=days))
    if strikes >= room["no_show_limit"]:
        raise Forbidden(f"{strikes} bookings were not checked in within {days} days: booking "
                        f"{room['name']} is suspended", "too-many-no-shows")


# booking occurrences

def expand(conn, data):
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
        raise rule_error(exc) from None
    except OverflowError:
        raise Invalid("the series runs past the year 9999", "validation-failed",
                      {"recurrence": ["ends after the last date we can store"]}) from None


def book(conn, room, occurrences, *, actor, title, holder, member_id, club_id, status, skip, series_id,
         member_rules, labels=None):
    """Insert the occurrences; a clash fails the whole request unless `skip`. Returns the new
    booking ids and the (occurrence, reason) pairs left out."""
    skipped = [(o, o.skipped) for o in occurrences if o.skipped]
    candidates = [o for o in occurrences if not o.skipped]
    if not candidates:
        raise Invalid("the rule leaves no occurrence to book", "validation-failed",
                      {"recurrence": ["every occurrence falls on a holiday or an exception"]})
    problems = closed_at(conn, room, candidates)
    if member_rules:
        check_member_rules(conn, room, candidates, member_id, club_id, problems)
    store.lock_room(conn, room)
    for i, why in store.clashes(conn, room, candidates).items():
        problems.setdefault(i, why)
    label = (lambda i: labels[i]) if labels else (lambda i: iso(candidates[i].starts_at))
    if problems and not skip:
        refuse(candidates, problems, label)
    booked = []
    for i, occ in enumerate(candidates):
        if i in problems:
            skipped.append((occ, problems[i]))
            continue
        try:
            booked.append(store.insert_booking(conn, room, occ, status, title, holder, member_id, club_id,
                                               actor, series_id, i + 1 if series_id else None))
        except store.Taken:
            problems[i] = "taken: the room was booked by someone else a moment ago"
            if not skip:
                refuse(candidates, problems, label)
            skipped.append((occ, problems[i]))
    if not booked:
        refuse(candidates, problems, label)
    skipped.sort(key=lambda s: s[0].starts_at)
    return booked, skipped


def closed_at(conn, room, occurrences):
    """{index: why} for the occurrences (in time order) outside the room's opening hours, on the
    holiday calendar: a new booking and a moved one are checked alike."""
    calendar = store.calendar_between(conn, domain.local(occurrences[0].starts_at).date(),
                                      domain.local(occurrences[-1].starts_at).date())
    problems = {}
    for i, occ in enumerate(occurrences):
        why = domain.opening_problem(room["opening_hours"], occ.starts_at, occ.ends_at, calendar)
        if why:
            problems[i] = why
    return problems


def check_member_rules(conn, room, candidates, member_id, club_id, problems):
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


def refuse(candidates, problems, label):
    clashes = sorted(problems)
    named = "; ".join(f"{when(candidates[i].starts_at)} ({problems[i]})" for i in clashes[:20])
    more = f" and {len(clashes) - 20} more" if len(clashes) > 20 else ""
    if len(candidates) == 1:
        detail = f"the room cannot be booked at {named}"
    else:
        detail = f"{len(clashes)} of {len(candidates)} occurrences cannot be booked: {named}{more}; nothing was booked"
    raise Conflict(detail, "booking-conflict", {"occurrences": [label(i) for i in clashes],
                                                "reasons": [problems[i] for i in clashes]})


# telling

def tell(conn, outbox, event_type, rows, reason=None, cause=None, note=None):
    """One event for the bookings of one request (a series is one event listing all); an ending
    (cancelled, released) names its `cause` and the `note` its author gave, if any."""
    if not rows:
        return
    first = rows[0]
    outbox(conn, event_type, _booking_event.dump({
        "booking_id": first["id"], "booking_ids": [r["id"] for r in rows], "series_id": first["series_id"],
        "room_id": first["room_id"], "room_name": first["room_name"], "site_id": first["site_id"],
        "site_name": first["site_name"], "title": first["title"], "status": first["status"],
        "starts_at": iso(first["starts_at"]), "ends_at": iso(first["ends_at"]), "occurrences": len(rows),
        "holder_service": first["holder_service"], "holder_reference": first["holder_reference"],
        "member_id": first["member_id"], "reason": reason if reason is not None else first["reason"],
        "cause": cause, "note": note or None}))


def tell_each(conn, outbox, event_type, rows, reason=None, cause=None, note=None):
    for row in rows:
        tell(conn, outbox, event_type, [row], reason, cause, note)


# a member's bookings

def create_booking(conn, outbox, caller, request):
    """A booking, or a series of them, for the calling member (or the club they lead): all of it, or with
    skip_conflicts the free occurrences. Answers the bookings made and the (occurrence, reason) pairs
    left out."""
    manager = caller.has(*MANAGERS)
    holder = (MEMBERS, caller.id)
    open_holder(conn, holder)
    room = store.room_for_booking(conn, request["room_id"])
    if not manager and not caller.roles.intersection(room["bookable_by"]):
        raise Forbidden(f"{room['name']} can be booked by: {', '.join(room['bookable_by'])}",
                        "room-not-bookable")
    club_id = club_for(conn, caller, request.get("club_id"))
    occurrences = expand(conn, request)
    if not manager:
        suspended(conn, room, holder)  # the room's own limit, over the no-shows in any room
    status = domain.initial_status(room["requires_approval"], manager, by_service=False)
    series_id = None
    if request.get("recurrence"):
        rule = _booking_in.dump(request)["recurrence"]
        series_id = store.create_series(conn, room["id"], request["title"], holder, rule)
    booked, skipped = book(
        conn, room, occurrences, actor=caller.id, title=request["title"], holder=holder, member_id=caller.id,
        club_id=club_id, status=status, skip=request["skip_conflicts"], series_id=series_id,
        member_rules=not manager)
    rows = store.bookings_by_id(conn, booked)
    tell(conn, outbox, domain.EVENT_FOR[status], rows)
    return rows, skipped


def act(conn, outbox, caller, booking_id, action, request):
    """approve / reject (managers), cancel (its member or a manager; scope one, following,
    series), checkin (its member or a manager, inside the check-in window). Answers the booking as
    it is after, with how many bookings changed (`affected`)."""
    booking = store.get_booking(conn, booking_id, lock=True)
    visible(caller, booking)
    if action in ("approve", "reject"):
        caller.require(*MANAGERS)
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
        store.set_status(conn, target["id"], new, reason, caller.id, checked_in=action == "checkin")
        changed.append(target["id"])
    rows = store.bookings_by_id(conn, changed)
    if new in domain.EVENT_FOR:
        if new == domain.CANCELLED:
            if str(booking["member_id"] or "") == (caller.id or "-"):
                cause, default = domain.CANCELLED_BY_HOLDER, "cancelled by its holder"
            else:
                cause, default = domain.CANCELLED_BY_MANAGER, "cancelled by the venue manager"
            tell_each(conn, outbox, "booking_cancelled", rows, reason or default, cause, reason)
        else:
            tell(conn, outbox, domain.EVENT_FOR[new], rows, reason)
    result = store.get_booking(conn, booking_id)
    return {**result, "affected": len(changed)}


def edit_booking(conn, outbox, caller, booking_id, request):
    """Move or retitle one occurrence, this and the following ones, or the whole series: a new
    time shifts every occurrence in scope by the same amount; all of them move or none. Answers the
    booking as it is after, with how many bookings changed (`affected`)."""
    booking = store.get_booking(conn, booking_id, lock=True)
    visible(caller, booking)
    if booking["status"] not in domain.LIVE:
        raise Conflict(f"a {booking['status']} booking cannot be changed", "wrong-status")
    room = store.room_for_booking(conn, booking["room_id"])
    store.lock_room(conn, room)
    targets = store.series_scope(conn, booking, request["scope"])
    if "starts_at" not in request and "title" not in request:
        return {**booking, "affected": 0}
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
    member_rules = bool(shift or length) and not caller.has(*MANAGERS) and booking["holder_service"] == MEMBERS
    status_after = {t["id"]: t["status"] for t in targets}
    if shift or length:
        if member_rules:
            suspended(conn, room, (MEMBERS, booking["holder_reference"]))
        problems = closed_at(conn, room, moved)
        # the bookings being moved do not clash with themselves, nor count against their own
        # quota: free them first
        for t in targets:
            store.set_status(conn, t["id"], domain.CANCELLED)
        if member_rules:
            check_member_rules(conn, room, moved, booking["member_id"], booking["club_id"], problems)
        for i, why in store.clashes(conn, room, moved).items():
            problems.setdefault(i, why)
        if problems:
            refuse(moved, problems, lambda i: iso(moved[i].starts_at))
        if member_rules and room["requires_approval"]:
            status_after = {t["id"]: domain.PENDING for t in targets}
        for t in targets:
            store.set_status(conn, t["id"], status_after[t["id"]])
    for t, occ in zip(targets, moved):
        try:
            store.move_booking(conn, t, room, occ.starts_at, occ.ends_at, request.get("title", t["title"]))
        except store.Taken:
            raise Conflict(f"the room is taken at {when(occ.starts_at)}", "booking-conflict",
                           {"occurrences": [iso(occ.starts_at)]}) from None
    rows = store.bookings_by_id(conn, [t["id"] for t in targets])
    pending = status_after[booking["id"]] == domain.PENDING
    tell(conn, outbox, "booking_pending" if pending else "booking_confirmed", rows, "changed")
    result = store.get_booking(conn, booking_id)
    return {**result, "affected": len(targets)}


# other services' series, and the no-shows

def reserve_series(conn, outbox, actor, holder, old, request, wanted, labels):
    """Book `wanted` (occurrences in time order, `labels` naming them as the caller sent them),
    confirmed, for another service's `holder`: all or nothing. The future bookings of the `old`
    holders are released first, so the new series may take their times; a clash refuses it all and
    they stand. Answers the bookings and those released, or for a holder booked before its existing
    bookings and None."""
    for key in sorted({holder, *old}):  # one order, so two swaps never wait on each other
        store.lock_key(conn, f"holder:{key[0]}:{key[1]}")
    existing = store.live_holder_series(conn, holder)
    if existing:
        return existing, None
    room = store.room_for_booking(conn, request["room_id"])
    why = f"replaced by {holder[0]}"
    released = [r for h in old for r in store.release_holder(conn, h)]
    for row in released:  # freed first: the new series may take their times
        store.set_status(conn, row["id"], domain.CANCELLED, why)
    series_id = store.create_series(conn, room["id"], request["title"], holder, None)
    booked, _ = book(conn, room, wanted, actor=actor, title=request["title"], holder=holder, member_id=None,
                     club_id=None, status=domain.CONFIRMED, skip=False, series_id=series_id,
                     member_rules=False, labels=labels)
    rows = store.bookings_by_id(conn, booked)
    tell(conn, outbox, "booking_confirmed", rows)
    tell_each(conn, outbox, "booking_cancelled", store.bookings_by_id(conn, [r["id"] for r in released]), why,
              domain.REPLACED)
    return rows, released


def release_series(conn, outbox, holder, reason=None):
    """Cancel the holder's future bookings, telling each; nothing to cancel is not an error. Answers
    the bookings cancelled."""
    why = str(reason)[:500] if reason else f"released by {holder[0]}"
    store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
    rows = store.release_holder(conn, holder)
    for row in rows:
        store.set_status(conn, row["id"], domain.CANCELLED, why)
    rows = store.bookings_by_id(conn, [r["id"] for r in rows])
    tell_each(conn, outbox, "booking_cancelled", rows, why, domain.RELEASED_BY_HOLDER, reason and why)
    return rows


def release_no_shows(conn, outbox):
    """Release the members' bookings nobody checked in to in time; each is a strike. Answers how many."""
    due = store.due_for_release(conn)
    for booking in due:
        store.set_status(conn, booking["id"], domain.RELEASED, "not checked in")
        store.add_strike(conn, booking)
    rows = store.bookings_by_id(conn, [b["id"] for b in due])
    tell_each(conn, outbox, "booking_released", rows, "not checked in: the room was released", domain.NO_SHOW)
    return len(due)


# closures

def close(conn, outbox, actor, request):
    """Close a room (its parts and the whole it belongs to with it) or a whole site for a period: its
    bookings then are cancelled and their holders told. Answers the closure, with how many it cancelled."""
    site_id = (store.get_site(conn, request["site_id"])["id"] if request.get("site_id")
               else store.room_for_booking(conn, request["room_id"])["site_id"])
    closure = {"room_id": None, **request, "site_id": site_id,
               "id": store.add_closure(conn, request, site_id, actor)}
    cancelled = enforce_closure(conn, outbox, actor, closure)
    return {**closure, "cancelled": cancelled}


def edit_closure(conn, outbox, actor, closure_id, changes):
    """Change a closure's period or reason: the bookings it now covers are cancelled and their
    holders told, as a new closure would; those it no longer covers stay cancelled. Answers the
    closure, with how many it cancelled."""
    closure = {**store.closure_for_update(conn, closure_id), **changes}
    if closure["ends_at"] <= closure["starts_at"]:
        field = "ends_at" if "ends_at" in changes else "starts_at"
        raise Invalid("the closure would end before it starts", "validation-failed",
                      {field: ["must be after starts_at" if field == "ends_at" else "must be before ends_at"]})
    store.update_closure(conn, closure_id, closure["starts_at"], closure["ends_at"], closure["reason"])
    cancelled = enforce_closure(conn, outbox, actor, closure)
    return {**closure, "cancelled": cancelled}


def enforce_closure(conn, outbox, actor, closure):
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
        store.set_status(conn, booking["id"], domain.CANCELLED, why, actor)
    rows = store.bookings_by_id(conn, [b["id"] for b in hit])
    tell_each(conn, outbox, "booking_cancelled", rows, why, domain.ROOM_CLOSED, closure["reason"])
    outbox(conn, "room_closed", _closed_event.dump({
        "closure_id": closure["id"], "site_id": site["id"], "site_name": site["name"],
        "room_id": closure["room_id"], "room_name": room_name, "starts_at": iso(closure["starts_at"]),
        "ends_at": iso(closure["ends_at"]), "reason": closure["reason"], "cancelled": len(rows),
        "member_ids": sorted({r["member_id"] for r in rows if r["member_id"]}, key=str)}))
    return len(rows)


# closed accounts

def close_member(conn, outbox, member_id):
    """A closed account: its bookings still to come are cancelled (the rooms go back to others),
    then what is about the person is erased (store.erase_member); remembered, so no later
    booking brings them back. The bookings they made for a club they lead stay: the choir still
    rehearses; a venue manager names its new leader (edit_club), who then sees and handles them."""
    holder = (MEMBERS, member_id)
    store.lock_key(conn, f"holder:{holder[0]}:{holder[1]}")
    closed_accounts.remember(conn, member_id)
    ending = store.release_holder(conn, holder, clubs=False)
    for row in ending:
        store.set_status(conn, row["id"], domain.CANCELLED, CLOSED_REASON)
    store.erase_member(conn, holder)  # before the events, which carry the titles
    rows = store.bookings_by_id(conn, [r["id"] for r in ending])
    tell_each(conn, outbox, "booking_cancelled", rows, CLOSED_REASON, domain.CANCELLED_BY_HOLDER)


# calendar feeds

def _digest(token):
    return hashlib.sha256(token.encode()).digest()


def issue_feed(conn, holder):
    """A new secret feed address for the holder's bookings; the one before stops working. Answers
    the token (only its digest is kept) and when it was made."""
    token = secrets.token_urlsafe(32)
    return token, store.set_feed_token(conn, holder, _digest(token))


def feed_holder(conn, token):
    """The holder a feed token belongs to; an unknown or replaced token is a 404."""
    if not isinstance(token, str) or not FEED_TOKEN.fullmatch(token):
        raise NotFound("no such calendar feed", "feed-not-found")
    return store.feed_holder(conn, _digest(token))


def feed_rows(conn, holder):
    """A member's feed holds what their booking list holds (their clubs' bookings too, whoever made
    them); another holder's, its own bookings. From a month back, so last week stays in view."""
    since = datetime.now(timezone.utc) - timedelta(days=31)
    if holder[0] == MEMBERS:
        return store.member_feed(conn, holder[1], since)
    return store.holder_feed(conn, holder, since)
